//! Each flow for two seconds at a small rate against a real server: every arrival ran,
//! every request was sent and answered as expected, and the database holds exactly the
//! jobs the generator reports created.

use crate::helpers::{Server, args};
use flowats_loadgen::stats::{Name, NameStats, Stats};
use flowats_loadgen::{FlowKind, execute};
use flowats_server::seed::{BulkPlan, DEMO_EMAIL, seed_bulk, seed_demo};

fn name(total: &Stats, n: Name) -> &NameStats {
    total
        .names
        .get(&n)
        .unwrap_or_else(|| panic!("no {} requests", n.as_str()))
}

/// Every arrival ran every step, with no error and nothing shed.
#[track_caller]
fn assert_clean(total: &Stats, flow: FlowKind, arrivals: u64) {
    let all = total.all();
    assert_eq!(total.arrivals, arrivals, "arrivals");
    assert_eq!(all.errors(), 0, "errors: {:?}", total.names);
    assert_eq!(all.shed_count(), 0, "shed");
    assert_eq!(total.dropped, 0);
    assert_eq!(all.requests, arrivals * flow.steps(), "requests");
    assert_eq!(all.ok(), all.requests);
    assert_eq!(total.completed, arrivals, "completed flows");
}

#[tokio::test]
async fn seed_flow_logs_in_lists_and_creates() {
    let server = Server::start().await;
    assert!(seed_demo(&server.state).await.unwrap());
    let before = server.jobs_of(DEMO_EMAIL).await;
    let out = execute(&args(&[
        "--target-url",
        &server.base,
        "--flow",
        "seed",
        "--phase",
        "2s@5",
    ]))
    .await
    .unwrap();
    assert_clean(&out.total, FlowKind::Seed, 10);
    for n in [Name::Login, Name::List, Name::Create] {
        assert_eq!(name(&out.total, n).ok(), 10, "{}", n.as_str());
    }
    assert_eq!(out.total.names.len(), 3);
    let created = name(&out.total, Name::Create).ok() as i64;
    assert_eq!(server.jobs_of(DEMO_EMAIL).await, before + created);
    assert_eq!(out.report.total.by_name["create"].ok, 10);
    server.stop().await;
}

#[tokio::test]
async fn browse_flow_lists_filters_and_gets() {
    let server = Server::start().await;
    seed_demo(&server.state).await.unwrap();
    let before = server.jobs_of(DEMO_EMAIL).await;
    let out = execute(&args(&[
        "--target-url",
        &server.base,
        "--flow",
        "browse",
        "--phase",
        "2s@5",
    ]))
    .await
    .unwrap();
    assert_clean(&out.total, FlowKind::Browse, 10);
    for n in [Name::Login, Name::List, Name::Filter, Name::Get] {
        assert_eq!(name(&out.total, n).ok(), 10, "{}", n.as_str());
    }
    assert_eq!(
        server.jobs_of(DEMO_EMAIL).await,
        before,
        "browsing writes nothing"
    );
    server.stop().await;
}

#[tokio::test]
async fn sessions_flow_mixes_reads_and_writes_of_logged_in_users() {
    let server = Server::start().await;
    let plan = BulkPlan {
        users: 5,
        jobs_per_user: 3,
        heavy_jobs: None,
    };
    seed_bulk(&server.state, plan).await.unwrap();
    let emails: Vec<String> = (1..=5).map(|i| format!("user{i}@example.com")).collect();
    let mut before = 0;
    for e in &emails {
        before += server.jobs_of(e).await;
    }
    assert_eq!(before, 15);
    let out = execute(&args(&[
        "--target-url",
        &server.base,
        "--flow",
        "sessions",
        "--users",
        "5",
        "--phase",
        "2s@40",
    ]))
    .await
    .unwrap();
    assert_clean(&out.total, FlowKind::Sessions, 80);
    assert!(
        !out.total.names.contains_key(&Name::Login),
        "logins happen before the phases and are not counted"
    );
    for n in [
        Name::List,
        Name::Get,
        Name::Profile,
        Name::Stats,
        Name::Create,
        Name::Update,
    ] {
        assert!(
            name(&out.total, n).ok() > 0,
            "no {} in 80 arrivals",
            n.as_str()
        );
    }
    let writes = name(&out.total, Name::Create).ok() + name(&out.total, Name::Update).ok();
    assert!(writes < 40, "about 20 % writes, got {writes} of 80");
    let mut after = 0;
    for e in &emails {
        after += server.jobs_of(e).await;
    }
    assert_eq!(after - before, name(&out.total, Name::Create).ok() as i64);
    assert_eq!(out.report.users, Some(5));
    assert!(out.report.setup_s.is_some());
    server.stop().await;
}

#[tokio::test]
async fn sessions_without_the_accounts_fail_with_a_hint() {
    let server = Server::start().await;
    let err = execute(&args(&[
        "--target-url",
        &server.base,
        "--flow",
        "sessions",
        "--users",
        "2",
        "--phase",
        "1s@1",
    ]))
    .await
    .err()
    .expect("no such accounts");
    assert!(
        format!("{err:#}").contains("flowats seed --users"),
        "{err:#}"
    );
    server.stop().await;
}

#[tokio::test]
async fn login_flow_and_health_flow() {
    let server = Server::start().await;
    seed_demo(&server.state).await.unwrap();
    let base = server.base.clone();
    let login_args = args(&["--target-url", &base, "--flow", "login", "--phase", "2s@5"]);
    let health_args = args(&[
        "--target-url",
        &base,
        "--flow",
        "health",
        "--phase",
        "2s@50",
    ]);
    let (login, health) = tokio::join!(execute(&login_args), execute(&health_args));
    let login = login.unwrap();
    assert_clean(&login.total, FlowKind::Login, 10);
    assert_eq!(name(&login.total, Name::Login).ok(), 10);

    let health = health.unwrap();
    let h = name(&health.total, Name::Health);
    assert_eq!(health.total.arrivals, 100);
    assert_eq!(h.requests, 100);
    assert!(h.errors_by_kind.is_empty(), "{:?}", h.errors_by_kind);
    // /api/health answers 503 while the machine's CPU is over its critical threshold
    // (other builds and tests on this shared 2-core machine); that is an error, by status,
    // and nothing else may be.
    assert!(
        h.errors_by_status.keys().all(|s| *s == 503),
        "{:?}",
        h.errors_by_status
    );
    assert_eq!(h.ok() + h.errors(), 100);
    server.stop().await;
}
