//! The cache and the tracker: each read is a miss then a hit, and every write that changes
//! what it shows makes the next read a miss that shows the change.

use super::{id, keys_of, total};
use crate::helpers::{Resp, TestApp, User};
use serde_json::json;

crate::on_both_backends!(
    contact_interview_link_and_note_writes_invalidate_what_shows_them,
    tag_task_rule_and_import_writes_invalidate_what_shows_them,
);

/// Reads `path` twice: a miss (or a hit left over from before), then a hit.
async fn warm(app: &TestApp, u: &User, path: &str) {
    let first = app.get(path, &u.token).await;
    first.assert_status(200);
    let second = app.get(path, &u.token).await;
    assert_eq!(second.cache(), "hit-l1", "{path}: second read");
    assert_eq!(first.raw, second.raw, "{path}: the hit is the same answer");
}

/// The next read of `path` after a write: a miss, returned for checking.
#[track_caller]
fn fresh(r: Resp, path: &str) -> Resp {
    r.assert_status(200);
    assert_eq!(r.cache(), "miss", "{path}: read after the write");
    r
}

async fn contact_interview_link_and_note_writes_invalidate_what_shows_them(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let job = app
        .create_job(&u, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let j = id(&job);
    let c = app
        .post(
            "/api/contacts",
            t,
            json!({"name": "Rita", "email": "rita@acme.example"}),
        )
        .await
        .assert_status(201)
        .clone();
    let other = app
        .post("/api/contacts", t, json!({"name": "Hank"}))
        .await
        .assert_status(201)
        .clone();
    let contact_path = format!("/api/contacts/{}", id(&c));
    let links = format!("/api/jobs/{j}/contacts");
    app.put(
        &links,
        t,
        json!({"contacts": [{"contact_id": id(&c), "role": "recruiter"}]}),
    )
    .await
    .assert_status(200);

    // A contact rename shows in the contact, the contact list and the job's contacts.
    for p in [
        links.as_str(),
        contact_path.as_str(),
        "/api/contacts",
        "/api/contacts?q=rita",
    ] {
        warm(&app, &u, p).await;
    }
    app.patch(&contact_path, t, json!({"name": "Rita Renamed"}))
        .await
        .assert_status(200);
    let r = fresh(app.get(&links, t).await, &links);
    assert_eq!(r.body["data"][0]["name"], "Rita Renamed");
    let r = fresh(app.get(&contact_path, t).await, &contact_path);
    assert_eq!(r.body["name"], "Rita Renamed");
    let r = fresh(app.get("/api/contacts", t).await, "/api/contacts");
    assert!(r.raw.windows(12).any(|w| w == b"Rita Renamed"));
    let r = fresh(app.get("/api/contacts?q=rita", t).await, "?q=rita");
    assert_eq!(total(&r), 1);

    // Re-linking shows in the job's contacts.
    warm(&app, &u, &links).await;
    app.put(
        &links,
        t,
        json!({"contacts": [{"contact_id": id(&c), "role": "referrer"},
                            {"contact_id": id(&other)}]}),
    )
    .await
    .assert_status(200);
    let r = fresh(app.get(&links, t).await, &links);
    assert_eq!(total(&r), 2);

    // Interviews: created, patched, and losing an interviewer with a contact deletion.
    let job_interviews = format!("/api/jobs/{j}/interviews");
    for p in [
        job_interviews.as_str(),
        "/api/interviews",
        "/api/interviews?kind=panel",
    ] {
        warm(&app, &u, p).await;
    }
    let r = app
        .post(
            &job_interviews,
            t,
            json!({"kind": "panel", "scheduled_at": "2026-07-01T10:00:00Z",
                   "interviewer_ids": [id(&c), id(&other)]}),
        )
        .await;
    let interview = r.assert_status(201).clone();
    let interview_path = format!("/api/interviews/{}", id(&interview));
    for p in [
        job_interviews.as_str(),
        "/api/interviews",
        "/api/interviews?kind=panel",
    ] {
        let r = fresh(app.get(p, t).await, p);
        assert_eq!(keys_of(&r, "id"), [id(&interview)], "{p}");
    }
    warm(&app, &u, &interview_path).await;
    warm(&app, &u, "/api/interviews").await;
    app.patch(&interview_path, t, json!({"outcome": "passed"}))
        .await
        .assert_status(200);
    let r = fresh(app.get(&interview_path, t).await, &interview_path);
    assert_eq!(r.body["outcome"], "passed");
    let r = fresh(app.get("/api/interviews", t).await, "/api/interviews");
    assert_eq!(r.body["data"][0]["outcome"], "passed");
    warm(&app, &u, &interview_path).await;
    warm(&app, &u, &links).await;
    app.delete(&format!("/api/contacts/{}", id(&other)), t)
        .await
        .assert_status(204);
    let r = fresh(app.get(&interview_path, t).await, &interview_path);
    assert_eq!(r.body["interviewer_ids"], json!([id(&c)]));
    let r = fresh(app.get(&links, t).await, &links);
    assert_eq!(keys_of(&r, "contact_id"), [id(&c)]);

    // Notes on the job and on the contact, and the note itself.
    let job_notes = format!("/api/jobs/{j}/notes");
    let contact_notes = format!("/api/contacts/{}/notes", id(&c));
    warm(&app, &u, &job_notes).await;
    warm(&app, &u, &contact_notes).await;
    let r = app.post(&job_notes, t, json!({"body": "first"})).await;
    let note = r.assert_status(201).clone();
    let r = fresh(app.get(&job_notes, t).await, &job_notes);
    assert_eq!(total(&r), 1);
    let r = app
        .post(&contact_notes, t, json!({"body": "likes tea"}))
        .await;
    let contact_note = r.assert_status(201).clone();
    let r = fresh(app.get(&contact_notes, t).await, &contact_notes);
    assert_eq!(total(&r), 1);
    let note_path = format!("/api/notes/{}", id(&note));
    let contact_note_path = format!("/api/notes/{}", id(&contact_note));
    for p in [&note_path, &contact_note_path, &job_notes, &contact_notes] {
        warm(&app, &u, p).await;
    }
    app.patch(&note_path, t, json!({"body": "edited"}))
        .await
        .assert_status(200);
    app.patch(&contact_note_path, t, json!({"body": "likes coffee"}))
        .await
        .assert_status(200);
    let r = fresh(app.get(&note_path, t).await, &note_path);
    assert_eq!(r.body["body"], "edited");
    let r = fresh(app.get(&job_notes, t).await, &job_notes);
    assert_eq!(r.body["data"][0]["body"], "edited");
    let r = app.get(&contact_note_path, t).await;
    assert_eq!(fresh(r, &contact_note_path).body["body"], "likes coffee");
    let r = fresh(app.get(&contact_notes, t).await, &contact_notes);
    assert_eq!(r.body["data"][0]["body"], "likes coffee");
    for p in [&note_path, &job_notes] {
        warm(&app, &u, p).await;
    }
    app.delete(&note_path, t).await.assert_status(204);
    app.get(&note_path, t).await.assert_error(404, "not_found");
    let r = fresh(app.get(&job_notes, t).await, &job_notes);
    assert_eq!(total(&r), 0);

    // Deleting the contact takes its notes: the cached note is gone too.
    warm(&app, &u, &contact_note_path).await;
    app.delete(&contact_path, t).await.assert_status(204);
    app.get(&contact_note_path, t)
        .await
        .assert_error(404, "not_found");
    app.get(&contact_path, t)
        .await
        .assert_error(404, "not_found");

    // Deleting the job: its interviews and link list go with it.
    warm(&app, &u, "/api/interviews").await;
    warm(&app, &u, &interview_path).await;
    app.delete(&format!("/api/jobs/{j}"), t)
        .await
        .assert_status(204);
    app.get(&interview_path, t)
        .await
        .assert_error(404, "not_found");
    let r = fresh(app.get("/api/interviews", t).await, "/api/interviews");
    assert_eq!(total(&r), 0);
}

async fn tag_task_rule_and_import_writes_invalidate_what_shows_them(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let job = app
        .create_job(
            &u,
            json!({"title": "Dev", "company": "Acme", "tags": ["backend"]}),
        )
        .await;
    let j = id(&job);
    let job_path = format!("/api/jobs/{j}");

    // Tags: the job, the tag filter (either way round), the list.
    for p in [
        job_path.as_str(),
        "/api/jobs?tag=remote",
        "/api/jobs?tag=backend",
        "/api/jobs",
    ] {
        warm(&app, &u, p).await;
    }
    let r = app
        .patch(&job_path, t, json!({"tags": ["Remote", " rust "]}))
        .await;
    assert_eq!(r.assert_status(200)["tags"], json!(["remote", "rust"]));
    let r = fresh(app.get(&job_path, t).await, &job_path);
    assert_eq!(r.body["tags"], json!(["remote", "rust"]));
    let r = fresh(app.get("/api/jobs?tag=remote", t).await, "?tag=remote");
    assert_eq!(keys_of(&r, "id"), [j.as_str()]);
    let r = fresh(app.get("/api/jobs?tag=backend", t).await, "?tag=backend");
    assert_eq!(total(&r), 0);
    let r = fresh(app.get("/api/jobs", t).await, "/api/jobs");
    assert_eq!(r.body["data"][0]["tags"], json!(["remote", "rust"]));
    let r = app.get("/api/jobs?tag=REMOTE", t).await;
    assert_eq!(total(&r), 1, "the filter is case-insensitive");

    // A rule-created task shows in the task lists after the status change.
    app.post(
        "/api/task-rules",
        t,
        json!({"status": "screening", "delay_days": 3, "title": "Prepare for {company}"}),
    )
    .await
    .assert_status(201);
    let job_tasks = format!("/api/jobs/{j}/tasks");
    for p in [
        "/api/tasks",
        "/api/tasks?due=week",
        "/api/tasks?done=false",
        job_tasks.as_str(),
    ] {
        warm(&app, &u, p).await;
        assert_eq!(total(&app.get(p, t).await), 0, "{p}");
    }
    app.patch(&job_path, t, json!({"status": "screening"}))
        .await
        .assert_status(200);
    for p in [
        "/api/tasks",
        "/api/tasks?due=week",
        "/api/tasks?done=false",
        job_tasks.as_str(),
    ] {
        let r = fresh(app.get(p, t).await, p);
        assert_eq!(total(&r), 1, "{p}");
        assert_eq!(r.body["data"][0]["title"], "Prepare for Acme", "{p}");
    }

    // Task writes: done, deleted.
    let task = app.get("/api/tasks", t).await.body["data"][0].clone();
    let task_path = format!("/api/tasks/{}", id(&task));
    for p in [
        "/api/tasks?done=false",
        "/api/tasks?done=true",
        task_path.as_str(),
    ] {
        warm(&app, &u, p).await;
    }
    app.patch(&task_path, t, json!({"done": true}))
        .await
        .assert_status(200);
    let r = fresh(app.get(&task_path, t).await, &task_path);
    assert_eq!(r.body["done"], true);
    let r = fresh(app.get("/api/tasks?done=false", t).await, "done=false");
    assert_eq!(total(&r), 0);
    let r = fresh(app.get("/api/tasks?done=true", t).await, "done=true");
    assert_eq!(total(&r), 1);

    // Rules: a new rule and a patched one show in the rule list.
    warm(&app, &u, "/api/task-rules").await;
    let r = app
        .post(
            "/api/task-rules",
            t,
            json!({"status": "offer", "delay_days": 1}),
        )
        .await;
    let rule_path = format!("/api/task-rules/{}", id(r.assert_status(201)));
    let r = fresh(app.get("/api/task-rules", t).await, "/api/task-rules");
    assert_eq!(total(&r), 2);
    warm(&app, &u, &rule_path).await;
    app.patch(&rule_path, t, json!({"enabled": false}))
        .await
        .assert_status(200);
    let r = fresh(app.get(&rule_path, t).await, &rule_path);
    assert_eq!(r.body["enabled"], false);

    // Deleting the job takes its tasks out of the cached lists.
    warm(&app, &u, "/api/tasks").await;
    app.post("/api/tasks", t, json!({"title": "Unrelated"}))
        .await
        .assert_status(201);
    warm(&app, &u, "/api/tasks").await;
    app.delete(&job_path, t).await.assert_status(204);
    let r = fresh(app.get("/api/tasks", t).await, "/api/tasks");
    assert_eq!(total(&r), 1);
    app.get(&task_path, t).await.assert_error(404, "not_found");

    // An import shows in every list it adds to.
    for p in [
        "/api/jobs",
        "/api/jobs?tag=imported",
        "/api/contacts",
        "/api/jobs/stats",
    ] {
        warm(&app, &u, p).await;
    }
    let csv = "title,company,tags,contacts\n\
               Imported,Initech,imported,\"[{\"\"name\"\":\"\"Ivy\"\"}]\"\n";
    let r = super::import(&app, &u, "", "text/csv", csv).await;
    assert_eq!(
        r.assert_status(201),
        &json!({"imported": 1, "contacts_created": 1})
    );
    let r = fresh(app.get("/api/jobs", t).await, "/api/jobs");
    assert_eq!(total(&r), 1);
    let r = fresh(app.get("/api/jobs?tag=imported", t).await, "?tag=imported");
    assert_eq!(total(&r), 1);
    let r = fresh(app.get("/api/contacts", t).await, "/api/contacts");
    assert_eq!(r.body["data"][0]["name"], "Ivy");
    let r = fresh(app.get("/api/jobs/stats", t).await, "/api/jobs/stats");
    assert_eq!(r.body["total"], 1);

    // Deleting the account takes every tracker record with it, and its cached reads.
    let imported = id(&r_first(&app.get("/api/jobs", t).await));
    app.post(
        &format!("/api/jobs/{imported}/interviews"),
        t,
        json!({"kind": "onsite", "scheduled_at": "2026-07-01T10:00:00Z"}),
    )
    .await
    .assert_status(201);
    app.post(
        &format!("/api/jobs/{imported}/notes"),
        t,
        json!({"body": "n"}),
    )
    .await
    .assert_status(201);
    app.post(
        &format!("/api/jobs/{imported}/tasks"),
        t,
        json!({"title": "x"}),
    )
    .await
    .assert_status(201);
    warm(&app, &u, "/api/contacts").await;
    app.delete("/api/account", t).await.assert_status(204);
    app.get("/api/contacts", t)
        .await
        .assert_error(401, "unauthorized");
    let again = app.register("a@example.com").await;
    for p in [
        "/api/jobs",
        "/api/contacts",
        "/api/tasks",
        "/api/task-rules",
        "/api/interviews",
    ] {
        assert_eq!(total(&app.get(p, &again.token).await), 0, "{p}");
    }
}

fn r_first(r: &Resp) -> serde_json::Value {
    r.assert_status(200)["data"][0].clone()
}
