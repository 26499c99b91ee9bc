//! CRUD, validation and isolation between users for every tracker record: contacts and a
//! job's contacts, interviews, tasks and follow-up rules, notes. Another user's ids are a
//! 404, never a 200, and a refused write changes nothing.

use super::{assert_bad_param, assert_invalid, id, total};
use crate::helpers::{TestApp, User};
use serde_json::{Value, json};

crate::on_both_backends!(
    contacts_and_job_links_crud_validation_and_isolation,
    interviews_crud_validation_and_isolation,
    tasks_and_rules_crud_validation_and_isolation,
    notes_crud_validation_and_isolation,
);

async fn contact(app: &TestApp, u: &User, body: Value) -> Value {
    app.post("/api/contacts", &u.token, body)
        .await
        .assert_status(201)
        .clone()
}

async fn contacts_and_job_links_crud_validation_and_isolation(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let t = &a.token;

    let rita = contact(
        &app,
        &a,
        json!({"name": "Rita Recruiter", "email": "rita@acme.example", "phone": "+1 555 0100",
               "company": "Acme", "role": "recruiter", "notes": "met at the fair"}),
    )
    .await;
    for (k, v) in [
        ("name", json!("Rita Recruiter")),
        ("email", json!("rita@acme.example")),
        ("phone", json!("+1 555 0100")),
        ("company", json!("Acme")),
        ("role", json!("recruiter")),
        ("notes", json!("met at the fair")),
    ] {
        assert_eq!(rita[k], v, "{k}: {rita}");
    }
    assert!(rita["created_at"].is_string() && rita["updated_at"].is_string());
    let hank = contact(
        &app,
        &a,
        json!({"name": "Hank", "company": "Globex", "role": "hiring_manager"}),
    )
    .await;
    assert!(hank["email"].is_null() && hank["notes"].is_null(), "{hank}");
    let ivy = contact(
        &app,
        &a,
        json!({"name": "Ivy", "email": "ivy@initech.example"}),
    )
    .await;
    let rita_path = format!("/api/contacts/{}", id(&rita));

    // Validation: each refused body names its field and creates nothing.
    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"name": "X", "email": "not-an-email"}), "email"),
        (json!({"name": "X", "role": "boss"}), "role"),
        (json!({"name": "X", "phone": "1".repeat(51)}), "phone"),
        (json!({"name": "X", "id": id(&rita)}), "id"),
        (json!({"name": "X", "user_id": a.id}), "user_id"),
        (json!({"name": "X", "favourite": true}), "favourite"),
    ] {
        let r = app.post("/api/contacts", t, body.clone()).await;
        assert_invalid(&r, field);
    }
    assert_eq!(total(&app.get("/api/contacts", t).await), 3);

    // Filters.
    let r = app.get("/api/contacts?role=recruiter", t).await;
    assert_eq!(super::keys_of(&r, "id"), [id(&rita)]);
    let r = app.get("/api/contacts?q=GLOBEX", t).await;
    assert_eq!(super::keys_of(&r, "id"), [id(&hank)]);
    let r = app.get("/api/contacts?q=initech.example", t).await;
    assert_eq!(super::keys_of(&r, "id"), [id(&ivy)]);
    assert_eq!(total(&app.get("/api/contacts?q=nobody", t).await), 0);
    for wildcard in ["%25", "_", "%5C"] {
        let r = app.get(&format!("/api/contacts?q={wildcard}"), t).await;
        assert_eq!(total(&r), 0, "q={wildcard} is literal text");
    }
    let long = "x".repeat(201);
    assert_bad_param(&app.get(&format!("/api/contacts?q={long}"), t).await, "q");
    assert_bad_param(&app.get("/api/contacts?role=boss", t).await, "role");
    assert_bad_param(&app.get("/api/contacts?kind=x", t).await, "kind");

    // Read, patch (merge: null clears), refused patches change nothing.
    assert_eq!(app.get(&rita_path, t).await.assert_status(200), &rita);
    let r = app
        .patch(&rita_path, t, json!({"phone": null, "role": "referrer"}))
        .await;
    let patched = r.assert_status(200).clone();
    assert!(patched["phone"].is_null());
    assert_eq!(patched["role"], "referrer");
    assert_eq!(patched["name"], "Rita Recruiter");
    for (patch, field) in [
        (json!({"name": null}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"email": "nope"}), "email"),
        (json!({"role": "boss"}), "role"),
        (json!({"created_at": "2020-01-01T00:00:00Z"}), "created_at"),
        (json!({"colour": "red"}), "colour"),
    ] {
        assert_invalid(&app.patch(&rita_path, t, patch).await, field);
    }
    assert_eq!(app.get(&rita_path, t).await.body, patched);

    // Another user: 404 for every route, and A's contact is untouched.
    let bt = &b.token;
    app.get(&rita_path, bt).await.assert_error(404, "not_found");
    app.patch(&rita_path, bt, json!({"name": "Mine now"}))
        .await
        .assert_error(404, "not_found");
    app.delete(&rita_path, bt)
        .await
        .assert_error(404, "not_found");
    assert_eq!(total(&app.get("/api/contacts", bt).await), 0);
    assert_eq!(app.get(&rita_path, t).await.body, patched);

    // A job's contacts: PUT replaces the set.
    let job = app
        .create_job(&a, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let links = format!("/api/jobs/{}/contacts", id(&job));
    assert_eq!(total(&app.get(&links, t).await), 0);
    let r = app
        .put(
            &links,
            t,
            json!({"contacts": [{"contact_id": id(&rita), "role": "recruiter"},
                                {"contact_id": id(&hank), "role": "hiring_manager"}]}),
        )
        .await;
    let data = r.assert_status(200)["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 2, "{data:?}");
    let by_contact = |data: &[Value], c: &Value| {
        data.iter()
            .find(|l| l["contact_id"] == c["id"])
            .cloned()
            .unwrap_or_else(|| panic!("{} not in {data:?}", c["id"]))
    };
    let rita_link = by_contact(&data, &rita);
    assert_eq!(
        (
            &rita_link["role"],
            &rita_link["name"],
            &rita_link["email"],
            &rita_link["company"]
        ),
        (
            &json!("recruiter"),
            &json!("Rita Recruiter"),
            &json!("rita@acme.example"),
            &json!("Acme")
        )
    );
    assert_eq!(by_contact(&data, &hank)["role"], "hiring_manager");
    let listed = app.get(&links, t).await;
    assert_eq!(total(&listed), 2);
    let before = listed.body["data"].clone();

    // Refused PUTs change nothing: another user's contact (404), an unknown contact (404),
    // a contact twice (422), an unknown field (422), another user's job (404).
    let b_contact = contact(&app, &b, json!({"name": "B's contact"})).await;
    let r = app
        .put(
            &links,
            t,
            json!({"contacts": [{"contact_id": id(&ivy)}, {"contact_id": id(&b_contact)}]}),
        )
        .await;
    r.assert_error(404, "not_found");
    let r = app
        .put(
            &links,
            t,
            json!({"contacts": [{"contact_id": "0190b8a0-0000-7000-8000-000000000000"}]}),
        )
        .await;
    r.assert_error(404, "not_found");
    let r = app
        .put(
            &links,
            t,
            json!({"contacts": [{"contact_id": id(&ivy)}, {"contact_id": id(&ivy), "role": "other"}]}),
        )
        .await;
    assert_invalid(&r, "contacts[1].contact_id");
    let r = app
        .put(
            &links,
            t,
            json!({"contacts": [{"contact_id": id(&ivy), "role": "boss"}]}),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let r = app
        .put(&links, t, json!({"contacts": [], "extra": 1}))
        .await;
    r.assert_error(422, "validation_failed");
    let too_many: Vec<Value> = (0..51)
        .map(|_| json!({"contact_id": uuid::Uuid::new_v4()}))
        .collect();
    assert_invalid(
        &app.put(&links, t, json!({"contacts": too_many})).await,
        "contacts",
    );
    let r = app
        .put(
            &links,
            bt,
            json!({"contacts": [{"contact_id": id(&b_contact)}]}),
        )
        .await;
    r.assert_error(404, "not_found");
    app.get(&links, bt).await.assert_error(404, "not_found");
    assert_eq!(app.get(&links, t).await.body["data"], before);

    // Links that stay keep their time; roles are the new ones.
    let r = app
        .put(
            &links,
            t,
            json!({"contacts": [{"contact_id": id(&hank), "role": "interviewer"},
                                {"contact_id": id(&ivy)}]}),
        )
        .await;
    let data = r.assert_status(200)["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 2, "{data:?}");
    let hank_before = by_contact(before.as_array().unwrap(), &hank);
    let hank_now = by_contact(&data, &hank);
    assert_eq!(hank_now["created_at"], hank_before["created_at"]);
    assert_eq!(hank_now["role"], "interviewer");
    assert!(by_contact(&data, &ivy)["role"].is_null());
    assert_eq!(
        data[0]["contact_id"], ivy["id"],
        "most recently linked first"
    );

    // Deleting a contact unlinks it from its jobs (and the total follows).
    app.delete(&format!("/api/contacts/{}", id(&ivy)), t)
        .await
        .assert_status(204);
    let r = app.get(&links, t).await;
    assert_eq!(total(&r), 1);
    assert_eq!(super::keys_of(&r, "contact_id"), [id(&hank)]);
    app.get(&format!("/api/contacts/{}", id(&ivy)), t)
        .await
        .assert_error(404, "not_found");
    app.delete(&format!("/api/contacts/{}", id(&ivy)), t)
        .await
        .assert_error(404, "not_found");

    // An empty set clears the links; the contacts stay.
    let r = app.put(&links, t, json!({"contacts": []})).await;
    assert_eq!(r.assert_status(200)["data"], json!([]));
    assert_eq!(total(&app.get(&links, t).await), 0);
    assert_eq!(total(&app.get("/api/contacts", t).await), 2);

    // Deleting the job: its link list is gone with it.
    app.put(&links, t, json!({"contacts": [{"contact_id": id(&rita)}]}))
        .await
        .assert_status(200);
    app.delete(&format!("/api/jobs/{}", id(&job)), t)
        .await
        .assert_status(204);
    app.get(&links, t).await.assert_error(404, "not_found");
    app.put(&links, t, json!({"contacts": []}))
        .await
        .assert_error(404, "not_found");
    assert_eq!(total(&app.get("/api/contacts", t).await), 2);
}

async fn interviews_crud_validation_and_isolation(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let (t, bt) = (&a.token, &b.token);
    let job = app
        .create_job(&a, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let other_job = app
        .create_job(&a, json!({"title": "Ops", "company": "Globex"}))
        .await;
    let c1 = contact(&app, &a, json!({"name": "Ian Interviewer"})).await;
    let c2 = contact(&app, &a, json!({"name": "Pat Panel"})).await;
    let foreign = contact(&app, &b, json!({"name": "Not yours"})).await;
    let list = format!("/api/jobs/{}/interviews", id(&job));

    let r = app
        .post(
            &list,
            t,
            json!({"kind": "technical", "scheduled_at": "2026-07-01T15:00:00+02:00",
                   "duration_minutes": 60, "format": "video", "location": "Zoom",
                   "interviewer_ids": [id(&c1), id(&c2)], "preparation_notes": "graphs"}),
        )
        .await;
    let interview = r.assert_status(201).clone();
    assert_eq!(interview["job_id"], job["id"]);
    assert_eq!(interview["scheduled_at"], "2026-07-01T13:00:00.000000Z");
    assert_eq!(interview["outcome"], "pending", "the default outcome");
    assert_eq!(interview["interviewer_ids"], json!([id(&c1), id(&c2)]));
    assert_eq!(
        (
            &interview["kind"],
            &interview["duration_minutes"],
            &interview["format"]
        ),
        (&json!("technical"), &json!(60), &json!("video"))
    );
    let path = format!("/api/interviews/{}", id(&interview));

    // Validation.
    let ok = json!({"kind": "phone_screen", "scheduled_at": "2026-07-01T09:00:00Z"});
    let with = |k: &str, v: Value| {
        let mut body = ok.clone();
        body[k] = v;
        body
    };
    let without = |k: &str| {
        let mut body = ok.clone();
        body.as_object_mut().unwrap().remove(k);
        body
    };
    for (body, field) in [
        (without("kind"), "kind"),
        (without("scheduled_at"), "scheduled_at"),
        (with("kind", json!("chat")), "kind"),
        (with("scheduled_at", json!("tomorrow")), "scheduled_at"),
        (
            with("scheduled_at", json!("2026-07-01 09:00")),
            "scheduled_at",
        ),
        (with("duration_minutes", json!(0)), "duration_minutes"),
        (with("duration_minutes", json!(1441)), "duration_minutes"),
        (with("format", json!("carrier_pigeon")), "format"),
        (with("outcome", json!("won")), "outcome"),
        (with("location", json!("x".repeat(201))), "location"),
        (
            with("interviewer_ids", json!([id(&foreign)])),
            "interviewer_ids",
        ),
        (
            with("interviewer_ids", json!([id(&c1), id(&c1)])),
            "interviewer_ids",
        ),
        (
            with(
                "interviewer_ids",
                json!(["0190b8a0-0000-7000-8000-000000000000"]),
            ),
            "interviewer_ids",
        ),
        (
            with(
                "interviewer_ids",
                json!((0..21).map(|_| uuid::Uuid::new_v4()).collect::<Vec<_>>()),
            ),
            "interviewer_ids",
        ),
        (with("job_id", json!(id(&other_job))), "job_id"),
        (with("room", json!("4B")), "room"),
    ] {
        assert_invalid(&app.post(&list, t, body.clone()).await, field);
    }
    assert_eq!(total(&app.get(&list, t).await), 1);
    app.post(&list, t, with("duration_minutes", json!(1440)))
        .await
        .assert_status(201);
    app.post(
        &format!("/api/jobs/{}/interviews", id(&other_job)),
        t,
        ok.clone(),
    )
    .await
    .assert_status(201);

    // Lists and the kind filter.
    assert_eq!(total(&app.get(&list, t).await), 2);
    assert_eq!(total(&app.get("/api/interviews", t).await), 3);
    let r = app.get("/api/interviews?kind=technical", t).await;
    assert_eq!(super::keys_of(&r, "id"), [id(&interview)]);
    assert_eq!(
        total(&app.get(&format!("{list}?kind=phone_screen"), t).await),
        1
    );
    assert_eq!(total(&app.get("/api/interviews?kind=onsite", t).await), 0);
    assert_bad_param(&app.get("/api/interviews?kind=chat", t).await, "kind");
    assert_bad_param(&app.get(&format!("{list}?kind=chat"), t).await, "kind");

    // Patch; refused patches change nothing.
    let r = app
        .patch(
            &path,
            t,
            json!({"outcome": "passed", "duration_minutes": null}),
        )
        .await;
    let patched = r.assert_status(200).clone();
    assert_eq!(patched["outcome"], "passed");
    assert!(patched["duration_minutes"].is_null());
    assert_eq!(patched["interviewer_ids"], interview["interviewer_ids"]);
    for (patch, field) in [
        (
            json!({"interviewer_ids": [id(&foreign)]}),
            "interviewer_ids",
        ),
        (json!({"duration_minutes": 0}), "duration_minutes"),
        (json!({"kind": null}), "kind"),
        (json!({"job_id": id(&other_job)}), "job_id"),
    ] {
        assert_invalid(&app.patch(&path, t, patch).await, field);
    }
    assert_eq!(app.get(&path, t).await.body, patched);

    // Another user.
    app.get(&path, bt).await.assert_error(404, "not_found");
    app.patch(&path, bt, json!({"outcome": "failed"}))
        .await
        .assert_error(404, "not_found");
    app.delete(&path, bt).await.assert_error(404, "not_found");
    app.get(&list, bt).await.assert_error(404, "not_found");
    app.post(&list, bt, ok.clone())
        .await
        .assert_error(404, "not_found");
    assert_eq!(total(&app.get("/api/interviews", bt).await), 0);
    assert_eq!(app.get(&path, t).await.body, patched);
    assert_eq!(total(&app.get(&list, t).await), 2);

    // Deleting a contact takes it out of the interviewers.
    app.delete(&format!("/api/contacts/{}", id(&c1)), t)
        .await
        .assert_status(204);
    assert_eq!(
        app.get(&path, t).await.body["interviewer_ids"],
        json!([id(&c2)])
    );
    app.delete(&format!("/api/contacts/{}", id(&c2)), t)
        .await
        .assert_status(204);
    assert_eq!(app.get(&path, t).await.body["interviewer_ids"], json!([]));

    // Delete; a deleted job takes its interviews.
    app.delete(&path, t).await.assert_status(204);
    app.get(&path, t).await.assert_error(404, "not_found");
    app.delete(&path, t).await.assert_error(404, "not_found");
    assert_eq!(total(&app.get(&list, t).await), 1);
    app.delete(&format!("/api/jobs/{}", id(&job)), t)
        .await
        .assert_status(204);
    app.get(&list, t).await.assert_error(404, "not_found");
    assert_eq!(total(&app.get("/api/interviews", t).await), 1);
    app.post(&list, t, ok).await.assert_error(404, "not_found");
}

async fn tasks_and_rules_crud_validation_and_isolation(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let (t, bt) = (&a.token, &b.token);
    let job = app
        .create_job(&a, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let job_tasks = format!("/api/jobs/{}/tasks", id(&job));

    let r = app
        .post("/api/tasks", t, json!({"title": "Update the CV"}))
        .await;
    let loose = r.assert_status(201).clone();
    assert_eq!(
        (&loose["priority"], &loose["done"], &loose["due_date"]),
        (&json!("medium"), &json!(false), &Value::Null),
        "defaults: {loose}"
    );
    assert!(loose.get("job_id").is_none(), "{loose}");
    let r = app
        .post(
            &job_tasks,
            t,
            json!({"title": "Send thanks", "due_date": "2026-07-01", "priority": "high",
                   "notes": "to Hank"}),
        )
        .await;
    let tied = r.assert_status(201).clone();
    assert_eq!(tied["job_id"], job["id"]);
    assert_eq!(tied["due_date"], "2026-07-01");
    let tied_path = format!("/api/tasks/{}", id(&tied));

    for (body, field) in [
        (json!({}), "title"),
        (json!({"title": " "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": "T", "due_date": "07/01/2026"}), "due_date"),
        (json!({"title": "T", "due_date": "2026-02-30"}), "due_date"),
        (json!({"title": "T", "priority": "urgent"}), "priority"),
        (json!({"title": "T", "done": "yes"}), "done"),
        (json!({"title": "T", "job_id": id(&job)}), "job_id"),
        (json!({"title": "T", "rule_id": id(&job)}), "rule_id"),
    ] {
        assert_invalid(&app.post("/api/tasks", t, body.clone()).await, field);
        assert_invalid(&app.post(&job_tasks, t, body).await, field);
    }
    assert_eq!(total(&app.get("/api/tasks", t).await), 2);
    assert_eq!(total(&app.get(&job_tasks, t).await), 1);

    // Patch and the plain filters.
    let r = app
        .patch(&tied_path, t, json!({"done": true, "notes": null}))
        .await;
    let done = r.assert_status(200).clone();
    assert_eq!(
        (&done["done"], &done["notes"]),
        (&json!(true), &Value::Null)
    );
    assert_eq!(done["job_id"], job["id"]);
    for (patch, field) in [
        (json!({"title": null}), "title"),
        (json!({"priority": "urgent"}), "priority"),
        (json!({"due_date": "soon"}), "due_date"),
        (json!({"job_id": null}), "job_id"),
    ] {
        assert_invalid(&app.patch(&tied_path, t, patch).await, field);
    }
    assert_eq!(app.get(&tied_path, t).await.body, done);
    let ids = |r: &crate::helpers::Resp| super::keys_of(r, "id");
    assert_eq!(ids(&app.get("/api/tasks?done=true", t).await), [id(&tied)]);
    assert_eq!(
        ids(&app.get("/api/tasks?done=false", t).await),
        [id(&loose)]
    );
    assert_eq!(
        ids(&app.get("/api/tasks?priority=high", t).await),
        [id(&tied)]
    );
    assert_eq!(
        total(&app.get(&format!("{job_tasks}?done=false"), t).await),
        0
    );
    for (query, parameter) in [
        ("done=maybe", "done"),
        ("priority=urgent", "priority"),
        ("due=later", "due"),
        ("due=week&done=true", "done"),
        ("due=today&today=2001-01-01", "today"),
        ("today=yesterday", "today"),
        ("status=applied", "status"),
    ] {
        let r = app.get(&format!("/api/tasks?{query}"), t).await;
        assert_bad_param(&r, parameter);
    }

    // Rules.
    let r = app
        .post(
            "/api/task-rules",
            t,
            json!({"status": "applied", "delay_days": 7}),
        )
        .await;
    let rule = r.assert_status(201).clone();
    assert_eq!(
        (
            &rule["status"],
            &rule["delay_days"],
            &rule["priority"],
            &rule["enabled"]
        ),
        (&json!("applied"), &json!(7), &json!("medium"), &json!(true)),
        "defaults: {rule}"
    );
    let rule_path = format!("/api/task-rules/{}", id(&rule));
    for (body, field) in [
        (json!({"delay_days": 1}), "status"),
        (json!({"status": "applied"}), "delay_days"),
        (json!({"status": "hired", "delay_days": 1}), "status"),
        (json!({"status": "applied", "delay_days": -1}), "delay_days"),
        (
            json!({"status": "applied", "delay_days": 366}),
            "delay_days",
        ),
        (
            json!({"status": "applied", "delay_days": 1.5}),
            "delay_days",
        ),
        (
            json!({"status": "applied", "delay_days": 1, "title": "x".repeat(201)}),
            "title",
        ),
        (
            json!({"status": "applied", "delay_days": 1, "priority": "urgent"}),
            "priority",
        ),
        (
            json!({"status": "applied", "delay_days": 1, "enabled": "no"}),
            "enabled",
        ),
    ] {
        assert_invalid(&app.post("/api/task-rules", t, body.clone()).await, field);
    }
    app.post(
        "/api/task-rules",
        t,
        json!({"status": "offer", "delay_days": 365, "title": "Negotiate {company}",
               "priority": "high", "enabled": false}),
    )
    .await
    .assert_status(201);
    app.post(
        "/api/task-rules",
        t,
        json!({"status": "screening", "delay_days": 0}),
    )
    .await
    .assert_status(201);
    assert_eq!(total(&app.get("/api/task-rules", t).await), 3);
    let r = app.get("/api/task-rules?status=applied", t).await;
    assert_eq!(ids(&r), [id(&rule)]);
    assert_bad_param(&app.get("/api/task-rules?status=hired", t).await, "status");
    let r = app
        .patch(
            &rule_path,
            t,
            json!({"enabled": false, "title": "Ping {company}"}),
        )
        .await;
    let patched_rule = r.assert_status(200).clone();
    assert_eq!(
        (&patched_rule["enabled"], &patched_rule["title"]),
        (&json!(false), &json!("Ping {company}"))
    );
    for patch in [
        json!({"delay_days": 400}),
        json!({"status": null}),
        json!({"status": "hired"}),
    ] {
        app.patch(&rule_path, t, patch)
            .await
            .assert_error(422, "validation_failed");
    }
    assert_eq!(app.get(&rule_path, t).await.body, patched_rule);

    // Another user.
    for path in [&tied_path, &rule_path] {
        app.get(path, bt).await.assert_error(404, "not_found");
        app.patch(path, bt, json!({"priority": "low"}))
            .await
            .assert_error(404, "not_found");
        app.delete(path, bt).await.assert_error(404, "not_found");
    }
    app.get(&job_tasks, bt).await.assert_error(404, "not_found");
    app.post(&job_tasks, bt, json!({"title": "sneaky"}))
        .await
        .assert_error(404, "not_found");
    assert_eq!(total(&app.get("/api/tasks", bt).await), 0);
    assert_eq!(total(&app.get("/api/task-rules", bt).await), 0);
    assert_eq!(app.get(&tied_path, t).await.body, done);
    assert_eq!(app.get(&rule_path, t).await.body, patched_rule);
    assert_eq!(total(&app.get(&job_tasks, t).await), 1);

    // Delete; a deleted job takes its tasks, not the others.
    app.delete(&rule_path, t).await.assert_status(204);
    app.get(&rule_path, t).await.assert_error(404, "not_found");
    assert_eq!(total(&app.get("/api/task-rules", t).await), 2);
    app.delete(&format!("/api/jobs/{}", id(&job)), t)
        .await
        .assert_status(204);
    app.get(&tied_path, t).await.assert_error(404, "not_found");
    app.get(&job_tasks, t).await.assert_error(404, "not_found");
    assert_eq!(ids(&app.get("/api/tasks", t).await), [id(&loose)]);
    let loose_path = format!("/api/tasks/{}", id(&loose));
    app.delete(&loose_path, t).await.assert_status(204);
    app.delete(&loose_path, t)
        .await
        .assert_error(404, "not_found");
    assert_eq!(total(&app.get("/api/tasks", t).await), 0);
}

async fn notes_crud_validation_and_isolation(app: TestApp) {
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let (t, bt) = (&a.token, &b.token);
    let job = app
        .create_job(&a, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let person = contact(&app, &a, json!({"name": "Rita"})).await;
    let job_notes = format!("/api/jobs/{}/notes", id(&job));
    let contact_notes = format!("/api/contacts/{}/notes", id(&person));

    let r = app
        .post(
            &job_notes,
            t,
            json!({"body": "Salary band, \"negotiable\"\nsecond line"}),
        )
        .await;
    let on_job = r.assert_status(201).clone();
    assert_eq!(on_job["job_id"], job["id"]);
    assert!(on_job.get("contact_id").is_none(), "{on_job}");
    assert_eq!(on_job["body"], "Salary band, \"negotiable\"\nsecond line");
    let r = app
        .post(&contact_notes, t, json!({"body": "Prefers email"}))
        .await;
    let on_contact = r.assert_status(201).clone();
    assert_eq!(on_contact["contact_id"], person["id"]);
    assert!(on_contact.get("job_id").is_none(), "{on_contact}");
    let note_path = format!("/api/notes/{}", id(&on_job));
    let contact_note_path = format!("/api/notes/{}", id(&on_contact));

    for (body, field) in [
        (json!({}), "body"),
        (json!({"body": " \n "}), "body"),
        (json!({"body": "x".repeat(20_001)}), "body"),
        (
            json!({"body": "ok", "contact_id": id(&person)}),
            "contact_id",
        ),
        (json!({"body": "ok", "job_id": id(&job)}), "job_id"),
        (json!({"body": 7}), "body"),
    ] {
        assert_invalid(&app.post(&job_notes, t, body.clone()).await, field);
        assert_invalid(&app.post(&contact_notes, t, body).await, field);
    }
    app.post(&job_notes, t, json!({"body": "x".repeat(20_000)}))
        .await
        .assert_status(201);

    // Each list has its own notes; a contact id is no job and the other way round.
    let r = app.get(&job_notes, t).await;
    assert_eq!(total(&r), 2);
    assert!(super::keys_of(&r, "id").contains(&id(&on_job)));
    let r = app.get(&contact_notes, t).await;
    assert_eq!(super::keys_of(&r, "id"), [id(&on_contact)]);
    for wrong in [
        format!("/api/jobs/{}/notes", id(&person)),
        format!("/api/contacts/{}/notes", id(&job)),
    ] {
        app.get(&wrong, t).await.assert_error(404, "not_found");
        app.post(&wrong, t, json!({"body": "misplaced"}))
            .await
            .assert_error(404, "not_found");
    }

    // Read and patch.
    assert_eq!(app.get(&note_path, t).await.body, on_job);
    let r = app.patch(&note_path, t, json!({"body": "edited"})).await;
    let edited = r.assert_status(200).clone();
    assert_eq!(edited["body"], "edited");
    assert_eq!(edited["job_id"], job["id"]);
    for (patch, field) in [
        (json!({"body": null}), "body"),
        (json!({"body": ""}), "body"),
        (json!({"job_id": null}), "job_id"),
        (json!({"contact_id": id(&person)}), "contact_id"),
    ] {
        assert_invalid(&app.patch(&note_path, t, patch).await, field);
    }
    assert_eq!(app.get(&note_path, t).await.body, edited);

    // Another user.
    for path in [&note_path, &contact_note_path] {
        app.get(path, bt).await.assert_error(404, "not_found");
        app.patch(path, bt, json!({"body": "mine"}))
            .await
            .assert_error(404, "not_found");
        app.delete(path, bt).await.assert_error(404, "not_found");
    }
    for list in [&job_notes, &contact_notes] {
        app.get(list, bt).await.assert_error(404, "not_found");
        app.post(list, bt, json!({"body": "sneaky"}))
            .await
            .assert_error(404, "not_found");
    }
    assert_eq!(app.get(&note_path, t).await.body, edited);
    assert_eq!(total(&app.get(&job_notes, t).await), 2);
    assert_eq!(total(&app.get(&contact_notes, t).await), 1);

    // Delete; a deleted contact or job takes its notes.
    app.delete(&note_path, t).await.assert_status(204);
    app.get(&note_path, t).await.assert_error(404, "not_found");
    app.delete(&note_path, t)
        .await
        .assert_error(404, "not_found");
    assert_eq!(total(&app.get(&job_notes, t).await), 1);
    app.delete(&format!("/api/contacts/{}", id(&person)), t)
        .await
        .assert_status(204);
    app.get(&contact_note_path, t)
        .await
        .assert_error(404, "not_found");
    app.get(&contact_notes, t)
        .await
        .assert_error(404, "not_found");
    let last = super::keys_of(&app.get(&job_notes, t).await, "id");
    app.delete(&format!("/api/jobs/{}", id(&job)), t)
        .await
        .assert_status(204);
    app.get(&format!("/api/notes/{}", last[0]), t)
        .await
        .assert_error(404, "not_found");
}
