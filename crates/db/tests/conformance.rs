//! One conformance suite for the stores, run on SQLite always and on PostgreSQL when
//! `FLOWATS_TEST_DATABASE_URL` is set (required under `CI=true`). Each test gets its own
//! fresh, migrated database.

use flowats_db::models::*;
use flowats_db::models::{JobSort, Position};
use flowats_db::testing::TestDb;
use flowats_db::{DbError, Timestamp};
use serde_json::{Map, Value, json};
use uuid::Uuid;

flowats_db::backend_tests!(
    users_register_login_and_conflict,
    deleting_a_user_removes_every_row_of_theirs,
    profile_version_bumps_on_every_profile_change,
    items_crud_and_isolation,
    jobs_crud_events_and_isolation,
    job_list_filters_order_and_pages,
    job_patch_is_validated_as_a_whole,
    job_stats_count_per_status,
    timestamps_round_trip_exactly,
    concurrent_patches_of_one_row_lose_nothing,
    keyset_walks_match_one_unpaginated_query,
    keyset_walk_under_concurrent_inserts_and_deletes,
    bulk_load_keeps_every_field_and_event,
    artifacts_crud_filters_pages_reuse_and_isolation,
);

const PAGE: Page = Page {
    limit: 100,
    offset: 0,
};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().expect("object").clone()
}

async fn user(db: &TestDb, email: &str) -> Uuid {
    db.users
        .create_user(email.into(), "Test".into(), "$argon2id$fake".into())
        .await
        .expect("create user")
        .id
}

fn job(title: &str, company: &str) -> JobFields {
    serde_json::from_value(json!({"title": title, "company": company})).unwrap()
}

fn skill(name: &str) -> SkillFields {
    serde_json::from_value(json!({"name": name, "proficiency": 3})).unwrap()
}

async fn users_register_login_and_conflict(db: TestDb) {
    let id = user(&db, "a@example.com").await;
    let creds = db.users.credentials("a@example.com".into()).await.unwrap();
    assert_eq!(creds.map(|c| c.id), Some(id));
    assert!(
        db.users
            .credentials("b@example.com".into())
            .await
            .unwrap()
            .is_none()
    );
    let dup = db
        .users
        .create_user("a@example.com".into(), "X".into(), "h".into())
        .await;
    assert!(matches!(dup, Err(DbError::Conflict("email"))), "{dup:?}");
    assert_eq!(db.users.get_user(id).await.unwrap().email, "a@example.com");
    assert!(db.users.user_exists(id).await.unwrap());
    assert!(!db.users.user_exists(Uuid::now_v7()).await.unwrap());
    assert!(matches!(
        db.users.get_user(Uuid::now_v7()).await,
        Err(DbError::NotFound)
    ));
}

async fn deleting_a_user_removes_every_row_of_theirs(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let b = user(&db, "b@example.com").await;
    for u in [a, b] {
        let j = db
            .jobs
            .create_job(u, job("Engineer", "Acme"))
            .await
            .unwrap();
        db.jobs
            .update_job(u, j.id, obj(json!({"status": "applied"})))
            .await
            .unwrap();
        db.skills.create(u, skill("Rust")).await.unwrap();
        let edu = serde_json::from_value(json!({"institution": "MIT"})).unwrap();
        db.education.create(u, edu).await.unwrap();
        let emp = serde_json::from_value(json!({"company": "Acme", "title": "Dev"})).unwrap();
        db.employment.create(u, emp).await.unwrap();
    }
    db.users.delete_user(a).await.unwrap();

    assert!(!db.users.user_exists(a).await.unwrap());
    assert!(matches!(
        db.profiles.get_profile(a).await,
        Err(DbError::NotFound)
    ));
    let empty = |n: i64| assert_eq!(n, 0);
    empty(
        db.jobs
            .list_jobs(a, JobFilter::default(), JobSort::Newest, PAGE)
            .await
            .unwrap()
            .total,
    );
    empty(db.skills.list(a, PAGE).await.unwrap().total);
    empty(db.education.list(a, PAGE).await.unwrap().total);
    empty(db.employment.list(a, PAGE).await.unwrap().total);
    // The other user keeps everything.
    let bj = db
        .jobs
        .list_jobs(b, JobFilter::default(), JobSort::Newest, PAGE)
        .await
        .unwrap();
    assert_eq!(bj.total, 1);
    assert_eq!(
        db.jobs
            .list_events(b, bj.items[0].id, PAGE)
            .await
            .unwrap()
            .total,
        2
    );
    assert_eq!(db.skills.list(b, PAGE).await.unwrap().total, 1);
    assert!(matches!(
        db.users.delete_user(a).await,
        Err(DbError::NotFound)
    ));
}

async fn profile_version_bumps_on_every_profile_change(db: TestDb) {
    let u = user(&db, "a@example.com").await;
    let p = db.profiles.get_profile(u).await.unwrap();
    assert_eq!(p.version, 1);
    assert!(p.fields.full_name.is_none());

    let fields: ProfileFields =
        serde_json::from_value(json!({"full_name": "Ada", "website": "https://ada.dev"})).unwrap();
    let p = db.profiles.put_profile(u, fields).await.unwrap();
    assert_eq!((p.version, p.fields.full_name.as_deref()), (2, Some("Ada")));

    let s = db.skills.create(u, skill("Rust")).await.unwrap();
    db.skills
        .update(u, s.id, obj(json!({"proficiency": 5})))
        .await
        .unwrap();
    db.skills.delete(u, s.id).await.unwrap();
    let edu = serde_json::from_value(json!({"institution": "MIT"})).unwrap();
    db.education.create(u, edu).await.unwrap();
    let emp = serde_json::from_value(json!({"company": "Acme", "title": "Dev"})).unwrap();
    db.employment.create(u, emp).await.unwrap();
    assert_eq!(db.profiles.get_profile(u).await.unwrap().version, 7);
}

async fn items_crud_and_isolation(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let b = user(&db, "b@example.com").await;
    let first = db.skills.create(a, skill("Rust")).await.unwrap();
    let second = db.skills.create(a, skill("SQL")).await.unwrap();
    let list = db.skills.list(a, PAGE).await.unwrap();
    assert_eq!(list.total, 2);
    let names: Vec<_> = list.items.iter().map(|s| s.fields.name.as_str()).collect();
    assert_eq!(names, ["SQL", "Rust"], "newest first");
    let page2 = db
        .skills
        .list(
            a,
            Page {
                limit: 1,
                offset: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!((page2.total, page2.items[0].id), (2, first.id));

    let updated = db
        .skills
        .update(a, second.id, obj(json!({"category": "data"})))
        .await
        .unwrap();
    assert_eq!(updated.fields.category.as_deref(), Some("data"));
    assert_eq!(updated.fields.name, "SQL");
    assert!(updated.updated_at >= updated.created_at);

    // Another user sees nothing, changes nothing.
    assert!(matches!(
        db.skills.get(b, first.id).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.skills
            .update(b, first.id, obj(json!({"name": "X"})))
            .await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.skills.delete(b, first.id).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(db.skills.list(b, PAGE).await.unwrap().total, 0);
    assert_eq!(
        db.skills.get(a, first.id).await.unwrap().fields.name,
        "Rust"
    );

    db.skills.delete(a, first.id).await.unwrap();
    assert!(matches!(
        db.skills.get(a, first.id).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.skills.delete(a, first.id).await,
        Err(DbError::NotFound)
    ));

    let edu: EducationFields = serde_json::from_value(
        json!({"institution": "MIT", "start_date": "2015-09-01", "end_date": "2019-06-30", "gpa": 3.8}),
    )
    .unwrap();
    let e = db.education.create(a, edu).await.unwrap();
    let e = db.education.get(a, e.id).await.unwrap();
    assert_eq!(e.fields.start_date.unwrap().to_string(), "2015-09-01");
    assert_eq!(e.fields.gpa, Some(3.8));
    let bad = db
        .education
        .update(a, e.id, obj(json!({"end_date": "2010-01-01"})))
        .await;
    assert!(matches!(bad, Err(DbError::Invalid(_))), "{bad:?}");
}

async fn jobs_crud_events_and_isolation(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let b = user(&db, "b@example.com").await;
    let j = db
        .jobs
        .create_job(a, job("Engineer", "Acme"))
        .await
        .unwrap();
    assert_eq!(j.fields.status, JobStatus::Interested);

    let j2 = db
        .jobs
        .update_job(
            a,
            j.id,
            obj(json!({"status": "applied", "notes": "sent CV"})),
        )
        .await
        .unwrap();
    assert_eq!(j2.fields.status, JobStatus::Applied);
    assert_eq!(j2.fields.title, "Engineer");
    db.jobs
        .update_job(a, j.id, obj(json!({"notes": "called"})))
        .await
        .unwrap();
    db.jobs
        .update_job(a, j.id, obj(json!({"status": "interviewing"})))
        .await
        .unwrap();

    let events = db.jobs.list_events(a, j.id, PAGE).await.unwrap();
    let steps: Vec<_> = events
        .items
        .iter()
        .map(|e| (e.from_status.clone(), e.to_status.clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (Some("applied".into()), "interviewing".into()),
            (Some("interested".into()), "applied".into()),
            (None, "interested".into()),
        ],
        "newest first, and no event for a change that kept the status"
    );

    assert!(matches!(
        db.jobs.get_job(b, j.id).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.jobs
            .update_job(b, j.id, obj(json!({"status": "rejected"})))
            .await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.jobs.delete_job(b, j.id).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.jobs.list_events(b, j.id, PAGE).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(
        db.jobs.get_job(a, j.id).await.unwrap().fields.status,
        JobStatus::Interviewing
    );

    db.jobs.delete_job(a, j.id).await.unwrap();
    assert!(matches!(
        db.jobs.get_job(a, j.id).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.jobs.list_events(a, j.id, PAGE).await,
        Err(DbError::NotFound)
    ));
}

async fn job_list_filters_order_and_pages(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let b = user(&db, "b@example.com").await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let mut f = job(
            &format!("Engineer {i}"),
            if i % 2 == 0 { "Acme" } else { "Globex" },
        );
        if i % 5 == 0 {
            f.status = JobStatus::Applied;
        }
        if i == 7 {
            f.title = "100% Remote_Role".into();
        }
        ids.push(db.jobs.create_job(a, f).await.unwrap().id);
    }
    db.jobs.create_job(b, job("Other", "Acme")).await.unwrap();

    let all = db
        .jobs
        .list_jobs(
            a,
            JobFilter::default(),
            JobSort::Newest,
            Page {
                limit: 10,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.total, 25);
    let newest: Vec<_> = ids.iter().rev().take(10).copied().collect();
    assert_eq!(all.items.iter().map(|j| j.id).collect::<Vec<_>>(), newest);
    let last = db
        .jobs
        .list_jobs(
            a,
            JobFilter::default(),
            JobSort::Newest,
            Page {
                limit: 10,
                offset: 20,
            },
        )
        .await
        .unwrap();
    assert_eq!(last.items.len(), 5);
    assert_eq!(last.items.last().unwrap().id, ids[0]);

    let applied = JobFilter {
        status: Some(JobStatus::Applied),
        q: None,
        tag: None,
    };
    let r = db
        .jobs
        .list_jobs(a, applied, JobSort::Newest, PAGE)
        .await
        .unwrap();
    assert_eq!((r.total, r.items.len()), (5, 5));
    assert!(
        r.items
            .iter()
            .all(|j| j.fields.status == JobStatus::Applied)
    );

    let q = |s: &str| JobFilter {
        status: None,
        q: Some(s.into()),
        tag: None,
    };
    assert_eq!(
        db.jobs
            .list_jobs(a, q("GLOBEX"), JobSort::Newest, PAGE)
            .await
            .unwrap()
            .total,
        12
    );
    assert_eq!(
        db.jobs
            .list_jobs(a, q("100%"), JobSort::Newest, PAGE)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        db.jobs
            .list_jobs(a, q("er_"), JobSort::Newest, PAGE)
            .await
            .unwrap()
            .total,
        0,
        "_ is literal"
    );
    assert_eq!(
        db.jobs
            .list_jobs(a, q("remote_"), JobSort::Newest, PAGE)
            .await
            .unwrap()
            .total,
        1
    );
    let both = JobFilter {
        status: Some(JobStatus::Applied),
        q: Some("acme".into()),
        tag: None,
    };
    assert_eq!(
        db.jobs
            .list_jobs(a, both, JobSort::Newest, PAGE)
            .await
            .unwrap()
            .total,
        3
    );
}

async fn job_patch_is_validated_as_a_whole(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let mut f = job("Engineer", "Acme");
    f.salary_min = Some(100);
    let j = db.jobs.create_job(a, f).await.unwrap();
    let bad = db
        .jobs
        .update_job(a, j.id, obj(json!({"salary_max": 50})))
        .await;
    match bad {
        Err(DbError::Invalid(e)) => assert_eq!(e.0[0].field, "salary_max"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    let bad = db
        .jobs
        .update_job(a, j.id, obj(json!({"status": "hired"})))
        .await;
    assert!(matches!(bad, Err(DbError::Invalid(_))), "{bad:?}");
    let bad = db
        .jobs
        .update_job(a, j.id, obj(json!({"user_id": Uuid::now_v7()})))
        .await;
    assert!(matches!(bad, Err(DbError::Invalid(_))), "{bad:?}");
    let unchanged = db.jobs.get_job(a, j.id).await.unwrap();
    assert_eq!(unchanged.fields.salary_max, None);
    assert_eq!(unchanged.updated_at, j.updated_at);
    assert_eq!(db.jobs.list_events(a, j.id, PAGE).await.unwrap().total, 1);
}

async fn job_stats_count_per_status(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    for (i, status) in ["applied", "applied", "offer", "interested"]
        .iter()
        .enumerate()
    {
        let j = db
            .jobs
            .create_job(a, job(&format!("J{i}"), "Acme"))
            .await
            .unwrap();
        db.jobs
            .update_job(a, j.id, obj(json!({ "status": status })))
            .await
            .unwrap();
    }
    let mut stats: Vec<_> = db
        .jobs
        .job_stats(a)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.status, s.count))
        .collect();
    stats.sort();
    assert_eq!(
        stats,
        [
            ("applied".into(), 2),
            ("interested".into(), 1),
            ("offer".into(), 1)
        ]
    );
}

async fn timestamps_round_trip_exactly(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let before = Timestamp::now();
    let j = db
        .jobs
        .create_job(a, job("Engineer", "Acme"))
        .await
        .unwrap();
    let read = db.jobs.get_job(a, j.id).await.unwrap();
    assert_eq!(read.created_at, j.created_at);
    assert!(j.created_at >= before);
    let text = serde_json::to_value(&read).unwrap()["created_at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(text.len(), "2026-01-01T00:00:00.000000Z".len(), "{text}");
}

/// Read-modify-write of a PATCH holds the row, so concurrent patches of different fields
/// all survive (a few rounds, since a lost update needs an unlucky interleaving).
async fn concurrent_patches_of_one_row_lose_nothing(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    for _ in 0..5 {
        let edu = serde_json::from_value(json!({"institution": "MIT"})).unwrap();
        let e = db.education.create(a, edu).await.unwrap();
        let patches = [
            json!({"degree": "BSc"}),
            json!({"field_of_study": "CS"}),
            json!({"gpa": 3.5}),
            json!({"start_date": "2015-09-01"}),
            json!({"end_date": "2019-06-30"}),
        ];
        let tasks: Vec<_> = patches
            .into_iter()
            .map(|p| {
                let store = db.education.clone();
                tokio::spawn(async move { store.update(a, e.id, obj(p)).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let f = db.education.get(a, e.id).await.unwrap().fields;
        assert_eq!(f.degree.as_deref(), Some("BSc"));
        assert_eq!(f.field_of_study.as_deref(), Some("CS"));
        assert_eq!(f.gpa, Some(3.5));
        assert!(f.start_date.is_some() && f.end_date.is_some(), "{f:?}");
    }
}

/// Every row of `sort`, page by page through `list_jobs_after`.
async fn walk(db: &TestDb, user: Uuid, filter: &JobFilter, sort: JobSort, limit: i64) -> Vec<Uuid> {
    let mut seen = Vec::new();
    let mut page = db
        .jobs
        .list_jobs(user, filter.clone(), sort, Page { limit, offset: 0 })
        .await
        .unwrap()
        .items;
    while !page.is_empty() {
        seen.extend(page.iter().map(|j| j.id));
        let after = sort.position(page.last().unwrap());
        page = db
            .jobs
            .list_jobs_after(user, filter.clone(), sort, after, limit)
            .await
            .unwrap();
    }
    seen
}

async fn keyset_walks_match_one_unpaginated_query(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let b = user(&db, "b@example.com").await;
    let mut ids = Vec::new();
    for i in 0..1_000 {
        let mut f = job(&format!("J{i}"), if i % 3 == 0 { "Acme" } else { "Globex" });
        if i % 4 == 0 {
            f.status = JobStatus::Applied;
        }
        ids.push(db.jobs.create_job(a, f).await.unwrap().id);
        if i % 10 == 0 {
            db.jobs.create_job(b, job("other", "Acme")).await.unwrap();
        }
    }
    // Touch every seventh job so "recently updated" differs from "newest".
    for id in ids.iter().step_by(7) {
        db.jobs
            .update_job(a, *id, obj(json!({"notes": "touched"})))
            .await
            .unwrap();
    }
    let filters = [
        JobFilter::default(),
        JobFilter {
            status: Some(JobStatus::Applied),
            q: None,
            tag: None,
        },
        JobFilter {
            status: None,
            q: Some("acme".into()),
            tag: None,
        },
    ];
    for filter in &filters {
        for sort in JobSort::ALL {
            let all = db
                .jobs
                .list_jobs(
                    a,
                    filter.clone(),
                    sort,
                    Page {
                        limit: 100_000,
                        offset: 0,
                    },
                )
                .await
                .unwrap();
            let expected: Vec<Uuid> = all.items.iter().map(|j| j.id).collect();
            assert_eq!(expected.len() as i64, all.total);
            assert_eq!(
                walk(&db, a, filter, sort, 37).await,
                expected,
                "keyset {sort:?} {filter:?}"
            );
            let mut by_offset = Vec::new();
            for n in 0.. {
                let page = db
                    .jobs
                    .list_jobs(
                        a,
                        filter.clone(),
                        sort,
                        Page {
                            limit: 37,
                            offset: n * 37,
                        },
                    )
                    .await
                    .unwrap();
                if page.items.is_empty() {
                    break;
                }
                by_offset.extend(page.items.iter().map(|j| j.id));
            }
            assert_eq!(by_offset, expected, "offset {sort:?} {filter:?}");
        }
    }
    let newest = walk(&db, a, &JobFilter::default(), JobSort::Newest, 50).await;
    assert_eq!(newest, ids.iter().rev().copied().collect::<Vec<_>>());
    let oldest = walk(&db, a, &JobFilter::default(), JobSort::Oldest, 50).await;
    assert_eq!(oldest, ids);
    let updated = walk(&db, a, &JobFilter::default(), JobSort::Updated, 50).await;
    assert_eq!(
        updated[0],
        *ids.iter().step_by(7).next_back().unwrap(),
        "last touched first"
    );
    assert_eq!(
        db.jobs.count_jobs(a, JobFilter::default()).await.unwrap(),
        1_000
    );

    // Items and events walk the same way.
    for i in 0..25 {
        db.skills.create(a, skill(&format!("S{i}"))).await.unwrap();
    }
    let all: Vec<Uuid> = db
        .skills
        .list(a, PAGE)
        .await
        .unwrap()
        .items
        .iter()
        .map(|s| s.id)
        .collect();
    let mut walked = Vec::new();
    let mut page = db
        .skills
        .list(
            a,
            Page {
                limit: 4,
                offset: 0,
            },
        )
        .await
        .unwrap()
        .items;
    while let Some(last) = page.last() {
        walked.extend(page.iter().map(|s| s.id));
        let after = Position {
            key: last.created_at,
            id: last.id,
        };
        page = db.skills.list_after(a, after, 4).await.unwrap();
    }
    assert_eq!(walked, all);
    assert_eq!(db.skills.count(a).await.unwrap(), 25);
    let events = db.jobs.list_events(a, ids[0], PAGE).await.unwrap().items;
    let after = Position {
        key: events[0].created_at,
        id: events[0].id,
    };
    let rest = db
        .jobs
        .list_events_after(a, ids[0], after, 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|e| e.id).collect::<Vec<_>>(),
        events[1..].iter().map(|e| e.id).collect::<Vec<_>>()
    );
    assert!(matches!(
        db.jobs.list_events_after(b, ids[0], after, 10).await,
        Err(DbError::NotFound)
    ));
}

/// Walking the cursor pages while other tasks insert and delete jobs never returns a row
/// twice and never skips a row that existed for the whole walk.
async fn keyset_walk_under_concurrent_inserts_and_deletes(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let mut stable = Vec::new();
    let mut doomed = Vec::new();
    for i in 0..300 {
        let id = db
            .jobs
            .create_job(a, job(&format!("J{i}"), "Acme"))
            .await
            .unwrap()
            .id;
        if i % 3 == 0 {
            doomed.push(id)
        } else {
            stable.push(id)
        }
    }
    let writer = {
        let jobs = db.jobs.clone();
        tokio::spawn(async move {
            for (i, id) in doomed.into_iter().enumerate() {
                jobs.delete_job(a, id).await.unwrap();
                let f: JobFields =
                    serde_json::from_value(json!({"title": format!("new {i}"), "company": "X"}))
                        .unwrap();
                jobs.create_job(a, f).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    for sort in [JobSort::Newest, JobSort::Oldest] {
        let seen = walk(&db, a, &JobFilter::default(), sort, 7).await;
        let unique: std::collections::HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort:?}: a row came twice");
        for id in &stable {
            assert!(
                unique.contains(id),
                "{sort:?}: skipped a row that existed throughout"
            );
        }
    }
    writer.await.unwrap();
}

/// On PostgreSQL, every keyset page is an index scan that starts at the position (an
/// `Index Cond` on the row comparison) and needs no sort: dropping or changing the index
/// fails this test.
#[tokio::test]
async fn postgres_keyset_pages_are_index_scans_without_a_sort() {
    use sqlx::{Connection, Executor};
    let Some(db) = flowats_db::testing::postgres().await else {
        return;
    };
    let a = user(&db, "a@example.com").await;
    for i in 0..400 {
        db.jobs
            .create_job(a, job(&format!("J{i}"), "Acme"))
            .await
            .unwrap();
    }
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    conn.execute("ANALYZE jobs").await.unwrap();
    for (sort, index) in [
        (JobSort::Newest, "idx_jobs_created"),
        (JobSort::Oldest, "idx_jobs_created"),
        (JobSort::Updated, "idx_jobs_updated"),
    ] {
        let sql = format!("EXPLAIN {}", flowats_db::sql::job_pages(sort)[1]);
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(a)
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(Timestamp::now())
            .bind(Uuid::max())
            .bind(21_i64)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let plan = plan.join("\n");
        assert!(
            plan.contains(&format!("Index Scan using {index}"))
                || plan.contains(&format!("Index Scan Backward using {index}")),
            "{sort:?}:\n{plan}"
        );
        assert!(!plan.contains("Sort"), "{sort:?} sorts:\n{plan}");
        assert!(
            plan.contains("Index Cond") && plan.contains("ROW("),
            "{sort:?}: the position is not an index condition:\n{plan}"
        );
    }
}

/// `flowats seed`'s loader (COPY on PostgreSQL, VALUES on SQLite) stores exactly what a
/// job created through the API would: awkward text, NULLs, dates, times and one event each.
async fn bulk_load_keeps_every_field_and_event(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let awkward: JobFields = serde_json::from_value(json!({
        "title": "Tab\there, newline\nthere, back\\slash \\N and \r",
        "company": "Ünïcødé 株式会社",
        "location": "\\N",
        "url": "https://example.com/a?b=c&d",
        "description": "line one\nline two\t\\",
        "salary_min": 1,
        "salary_max": 9_000_000_000i64,
        "status": "offer",
        "deadline": "2027-02-28",
        "notes": ""
    }))
    .unwrap();
    let sparse = job("Plain", "Co");
    let t1 = Timestamp::from(time::macros::datetime!(2026-01-02 03:04:05.678901 UTC));
    let t2 = Timestamp::from(time::macros::datetime!(2026-01-02 03:04:05.678902 UTC));
    db.seed
        .insert_jobs(a, vec![(awkward.clone(), t1), (sparse.clone(), t2)])
        .await
        .unwrap();

    let jobs = db
        .jobs
        .list_jobs(a, JobFilter::default(), JobSort::Oldest, PAGE)
        .await
        .unwrap();
    assert_eq!(jobs.total, 2);
    let got: Vec<_> = jobs
        .items
        .iter()
        .map(|j| {
            (
                serde_json::to_value(&j.fields).unwrap(),
                j.created_at,
                j.updated_at,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (serde_json::to_value(&awkward).unwrap(), t1, t1),
            (serde_json::to_value(&sparse).unwrap(), t2, t2),
        ]
    );
    for (j, status) in jobs.items.iter().zip(["offer", "interested"]) {
        let events = db.jobs.list_events(a, j.id, PAGE).await.unwrap();
        let steps: Vec<_> = events
            .items
            .iter()
            .map(|e| (e.from_status.clone(), e.to_status.clone(), e.created_at))
            .collect();
        assert_eq!(steps, [(None, status.to_owned(), j.created_at)]);
    }
    let found = db
        .jobs
        .list_jobs(
            a,
            JobFilter {
                q: Some("株式会社".into()),
                ..Default::default()
            },
            JobSort::Newest,
            PAGE,
        )
        .await
        .unwrap();
    assert_eq!(found.total, 1, "bulk-loaded rows are searchable");
}

async fn artifacts_crud_filters_pages_reuse_and_isolation(db: TestDb) {
    let a = user(&db, "a@example.com").await;
    let b = user(&db, "b@example.com").await;
    let j1 = db
        .jobs
        .create_job(a, job("Engineer", "Acme"))
        .await
        .unwrap()
        .id;
    let j2 = db
        .jobs
        .create_job(a, job("Developer", "Globex"))
        .await
        .unwrap()
        .id;
    let new = |job_id, kind, fp: &str| NewArtifact {
        job_id,
        kind,
        content: format!("# {kind} for {job_id}"),
        metadata: json!({"why": ["Rust first"]}),
        fingerprint: fp.to_owned(),
    };
    let r1 = db
        .artifacts
        .create_artifact(a, new(j1, "resume", "p1:j1"))
        .await
        .unwrap();
    let c1 = db
        .artifacts
        .create_artifact(a, new(j1, "cover_letter", "p1:j1"))
        .await
        .unwrap();
    let r2 = db
        .artifacts
        .create_artifact(a, new(j2, "resume", "p1:j2"))
        .await
        .unwrap();
    assert_eq!(r1.metadata.as_ref().unwrap().0["why"][0], "Rust first");

    // Filters and both page kinds, newest first.
    let all = db
        .artifacts
        .list_artifacts(a, ArtifactFilter::default(), PAGE)
        .await
        .unwrap();
    assert_eq!(all.total, 3);
    let ids: Vec<Uuid> = all.items.iter().map(|x| x.id).collect();
    assert_eq!(ids, [r2.id, c1.id, r1.id]);
    let resumes = ArtifactFilter {
        kind: Some("resume".into()),
        job_id: None,
    };
    assert_eq!(
        db.artifacts
            .count_artifacts(a, resumes.clone())
            .await
            .unwrap(),
        2
    );
    let of_j1 = ArtifactFilter {
        kind: None,
        job_id: Some(j1),
    };
    assert_eq!(
        db.artifacts
            .count_artifacts(a, of_j1.clone())
            .await
            .unwrap(),
        2
    );
    let first = &all.items[0];
    let rest = db
        .artifacts
        .list_artifacts_after(a, ArtifactFilter::default(), first.position(), 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|x| x.id).collect::<Vec<_>>(),
        [c1.id, r1.id]
    );

    // Reuse: same inputs within the window; not after an edit, not another fingerprint.
    let since = Timestamp::from(time::OffsetDateTime::now_utc() - time::Duration::days(7));
    let found = db
        .artifacts
        .reusable_artifact(a, j1, "resume", "p1:j1".into(), since)
        .await
        .unwrap();
    assert_eq!(found.map(|x| x.id), Some(r1.id));
    assert!(
        db.artifacts
            .reusable_artifact(a, j1, "resume", "p2:j1".into(), since)
            .await
            .unwrap()
            .is_none()
    );
    let later = Timestamp::from(time::OffsetDateTime::now_utc() + time::Duration::seconds(5));
    assert!(
        db.artifacts
            .reusable_artifact(a, j1, "resume", "p1:j1".into(), later)
            .await
            .unwrap()
            .is_none()
    );
    let edited = db
        .artifacts
        .update_artifact(a, r1.id, "# edited".into())
        .await
        .unwrap();
    assert_eq!(edited.content, "# edited");
    assert!(edited.updated_at >= edited.created_at);
    assert!(
        db.artifacts
            .reusable_artifact(a, j1, "resume", "p1:j1".into(), since)
            .await
            .unwrap()
            .is_none()
    );

    // Another user sees nothing and changes nothing.
    assert!(matches!(
        db.artifacts.get_artifact(b, r1.id).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.artifacts.update_artifact(b, r1.id, "x".into()).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        db.artifacts.delete_artifact(b, r1.id).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(
        db.artifacts
            .count_artifacts(b, ArtifactFilter::default())
            .await
            .unwrap(),
        0
    );

    // A deleted job leaves its artifacts, detached.
    db.jobs.delete_job(a, j2).await.unwrap();
    assert_eq!(
        db.artifacts.get_artifact(a, r2.id).await.unwrap().job_id,
        None
    );
    db.artifacts.delete_artifact(a, c1.id).await.unwrap();
    assert!(matches!(
        db.artifacts.get_artifact(a, c1.id).await,
        Err(DbError::NotFound)
    ));
}
