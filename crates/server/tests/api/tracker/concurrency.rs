//! Concurrent tracker writes queue for the database, as job writes do (`jobs.rs`): they
//! neither fail nor slip past a check that a sequential write would meet.
//!
//! What holds them: on PostgreSQL a duplicate-checked write (job creation, import) takes
//! the user's row lock first and a link replacement the job's (SQLite has one writer); an
//! import checks duplicates inside its own transaction.

use super::{id, import, total};
use crate::helpers::TestApp;
use futures_util::future::join_all;
use serde_json::json;

crate::on_both_backends!(concurrent_tracker_writes_keep_their_rules);

async fn concurrent_tracker_writes_keep_their_rules(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    // Each rule is checked and reported on its own, so that one run shows every broken one.
    let mut broken: Vec<String> = Vec::new();

    // The same job sent several times at once: one is created, the others are duplicates.
    let same = json!({"title": "Rust Engineer", "company": "Acme",
                      "url": "https://acme.example/jobs/1"});
    let sent = join_all((0..8).map(|_| app.post("/api/jobs", t, same.clone()))).await;
    let created: Vec<_> = sent.iter().filter(|r| r.status == 201).collect();
    assert!(!created.is_empty(), "{sent:?}");
    for r in sent.iter().filter(|r| r.status != 201) {
        r.assert_error(409, "duplicate_job");
    }
    if created.len() != 1 {
        broken.push(format!(
            "POST /api/jobs: {} of 8 concurrent identical POSTs were created, not 1 ({:?})",
            created.len(),
            sent.iter().map(|r| r.status.as_u16()).collect::<Vec<_>>()
        ));
    }

    // Replacing a job's contacts concurrently: every PUT succeeds, one set wins whole.
    let job = id(&created[0].body);
    let mut contacts = Vec::new();
    for i in 0..4 {
        let r = app
            .post("/api/contacts", t, json!({"name": format!("C{i}")}))
            .await;
        contacts.push(id(r.assert_status(201)));
    }
    let links = format!("/api/jobs/{job}/contacts");
    let sets: Vec<Vec<String>> = (0..6)
        .map(|i| {
            contacts
                .iter()
                .enumerate()
                .filter(|(j, _)| (i + j) % 3 != 0)
                .map(|(_, c)| c.clone())
                .collect()
        })
        .collect();
    let puts = sets.iter().map(|set| {
        let body: Vec<_> = set
            .iter()
            .map(|c| json!({"contact_id": c, "role": "other"}))
            .collect();
        app.put(&links, t, json!({"contacts": body}))
    });
    let answers = join_all(puts).await;
    if !answers.iter().all(|r| r.status == 200) {
        broken.push(format!(
            "PUT /api/jobs/{{id}}/contacts: not every concurrent PUT succeeded: {:?}",
            answers
                .iter()
                .map(|r| (r.status.as_u16(), r.body["error"]["code"].to_string()))
                .collect::<Vec<_>>()
        ));
    }
    let r = app.get(&links, t).await;
    let mut now: Vec<String> = super::keys_of(&r, "contact_id");
    now.sort();
    let whole = sets.iter().any(|s| {
        let mut s = s.clone();
        s.sort();
        s == now
    });
    if !whole {
        broken.push(format!(
            "PUT /api/jobs/{{id}}/contacts: the links are none of the sets sent: {now:?}"
        ));
    }

    // The same file imported twice at once: one import, the other refused as duplicates.
    let file = "title,company\nImported A,Initech\nImported B,Initech\n";
    let answers = join_all((0..2).map(|_| import(&app, &u, "", "text/csv", file))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    let jobs = total(&app.get("/api/jobs", t).await);
    let expected = created.len() as i64 + 2;
    if jobs != expected {
        broken.push(format!(
            "POST /api/import/jobs: two concurrent imports of one file imported {} jobs, not 2 \
             (statuses {statuses:?})",
            jobs - created.len() as i64
        ));
    }

    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
