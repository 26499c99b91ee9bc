//! Every tracker list pages both ways: offset pages with their totals, and cursors walked to
//! the end, each row once, newest first, filters kept across pages.

use super::{id, keys_of, walk_cursor, walk_offset};
use crate::helpers::TestApp;
use serde_json::json;

crate::on_both_backends!(every_tracker_list_pages_by_offset_and_cursor);

const N: usize = 23;

async fn every_tracker_list_pages_by_offset_and_cursor(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let job = app
        .create_job(&u, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let job_id = id(&job);
    let first_contact = app
        .post("/api/contacts", t, json!({"name": "Anchor"}))
        .await
        .assert_status(201)
        .clone();

    // N of each, in creation order; every third one matches a filter.
    let (mut contacts, mut interviews, mut tasks, mut job_tasks) = (vec![], vec![], vec![], vec![]);
    let (mut rules, mut job_notes, mut contact_notes) = (vec![], vec![], vec![]);
    let (mut recruiters, mut technical, mut high) = (vec![], vec![], vec![]);
    let statuses = [
        "interested",
        "applied",
        "screening",
        "interviewing",
        "offer",
    ];
    for i in 0..N {
        let special = i % 3 == 0;
        let c = app
            .post(
                "/api/contacts",
                t,
                json!({"name": format!("Contact {i}"),
                       "role": if special { "recruiter" } else { "other" }}),
            )
            .await;
        contacts.push(id(c.assert_status(201)));
        if special {
            recruiters.push(id(&c.body));
        }
        let r = app
            .post(
                &format!("/api/jobs/{job_id}/interviews"),
                t,
                json!({"kind": if special { "technical" } else { "onsite" },
                       "scheduled_at": format!("2026-07-{:02}T10:00:00Z", i + 1)}),
            )
            .await;
        interviews.push(id(r.assert_status(201)));
        if special {
            technical.push(id(&r.body));
        }
        let on_job = i % 2 == 0;
        let path = if on_job {
            format!("/api/jobs/{job_id}/tasks")
        } else {
            "/api/tasks".to_owned()
        };
        let r = app
            .post(
                &path,
                t,
                json!({"title": format!("Task {i}"),
                       "priority": if special { "high" } else { "low" }}),
            )
            .await;
        tasks.push(id(r.assert_status(201)));
        if on_job {
            job_tasks.push(id(&r.body));
        }
        if special {
            high.push(id(&r.body));
        }
        let r = app
            .post(
                "/api/task-rules",
                t,
                json!({"status": statuses[i % 5], "delay_days": i}),
            )
            .await;
        rules.push(id(r.assert_status(201)));
        let r = app
            .post(
                &format!("/api/jobs/{job_id}/notes"),
                t,
                json!({"body": format!("job note {i}")}),
            )
            .await;
        job_notes.push(id(r.assert_status(201)));
        let r = app
            .post(
                &format!("/api/contacts/{}/notes", id(&first_contact)),
                t,
                json!({"body": format!("contact note {i}")}),
            )
            .await;
        contact_notes.push(id(r.assert_status(201)));
    }
    // All N contacts linked in one PUT: the links share one time, so their order (and
    // the cursor) rests on the contact id.
    let links: Vec<_> = contacts
        .iter()
        .map(|c| json!({"contact_id": c, "role": "other"}))
        .collect();
    app.put(
        &format!("/api/jobs/{job_id}/contacts"),
        t,
        json!({"contacts": links}),
    )
    .await
    .assert_status(200);
    let mut linked = contacts.clone();
    linked.sort();
    linked.reverse();

    let mut all_contacts = vec![id(&first_contact)];
    all_contacts.extend(contacts.iter().cloned());
    let newest_first = |ids: &[String]| ids.iter().rev().cloned().collect::<Vec<_>>();
    let lists: Vec<(String, &str, Vec<String>)> = vec![
        ("/api/contacts".into(), "id", newest_first(&all_contacts)),
        (
            "/api/contacts?role=recruiter".into(),
            "id",
            newest_first(&recruiters),
        ),
        (format!("/api/jobs/{job_id}/contacts"), "contact_id", linked),
        ("/api/interviews".into(), "id", newest_first(&interviews)),
        (
            "/api/interviews?kind=technical".into(),
            "id",
            newest_first(&technical),
        ),
        (
            format!("/api/jobs/{job_id}/interviews"),
            "id",
            newest_first(&interviews),
        ),
        ("/api/tasks".into(), "id", newest_first(&tasks)),
        ("/api/tasks?priority=high".into(), "id", newest_first(&high)),
        (
            format!("/api/jobs/{job_id}/tasks"),
            "id",
            newest_first(&job_tasks),
        ),
        ("/api/task-rules".into(), "id", newest_first(&rules)),
        (
            format!("/api/jobs/{job_id}/notes"),
            "id",
            newest_first(&job_notes),
        ),
        (
            format!("/api/contacts/{}/notes", id(&first_contact)),
            "id",
            newest_first(&contact_notes),
        ),
    ];
    for (base, key, expected) in &lists {
        let n = expected.len() as i64;
        let sep = if base.contains('?') { '&' } else { '?' };
        let r = app.get(&format!("{base}{sep}page=2&limit=5"), t).await;
        let page = r.assert_status(200)["pagination"].clone();
        assert_eq!(
            (
                &page["page"],
                &page["limit"],
                &page["totalItems"],
                &page["totalPages"],
                &page["hasPreviousPage"],
            ),
            (
                &json!(2),
                &json!(5),
                &json!(n),
                &json!((n + 4) / 5),
                &json!(true)
            ),
            "{base}: {page}"
        );
        assert_eq!(page["hasNextPage"], n > 10, "{base}: {page}");
        assert_eq!(
            keys_of(&r, key),
            expected[5..10.min(expected.len())],
            "{base}: page 2"
        );
        let r = app.get(&format!("{base}{sep}page=99&limit=5"), t).await;
        assert_eq!(r.assert_status(200)["data"], json!([]), "{base}");

        let by_offset = walk_offset(&app, &u, base, key, 7).await;
        assert_eq!(&by_offset, expected, "{base}: offset walk");
        let by_cursor = walk_cursor(&app, &u, base, key, 7).await;
        assert_eq!(&by_cursor, expected, "{base}: cursor walk");
        let by_cursor = walk_cursor(&app, &u, base, key, 100).await;
        assert_eq!(&by_cursor, expected, "{base}: one cursor page");

        // Totals in cursor mode come on request.
        let r = app
            .get(&format!("{base}{sep}cursor=&limit=3&includeTotal=true"), t)
            .await;
        assert_eq!(
            r.assert_status(200)["pagination"]["totalItems"],
            n,
            "{base}"
        );
        // Paging parameters are checked on every list.
        for bad in [
            "limit=0",
            "limit=101",
            "page=0",
            "cursor=garbage",
            "page=1&cursor=",
        ] {
            let r = app.get(&format!("{base}{sep}{bad}"), t).await;
            r.assert_error(400, "bad_request");
        }
    }

    // A cursor replayed by another user shows none of this user's rows.
    let other = app.register("b@example.com").await;
    let r = app.get("/api/tasks?cursor=&limit=5", t).await;
    let next = r.body["pagination"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .get(&format!("/api/tasks?cursor={next}&limit=5"), &other.token)
        .await;
    assert_eq!(r.assert_status(200)["data"], json!([]));
}
