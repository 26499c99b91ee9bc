//! Cache isolation: an answer cached for one user is never served to another. User A fills
//! the cache with every bearer GET of `/api/openapi.json` (lists in several pagings, orders
//! and filters, single objects, events, profile, stats, analytics, artifacts, contacts and
//! a job's contacts, interviews, tasks and rules, notes, the CSV export); user B then
//! asks for the very same paths: A's ids are 404, and B's answers are exactly what B gets
//! from the database once the cache is flushed, with nothing of A's in them. Run on the
//! in-process tier, and across two instances sharing a private `redis-server`, where A's
//! entries demonstrably come from Redis (`hit-l2`).

use super::{Holdings, operations};
use crate::helpers::{TestApp, User};
use serde_json::Value;

crate::on_both_backends!(cached_answers_are_never_served_to_another_user);

async fn cached_answers_are_never_served_to_another_user(app: TestApp) {
    check(&app, &app).await;
}

/// Answers written as they are read from the database, never from the cache.
const STREAMED: &[&str] = &["/api/export/jobs.csv"];

/// Every bearer GET of the document, lists with a few query strings each.
async fn paths(app: &TestApp) -> Vec<String> {
    let mut all = Vec::new();
    for op in operations(app).await {
        if op.method != axum::http::Method::GET || !op.secured_by("bearer") {
            continue;
        }
        all.push(op.path.clone());
        let params = op.query_params();
        if params.contains(&"limit".to_owned()) {
            for q in ["limit=1", "cursor=&limit=2", "cursor=&includeTotal=true"] {
                all.push(format!("{}?{q}", op.path));
            }
        }
        for param in &params {
            if let Some(value) = filter_value(&op.path, param) {
                all.push(format!("{}?{param}={value}", op.path));
            }
        }
    }
    assert!(all.len() >= 80, "{all:?}");
    all
}

/// A value of a list's filter that matches the fixtures (`None` for paging): one that both
/// users' answers hold something for, so that serving one's to the other would show.
fn filter_value(path: &str, param: &str) -> Option<&'static str> {
    Some(match (param, path) {
        ("page" | "cursor" | "limit" | "includeTotal", _) => return None,
        ("status", "/api/task-rules") => "offer",
        ("status", _) => "applied",
        ("q", "/api/contacts") => "recruiter",
        ("q", _) => "rust",
        ("sort", _) => "updated",
        ("kind", p) if p.contains("interviews") => "technical",
        ("kind", _) => "resume",
        ("tag", _) => "rust",
        ("role", _) => "recruiter",
        ("due", _) => "week",
        ("done", _) => "false",
        ("priority", _) => "medium",
        ("today", _) => return None,
        ("stale_days", _) => "1",
        ("job_id", _) => return None,
        _ => panic!("cache isolation: {path} takes `{param}`; teach `filter_value` a value"),
    })
}

/// A warms `warm`'s cache; B reads the same paths through `probe`. Returns how many of
/// A's answers `probe` served from Redis.
async fn check(warm: &TestApp, probe: &TestApp) -> usize {
    let a = warm.register("a@example.com").await;
    let b = warm.register("b@example.com").await;
    let mine = Holdings::create(warm, &a, "Alpha").await;
    let theirs = Holdings::create(warm, &b, "Beta").await;
    // A owns more than B, so that even answers without ids (stats) tell them apart.
    warm.create_job(
        &a,
        serde_json::json!({"title": "Alpha Go Engineer", "company": "Alpha", "status": "offer"}),
    )
    .await;
    let paths = paths(warm).await;
    let at = |h: &Holdings, p: &str| {
        if p.contains('{') {
            h.path(p)
        } else {
            p.to_owned()
        }
    };

    let (mut cached, mut from_redis) = (0, 0);
    for p in &paths {
        warm.get(&at(&mine, p), &a.token).await.assert_status(200);
        let again = warm.get(&at(&mine, p), &a.token).await;
        // The export is streamed from the database, never cached; it is checked below all
        // the same.
        cached += usize::from(again.cache().starts_with("hit") || STREAMED.contains(&p.as_str()));
        let other = probe.get(&at(&mine, p), &a.token).await;
        from_redis += usize::from(other.cache() == "hit-l2");
        assert_eq!(other.assert_status(200), again.assert_status(200), "{p}");
    }
    assert!(
        cached + 2 >= paths.len(),
        "{cached} of {} cached",
        paths.len()
    );

    let read = async |user: &User, p: &str| probe.get(p, &user.token).await;
    let mut seen = Vec::new();
    for p in &paths {
        if p.contains('{') {
            read(&b, &at(&mine, p)).await.assert_error(404, "not_found");
        }
        let r = read(&b, &at(&theirs, p)).await;
        seen.push((p, r.assert_status(200).clone()));
    }
    probe.state.cache.flush().await;
    for (p, body) in &seen {
        let truth = read(&b, &at(&theirs, p)).await;
        assert_eq!(truth.body, *body, "B was served something else at {p}");
        assert_no_trace_of(body, &a, &mine, p);
    }
    // And the other way round, now that B's answers are cached.
    for p in paths.iter().filter(|p| p.contains('{')) {
        read(&a, &at(&theirs, p))
            .await
            .assert_error(404, "not_found");
    }
    from_redis
}

#[track_caller]
fn assert_no_trace_of(body: &Value, user: &User, holdings: &Holdings, path: &str) {
    let text = body.to_string();
    let mut traces = vec![user.id.as_str(), "Alpha", "alpha@recruiting.example"];
    traces.extend(holdings.ids());
    for trace in traces {
        assert!(!text.contains(trace), "{path} holds A's {trace}: {text}");
    }
}

mod redis {
    use crate::helpers::TestApp;
    use crate::redis_server::RedisServer;
    use crate::shared_cache::app_on;
    use flowats_db::testing::TestDb;

    flowats_db::backend_tests!(cached_answers_are_never_shared_through_redis);

    async fn cached_answers_are_never_shared_through_redis(db: TestDb) {
        let Some(redis) = RedisServer::start() else {
            return;
        };
        let warm: TestApp = app_on(&db, &redis).await;
        let probe = app_on(&db, &redis).await;
        let from_redis = super::check(&warm, &probe).await;
        assert!(
            from_redis >= 20,
            "{from_redis}: the probe read A's entries from Redis"
        );
    }
}
