//! Follow-up rules create one task when a job enters their status (created in it or changed
//! to it), titled from the template and due `delay_days` after today (UTC); disabled rules
//! do not fire. And the `due` filters of the task lists.

use super::{id, keys_of, today, total};
use crate::helpers::TestApp;
use serde_json::{Value, json};
use time::Duration;

crate::on_both_backends!(
    a_status_change_fires_each_enabled_rule_once,
    due_filters_list_open_tasks_by_date,
);

fn date(d: time::Date) -> String {
    d.to_string()
}

async fn a_status_change_fires_each_enabled_rule_once(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let r = app
        .post(
            "/api/task-rules",
            t,
            json!({"status": "applied", "delay_days": 7, "priority": "high",
                   "title": "Follow up with {company} about {title} ({status})"}),
        )
        .await;
    let rule = r.assert_status(201).clone();
    let r = app
        .post(
            "/api/task-rules",
            t,
            json!({"status": "applied", "delay_days": 1, "enabled": false,
                   "title": "Disabled: {title}"}),
        )
        .await;
    let disabled = r.assert_status(201).clone();
    app.post(
        "/api/task-rules",
        t,
        json!({"status": "interviewing", "delay_days": 0}),
    )
    .await
    .assert_status(201);

    let job = app
        .create_job(&u, json!({"title": "Rust Dev", "company": "Acme"}))
        .await;
    let path = format!("/api/jobs/{}", id(&job));
    let job_tasks = format!("{path}/tasks");
    assert_eq!(
        total(&app.get("/api/tasks", t).await),
        0,
        "no rule for interested"
    );

    app.patch(&path, t, json!({"status": "applied"}))
        .await
        .assert_status(200);
    let r = app.get(&job_tasks, t).await;
    assert_eq!(total(&r), 1, "{}", r.body);
    let task = r.body["data"][0].clone();
    assert_eq!(
        task["title"],
        "Follow up with Acme about Rust Dev (applied)"
    );
    assert_eq!(task["due_date"], date(today() + Duration::days(7)));
    assert_eq!(
        (&task["priority"], &task["done"], &task["job_id"]),
        (&json!("high"), &json!(false), &job["id"])
    );
    assert_eq!(total(&app.get("/api/tasks", t).await), 1);

    // No new task without a status change, nor for a change to the same status.
    app.patch(&path, t, json!({"notes": "sent the CV"}))
        .await
        .assert_status(200);
    app.patch(&path, t, json!({"status": "applied"}))
        .await
        .assert_status(200);
    assert_eq!(total(&app.get("/api/tasks", t).await), 1);

    // The rule with no title uses the default; delay 0 is due today.
    app.patch(&path, t, json!({"status": "interviewing"}))
        .await
        .assert_status(200);
    let r = app.get(&job_tasks, t).await;
    assert_eq!(total(&r), 2);
    let newest = &r.body["data"][0];
    assert_eq!(newest["title"], "Follow up: Rust Dev at Acme");
    assert_eq!(newest["due_date"], date(today()));
    assert_eq!(newest["priority"], "medium");

    // Entering the status again fires again (once per entry).
    app.patch(&path, t, json!({"status": "applied"}))
        .await
        .assert_status(200);
    assert_eq!(total(&app.get(&job_tasks, t).await), 3);

    // A job created in the status fires too.
    let created = app
        .create_job(
            &u,
            json!({"title": "Go Dev", "company": "Globex", "status": "applied"}),
        )
        .await;
    let r = app
        .get(&format!("/api/jobs/{}/tasks", id(&created)), t)
        .await;
    assert_eq!(total(&r), 1);
    assert_eq!(
        r.body["data"][0]["title"],
        "Follow up with Globex about Go Dev (applied)"
    );

    // Switching which rule is enabled switches which task is made.
    app.patch(
        &format!("/api/task-rules/{}", id(&disabled)),
        t,
        json!({"enabled": true}),
    )
    .await
    .assert_status(200);
    app.patch(
        &format!("/api/task-rules/{}", id(&rule)),
        t,
        json!({"enabled": false}),
    )
    .await
    .assert_status(200);
    let third = app
        .create_job(
            &u,
            json!({"title": "Ops", "company": "Initech", "status": "applied"}),
        )
        .await;
    let r = app.get(&format!("/api/jobs/{}/tasks", id(&third)), t).await;
    assert_eq!(total(&r), 1);
    assert_eq!(r.body["data"][0]["title"], "Disabled: Ops");
    assert_eq!(
        r.body["data"][0]["due_date"],
        date(today() + Duration::days(1))
    );

    // A deleted rule fires no more; its tasks stay.
    for rule in [&rule, &disabled] {
        app.delete(&format!("/api/task-rules/{}", id(rule)), t)
            .await
            .assert_status(204);
    }
    let before = total(&app.get("/api/tasks", t).await);
    app.create_job(
        &u,
        json!({"title": "SRE", "company": "Hooli", "status": "applied"}),
    )
    .await;
    assert_eq!(total(&app.get("/api/tasks", t).await), before);
    assert_eq!(total(&app.get(&job_tasks, t).await), 3);

    // Another user's rules never fire for this user, and the other way round.
    let other = app.register("b@example.com").await;
    app.post(
        "/api/task-rules",
        &other.token,
        json!({"status": "offer", "delay_days": 2}),
    )
    .await
    .assert_status(201);
    app.patch(&path, t, json!({"status": "offer"}))
        .await
        .assert_status(200);
    assert_eq!(total(&app.get(&job_tasks, t).await), 3);
    assert_eq!(total(&app.get("/api/tasks", &other.token).await), 0);

    // The job's own text is not a template: braces in its title or company stay as they
    // are (the template is read in one pass).
    app.post(
        "/api/task-rules",
        t,
        json!({"status": "screening", "delay_days": 2, "title": "Screen: {title} / {company}"}),
    )
    .await
    .assert_status(201);
    let braces = app
        .create_job(
            &u,
            json!({"title": "Dev {status} {company}", "company": "Braces {title}",
                   "status": "screening"}),
        )
        .await;
    let r = app
        .get(&format!("/api/jobs/{}/tasks", id(&braces)), t)
        .await;
    assert_eq!(
        r.body["data"][0]["title"], "Screen: Dev {status} {company} / Braces {title}",
        "placeholders inside the job's title and company must not be replaced"
    );
}

async fn due_filters_list_open_tasks_by_date(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let day = today();
    let job = app
        .create_job(&u, json!({"title": "Dev", "company": "Acme"}))
        .await;
    let mut made: Vec<(&str, Value)> = Vec::new();
    for (name, due, done, on_job) in [
        ("long overdue", Some(day - Duration::days(30)), false, false),
        ("yesterday", Some(day - Duration::days(1)), false, true),
        (
            "yesterday, done",
            Some(day - Duration::days(1)),
            true,
            false,
        ),
        ("today", Some(day), false, false),
        ("today, done", Some(day), true, true),
        ("in 3 days", Some(day + Duration::days(3)), false, true),
        ("in 7 days", Some(day + Duration::days(7)), false, false),
        ("in 8 days", Some(day + Duration::days(8)), false, false),
        ("tomorrow", Some(day + Duration::days(1)), false, false),
        ("no date", None, false, false),
    ] {
        let path = if on_job {
            format!("/api/jobs/{}/tasks", id(&job))
        } else {
            "/api/tasks".into()
        };
        let r = app
            .post(
                &path,
                t,
                json!({"title": name, "due_date": due.map(date), "done": done}),
            )
            .await;
        made.push((name, r.assert_status(201).clone()));
    }
    let titles = |r: &crate::helpers::Resp| {
        let mut v: Vec<String> = r.assert_status(200)["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let sorted = |names: &[&str]| {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    let today_param = format!("today={}", date(day));
    for (query, expected) in [
        ("due=overdue", sorted(&["long overdue", "yesterday"])),
        ("due=today", sorted(&["today"])),
        (
            "due=week",
            sorted(&["today", "tomorrow", "in 3 days", "in 7 days"]),
        ),
        (
            "due=week&done=false",
            sorted(&["today", "tomorrow", "in 3 days", "in 7 days"]),
        ),
        ("due=overdue&priority=high", vec![]),
        ("done=true", sorted(&["yesterday, done", "today, done"])),
    ] {
        let r = app.get(&format!("/api/tasks?{query}"), t).await;
        assert_eq!(titles(&r), expected, "{query}");
        // The client's date, when it is the server's, changes nothing.
        let r = app
            .get(&format!("/api/tasks?{query}&{today_param}"), t)
            .await;
        assert_eq!(titles(&r), expected, "{query}&{today_param}");
    }
    // Under a job.
    let job_tasks = format!("/api/jobs/{}/tasks", id(&job));
    let r = app.get(&format!("{job_tasks}?due=overdue"), t).await;
    assert_eq!(titles(&r), ["yesterday"]);
    let r = app.get(&format!("{job_tasks}?due=week"), t).await;
    assert_eq!(titles(&r), ["in 3 days"]);

    // A client a day ahead (or behind) of UTC counts from its own date.
    let ahead = format!("today={}", date(day + Duration::days(1)));
    let r = app.get(&format!("/api/tasks?due=today&{ahead}"), t).await;
    assert_eq!(titles(&r), ["tomorrow"]);
    let r = app.get(&format!("/api/tasks?due=overdue&{ahead}"), t).await;
    assert_eq!(titles(&r), sorted(&["long overdue", "today", "yesterday"]));
    let r = app.get(&format!("/api/tasks?due=week&{ahead}"), t).await;
    assert_eq!(
        titles(&r),
        sorted(&["tomorrow", "in 3 days", "in 7 days", "in 8 days"])
    );
    let behind = format!("today={}", date(day - Duration::days(1)));
    let r = app.get(&format!("/api/tasks?due=today&{behind}"), t).await;
    assert_eq!(titles(&r), ["yesterday"], "open tasks only");
    for far in [day + Duration::days(2), day - Duration::days(2)] {
        let r = app
            .get(&format!("/api/tasks?due=today&today={}", date(far)), t)
            .await;
        super::assert_bad_param(&r, "today");
    }

    // Marking a task done takes it out of `due`; undoing puts it back.
    let (_, today_task) = made.iter().find(|(n, _)| *n == "today").unwrap();
    let path = format!("/api/tasks/{}", id(today_task));
    app.patch(&path, t, json!({"done": true}))
        .await
        .assert_status(200);
    assert_eq!(total(&app.get("/api/tasks?due=today", t).await), 0);
    app.patch(&path, t, json!({"done": false, "due_date": null}))
        .await
        .assert_status(200);
    assert_eq!(total(&app.get("/api/tasks?due=today", t).await), 0);
    app.patch(&path, t, json!({"due_date": date(day)}))
        .await
        .assert_status(200);
    let r = app.get("/api/tasks?due=today", t).await;
    assert_eq!(keys_of(&r, "id"), [id(today_task)]);

    // Another user's tasks are not in this user's `due` lists.
    let other = app.register("b@example.com").await;
    for query in ["due=overdue", "due=today", "due=week"] {
        assert_eq!(
            total(&app.get(&format!("/api/tasks?{query}"), &other.token).await),
            0
        );
    }
}
