//! The jobs CSV: an export imported into a fresh account exports byte for byte the same,
//! and an import is checked whole: every problem with its line and column, nothing
//! imported on any error.

use super::{days_ago, export, id, import, total};
use crate::helpers::{Resp, TestApp, User};
use serde_json::{Value, json};

crate::on_both_backends!(
    an_export_imported_into_a_fresh_account_exports_the_same,
    an_import_is_checked_whole_and_refused_whole,
);

async fn contact(app: &TestApp, u: &User, body: Value) -> String {
    id(app
        .post("/api/contacts", &u.token, body)
        .await
        .assert_status(201))
}

async fn link(app: &TestApp, u: &User, job: &str, links: Value) {
    app.put(
        &format!("/api/jobs/{job}/contacts"),
        &u.token,
        json!({"contacts": links}),
    )
    .await
    .assert_status(200);
}

/// The user's jobs keyed by title, from the JSON API.
async fn jobs_by_title(app: &TestApp, u: &User) -> std::collections::BTreeMap<String, Value> {
    let r = app.get("/api/jobs?limit=100", &u.token).await;
    r.assert_status(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["title"].as_str().unwrap().to_owned(), j.clone()))
        .collect()
}

/// A job's history as (from, to, at), oldest first.
async fn history(app: &TestApp, u: &User, job: &str) -> Vec<(Value, Value, Value)> {
    let r = app
        .get(&format!("/api/jobs/{job}/events?limit=100"), &u.token)
        .await;
    let mut steps: Vec<_> = r.assert_status(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from_status"].clone(),
                e["to_status"].clone(),
                e["created_at"].clone(),
            )
        })
        .collect();
    steps.reverse();
    steps
}

/// A job's links as (name, email, role), sorted.
async fn links_of(app: &TestApp, u: &User, job: &str) -> Vec<(Value, Value, Value)> {
    let r = app
        .get(&format!("/api/jobs/{job}/contacts"), &u.token)
        .await;
    let mut links: Vec<_> = r.assert_status(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["name"].clone(), l["email"].clone(), l["role"].clone()))
        .collect();
    links.sort_by_key(|l| l.0.to_string());
    links
}

async fn an_export_imported_into_a_fresh_account_exports_the_same(app: TestApp) {
    let a = app.register("a@example.com").await;
    let t = &a.token;
    let rita = contact(
        &app,
        &a,
        json!({"name": "Rita Recruiter", "email": "Rita@Acme.example", "role": "recruiter"}),
    )
    .await;
    let hank = contact(
        &app,
        &a,
        json!({"name": "Hank, \"the\" Manager", "role": "hiring_manager"}),
    )
    .await;
    let ref_ = contact(
        &app,
        &a,
        json!({"name": "=Ref O'Reilly", "email": "ref@initech.example", "role": "reference"}),
    )
    .await;

    let formula = app
        .create_job(
            &a,
            json!({"title": "=SUM(A1)", "company": "Acme, Inc.", "location": "Berlin; remote",
                   "url": "https://acme.example/jobs/1?ref=x&b=2", "source": "LinkedIn",
                   "description": "line one\nline two\r\nline \"three\"",
                   "salary_min": 100000, "salary_max": 150000, "deadline": "2027-01-31",
                   "notes": "He said \"hi\", then left,\nand called back", "tags": ["Rust", "remote"]}),
        )
        .await;
    let f = id(&formula);
    for status in ["applied", "screening"] {
        app.patch(&format!("/api/jobs/{f}"), t, json!({"status": status}))
            .await
            .assert_status(200);
    }
    link(
        &app,
        &a,
        &f,
        json!([{"contact_id": rita, "role": "recruiter"},
               {"contact_id": hank, "role": "hiring_manager"}]),
    )
    .await;
    let tricky = app
        .create_job(
            &a,
            json!({"title": "+1 Engineer", "company": "-Globex", "location": "@home",
                   "notes": "'quoted", "description": "\ttabbed", "source": "referral",
                   "tags": ["a-c", "ab", "new york", "newark"]}),
        )
        .await;
    let k = id(&tricky);
    for status in ["applied", "interviewing", "offer"] {
        app.patch(&format!("/api/jobs/{k}"), t, json!({"status": status}))
            .await
            .assert_status(200);
    }
    // Rita is a referrer for this one: the link's role, not the contact's.
    link(
        &app,
        &a,
        &k,
        json!([{"contact_id": rita, "role": "referrer"}, {"contact_id": ref_}]),
    )
    .await;
    let plain = app
        .create_job(&a, json!({"title": "Plain", "company": "Hooli"}))
        .await;
    // Notes and tasks are not part of the file: they must not break it.
    app.post(
        &format!("/api/jobs/{}/notes", id(&plain)),
        t,
        json!({"body": "not exported"}),
    )
    .await
    .assert_status(201);

    let first = export(&app, &a).await;
    let mut reader = ::csv::Reader::from_reader(first.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "title",
            "company",
            "location",
            "url",
            "source",
            "description",
            "salary_min",
            "salary_max",
            "status",
            "deadline",
            "notes",
            "tags",
            "contacts",
            "status_history",
            "created_at",
            "updated_at"
        ]
    );
    let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "{first}");
    // Oldest first; formula triggers are defused with a leading quote.
    assert_eq!(&rows[0][0], "'=SUM(A1)");
    assert_eq!(&rows[1][0], "'+1 Engineer");
    assert_eq!(&rows[1][1], "'-Globex");
    assert_eq!(&rows[1][2], "'@home");
    assert_eq!(&rows[1][5], "'\ttabbed");
    assert_eq!(&rows[1][10], "''quoted");
    assert_eq!(&rows[2][0], "Plain");
    assert_eq!(&rows[0][11], "remote;rust");
    assert_eq!(&rows[0][8], "screening");
    assert_eq!(rows[0][13].split(';').count(), 3, "{}", &rows[0][13]);
    assert_eq!(rows[1][13].split(';').count(), 4, "{}", &rows[1][13]);
    let contacts: Value = serde_json::from_str(&rows[0][12]).unwrap();
    assert_eq!(contacts.as_array().unwrap().len(), 2, "{contacts}");
    for cell in rows.iter().flat_map(|r| r.iter()) {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "an unescaped formula trigger: {cell:?}"
        );
    }

    // Into a fresh account, and out again.
    let b = app.register("b@example.com").await;
    let r = import(&app, &b, "", "text/csv; charset=utf-8", &first).await;
    assert_eq!(
        r.assert_status(201),
        &json!({"imported": 3, "contacts_created": 3}),
        "Rita is one contact for both jobs"
    );
    let second = export(&app, &b).await;
    assert_eq!(
        second, first,
        "the re-export must be byte-identical to the export"
    );

    // What the JSON API shows of the imported account.
    let jobs_a = jobs_by_title(&app, &a).await;
    let jobs_b = jobs_by_title(&app, &b).await;
    assert_eq!(jobs_b.len(), 3);
    for (title, ja) in &jobs_a {
        let jb = &jobs_b[title];
        assert_ne!(ja["id"], jb["id"]);
        for field in [
            "company",
            "location",
            "url",
            "source",
            "description",
            "salary_min",
            "salary_max",
            "status",
            "deadline",
            "notes",
            "tags",
            "created_at",
            "updated_at",
        ] {
            assert_eq!(ja[field], jb[field], "{title}: {field}");
        }
        let (ida, idb) = (id(ja), id(jb));
        assert_eq!(
            history(&app, &a, &ida).await,
            history(&app, &b, &idb).await,
            "{title}: the same status history"
        );
        assert_eq!(
            links_of(&app, &a, &ida).await,
            links_of(&app, &b, &idb).await,
            "{title}: the same contacts with the same roles"
        );
    }
    let fb = &jobs_b["=SUM(A1)"];
    assert_eq!(fb["tags"], json!(["remote", "rust"]));
    assert_eq!(fb["notes"], "He said \"hi\", then left,\nand called back");
    assert_eq!(fb["description"], "line one\nline two\r\nline \"three\"");
    assert_eq!(
        total(
            &app.get(&format!("/api/jobs/{}/events", id(fb)), &b.token)
                .await
        ),
        3
    );
    let r = app
        .get(&format!("/api/jobs/{}/contacts", id(fb)), &b.token)
        .await;
    assert_eq!(total(&r), 2);
    let kb = &jobs_b["+1 Engineer"];
    assert_eq!(kb["notes"], "'quoted");
    assert_eq!(kb["location"], "@home");
    assert_eq!(kb["tags"], json!(["a-c", "ab", "new york", "newark"]));
    assert_eq!(
        total(
            &app.get(&format!("/api/jobs/{}/events", id(kb)), &b.token)
                .await
        ),
        4
    );
    let r = app.get("/api/contacts?limit=100", &b.token).await;
    assert_eq!(total(&r), 3);
    let mut names: Vec<(Value, Value)> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].clone(), c["email"].clone()))
        .collect();
    names.sort_by_key(|n| n.0.to_string());
    assert_eq!(
        names,
        [
            (json!("=Ref O'Reilly"), json!("ref@initech.example")),
            (json!("Hank, \"the\" Manager"), Value::Null),
            (json!("Rita Recruiter"), json!("Rita@Acme.example")),
        ]
    );
    // Notes and tasks are not exported, and an import fires no follow-up rule.
    assert_eq!(total(&app.get("/api/tasks", &b.token).await), 0);

    // The same file again is three duplicates; allowed, it reuses the contacts.
    let r = import(&app, &b, "", "text/csv", &first).await;
    let details = refused(&r);
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(
        details.iter().all(|(_, field, _)| field == "row"),
        "{details:?}"
    );
    assert_eq!(total(&app.get("/api/jobs", &b.token).await), 3);
    let r = import(&app, &b, "?allow_duplicate=true", "text/csv", &first).await;
    assert_eq!(
        r.assert_status(201),
        &json!({"imported": 3, "contacts_created": 0})
    );
    assert_eq!(total(&app.get("/api/jobs", &b.token).await), 6);
    assert_eq!(total(&app.get("/api/contacts", &b.token).await), 3);

    // An account with no jobs exports the header alone.
    let c = app.register("c@example.com").await;
    let empty = export(&app, &c).await;
    assert_eq!(empty, format!("{}\n", header.join(",")));
    app.call(axum::http::Method::GET, "/api/export/jobs.csv", None, None)
        .await
        .assert_error(401, "unauthorized");
}

/// The (line, field, message) of each problem of a refused import.
#[track_caller]
fn refused(r: &Resp) -> Vec<(u64, String, String)> {
    r.assert_error(422, "validation_failed");
    r.body["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().expect("line"),
                d["field"].as_str().expect("field").to_owned(),
                d["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

fn lines_and_fields(details: &[(u64, String, String)]) -> Vec<(u64, &str)> {
    details.iter().map(|(l, f, _)| (*l, f.as_str())).collect()
}

async fn an_import_is_checked_whole_and_refused_whole(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let jobs = || async { total(&app.get("/api/jobs", t).await) };
    // A rule for `applied` must not fire for imported rows.
    app.post(
        "/api/task-rules",
        t,
        json!({"status": "applied", "delay_days": 1}),
    )
    .await
    .assert_status(201);

    // Every bad row is reported with its line and column; the good rows are not imported.
    let (ten_days_ago, five_days_ago) = (days_ago(10), days_ago(5));
    let file = format!(
        "title,company,status,salary_min,deadline,tags,contacts,status_history,url,created_at\n\
         Good,Acme,applied,100,2027-01-31,rust;remote,,interested@{a};applied@{b},https://acme.example/1,{a}\n\
         ,Acme,,,,,,,,\n\
         Hired,Acme,hired,,,,,,,\n\
         Salary,Acme,,ten,,,,,,\n\
         Deadline,Acme,,,31/01/2027,,,,,\n\
         \"Multi\nline\",Acme,,,,\"a,b\",,,,\n\
         Contacts,Acme,,,,,not json,,,\n\
         Email,Acme,,,,,\"[{{\"\"name\"\":\"\"X\"\",\"\"email\"\":\"\"nope\"\"}}]\",,,\n\
         History,Acme,,,,,,applied@yesterday,,\n\
         Disagree,Acme,offer,,,,,applied@{b},,\n\
         Url,Acme,,,,,,,javascript:alert(1),\n\
         Created,Acme,,,,,,,,last week\n\
         Order,Acme,,,,,,applied@{b};interested@{a},,\n",
        a = ten_days_ago,
        b = five_days_ago,
    );
    let r = import(&app, &u, "", "text/csv", &file).await;
    let details = refused(&r);
    let got = lines_and_fields(&details);
    for expected in [
        (3, "title"),
        (4, "status"),
        (5, "salary_min"),
        (6, "deadline"),
        (7, "tags[0]"),
        (9, "contacts"),
        (10, "contacts[0].email"),
        (11, "status_history"),
        (12, "status"),
        (13, "url"),
        (14, "created_at"),
        (15, "status_history"),
    ] {
        assert!(got.contains(&expected), "expected {expected:?} in {got:?}");
    }
    assert!(
        !got.iter().any(|(line, _)| *line == 2 || *line == 8),
        "the good row and the continuation line: {got:?}"
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was imported")
    );
    assert_eq!(jobs().await, 0, "nothing is imported");
    assert_eq!(total(&app.get("/api/contacts", t).await), 0);

    // The header: unknown and repeated columns, a required one missing.
    for (file, expected) in [
        ("title,company,user_id\nDev,Acme,x\n", vec![(1, "user_id")]),
        ("title,company,title\nDev,Acme,Dev\n", vec![(1, "title")]),
        ("title,location\nDev,Berlin\n", vec![(1, "company")]),
        ("title,company\n", vec![(2, "row")]),
        ("title,company\nDev,Acme,extra\n", vec![(2, "row")]),
    ] {
        let r = import(&app, &u, "", "text/csv", file).await;
        let details = refused(&r);
        assert_eq!(lines_and_fields(&details), expected, "{file:?}");
    }
    assert_eq!(jobs().await, 0);

    // Not a CSV body: 400, as are unknown parameters.
    let good = "title,company\nDev,Acme\n";
    for content_type in ["application/json", "text/plain", ""] {
        let r = import(&app, &u, "", content_type, good).await;
        r.assert_error(400, "bad_request");
    }
    super::assert_bad_param(
        &import(&app, &u, "?allow_duplicate=maybe", "text/csv", good).await,
        "allow_duplicate",
    );
    super::assert_bad_param(
        &import(&app, &u, "?dry_run=true", "text/csv", good).await,
        "dry_run",
    );
    assert_eq!(jobs().await, 0);

    // A valid file: imported, with its history and without rule tasks.
    let r = import(
        &app,
        &u,
        "",
        "text/csv",
        &file.lines().take(2).collect::<Vec<_>>().join("\n"),
    )
    .await;
    assert_eq!(
        r.assert_status(201),
        &json!({"imported": 1, "contacts_created": 0})
    );
    let job = app.get("/api/jobs", t).await.body["data"][0].clone();
    assert_eq!(job["status"], "applied");
    assert_eq!(job["tags"], json!(["remote", "rust"]));
    assert_eq!(job["created_at"], ten_days_ago.as_str());
    assert_eq!(job["updated_at"], five_days_ago.as_str());
    assert_eq!(
        history(&app, &u, &id(&job)).await,
        [
            (Value::Null, json!("interested"), json!(ten_days_ago)),
            (json!("interested"), json!("applied"), json!(five_days_ago)),
        ]
    );
    assert_eq!(
        total(&app.get("/api/tasks", t).await),
        0,
        "no rule fires on import"
    );

    // Duplicates: of an existing job (by URL or by name) and of an earlier row.
    app.create_job(&u, json!({"title": "Existing", "company": "Globex"}))
        .await;
    let dupes = "title,company,url\n\
                 Renamed,Elsewhere,https://www.acme.example/1/\n\
                 existing,GLOBEX,\n\
                 Fresh,Initech,https://initech.example/9\n\
                 Fresh again,Initech,https://initech.example/9?utm_source=x\n\
                 Fresh,Initech,\n\
                 Unique,Hooli,\n";
    let r = import(&app, &u, "", "text/csv", dupes).await;
    let details = refused(&r);
    assert_eq!(
        lines_and_fields(&details),
        [(2, "row"), (3, "row"), (5, "row"), (6, "row")],
        "{details:?}"
    );
    assert!(
        details[0].2.contains(job["id"].as_str().unwrap()),
        "{details:?}"
    );
    assert!(details[2].2.contains("line 4"), "{details:?}");
    assert!(details[3].2.contains("line 4"), "{details:?}");
    assert_eq!(jobs().await, 2, "nothing is imported");
    let r = import(&app, &u, "?allow_duplicate=true", "text/csv", dupes).await;
    assert_eq!(
        r.assert_status(201),
        &json!({"imported": 6, "contacts_created": 0})
    );
    assert_eq!(jobs().await, 8);

    // At most 100 problems are listed; the message counts them all.
    let mut many = String::from("title,company\n");
    for _ in 0..150 {
        many.push_str(",Acme\n");
    }
    let r = import(&app, &u, "", "text/csv", &many).await;
    let details = refused(&r);
    assert_eq!(details.len(), 100);
    assert_eq!((details[0].0, details[99].0), (2, 101));
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("150 problem"), "{message}");
    assert_eq!(jobs().await, 8);

    // A file saved by a spreadsheet starts with a byte order mark and ends its lines with
    // CRLF.
    let r = import(
        &app,
        &u,
        "",
        "text/csv",
        "\u{feff}title,company\r\nFrom Excel,Contoso\r\n",
    )
    .await;
    assert_eq!(
        r.status.as_u16(),
        201,
        "a UTF-8 BOM before the header: {}",
        r.body
    );
    let r = app.get("/api/jobs?q=from%20excel", t).await;
    assert_eq!(r.body["data"][0]["company"], "Contoso");

    // Another user's jobs are no duplicates, and this user's imports are not theirs.
    let other = app.register("b@example.com").await;
    let r = import(&app, &other, "", "text/csv", dupes).await;
    refused(&r); // rows 5 and 6 still repeat row 4 of the file
    let unique =
        "title,company,url\nRenamed,Elsewhere,https://www.acme.example/1/\nexisting,GLOBEX,\n";
    let r = import(&app, &other, "", "text/csv", unique).await;
    assert_eq!(r.assert_status(201)["imported"], 2);
    assert_eq!(total(&app.get("/api/jobs", &other.token).await), 2);

    // A file larger than the JSON body limit (1 MiB) imports; its export spans several
    // batches (500 jobs each) and imports again to the same bytes. Past 16 MiB: 413.
    let big_user = app.register("big@example.com").await;
    let mut big = String::from("title,company,description,tags\n");
    let filler = "lorem ipsum, \"dolor\" ".repeat(60);
    for i in 0..1100 {
        big.push_str(&format!(
            "Job {i},Company {},\"{}\",batch;n{}\n",
            i % 7,
            filler.replace('"', "\"\""),
            i % 3
        ));
    }
    assert!(big.len() > 1 << 20, "{}", big.len());
    let r = import(&app, &big_user, "", "text/csv", &big).await;
    assert_eq!(
        r.assert_status(201),
        &json!({"imported": 1100, "contacts_created": 0})
    );
    let exported = export(&app, &big_user).await;
    let mut reader = ::csv::Reader::from_reader(exported.as_bytes());
    let titles: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    let expected: Vec<String> = (0..1100).map(|i| format!("Job {i}")).collect();
    assert_eq!(
        titles, expected,
        "every job once, oldest first, across batches"
    );
    let again = app.register("again@example.com").await;
    import(&app, &again, "", "text/csv", &exported)
        .await
        .assert_status(201);
    assert!(
        export(&app, &again).await == exported,
        "the large re-export differs"
    );
    let too_big = "x".repeat(16 * 1024 * 1024 + 1);
    let r = import(&app, &big_user, "", "text/csv", &too_big).await;
    r.assert_error(413, "payload_too_large");
    assert_eq!(total(&app.get("/api/jobs", &big_user.token).await), 1100);
    assert_eq!(jobs().await, 9);
}
