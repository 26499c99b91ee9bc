//! `GET /api/jobs/stats`: response times by source and stale jobs, on a history imported
//! with known times.

use super::{assert_bad_param, days_ago, id, import};
use crate::helpers::TestApp;
use serde_json::json;

crate::on_both_backends!(stats_report_response_by_source_and_stale_jobs);

async fn stats_report_response_by_source_and_stale_jobs(app: TestApp) {
    let u = app.register("a@example.com").await;
    let t = &u.token;
    let d = days_ago;
    let (d100, d60, d50, d40, d30, d27, d20, d10, d5) = (
        d(100),
        d(60),
        d(50),
        d(40),
        d(30),
        d(27),
        d(20),
        d(10),
        d(5),
    );
    let file = format!(
        "title,company,source,status_history,created_at\n\
         Answered fast,Acme,LinkedIn,interested@{d40};applied@{d30};screening@{d27},{d40}\n\
         Rejected,Globex, linkedin ,applied@{d20};rejected@{d10},{d20}\n\
         Waiting,Initech,LINKEDIN,applied@{d5},{d5}\n\
         Withdrawn,Hooli,referral,applied@{d60};withdrawn@{d50},{d60}\n\
         Forgotten,Umbrella,,applied@{d100},{d100}\n\
         Never applied,Stark,LinkedIn,interested@{d30},{d30}\n"
    );
    let r = import(&app, &u, "", "text/csv", &file).await;
    assert_eq!(r.assert_status(201)["imported"], 6);
    let fresh = app
        .create_job(
            &u,
            json!({"title": "Fresh", "company": "Wayne", "source": "Indeed", "status": "applied"}),
        )
        .await;
    let ids: std::collections::HashMap<String, String> = app.get("/api/jobs", t).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["title"].as_str().unwrap().to_owned(), id(j)))
        .collect();

    let r = app.get("/api/jobs/stats", t).await;
    let body = r.assert_status(200).clone();
    assert_eq!(body["total"], 7);
    assert_eq!(
        body["response_by_source"],
        json!([
            // 3 and 10 days to an answer; "Waiting" has none yet; "Never applied" is not
            // counted. Sources are compared trimmed and lower-cased.
            {"source": "linkedin", "applied": 3, "responded": 2, "response_rate": 66.67,
             "median_days_to_response": 6.5},
            {"source": null, "applied": 1, "responded": 0, "response_rate": 0.0,
             "median_days_to_response": null},
            {"source": "indeed", "applied": 1, "responded": 0, "response_rate": 0.0,
             "median_days_to_response": null},
            // Withdrawing is no answer.
            {"source": "referral", "applied": 1, "responded": 0, "response_rate": 0.0,
             "median_days_to_response": null},
        ]),
        "{}",
        body["response_by_source"]
    );

    // Stale: open jobs whose last status change is older than the threshold, the longest
    // idle first; closed ones (rejected, withdrawn) never are.
    let stale = |body: &serde_json::Value| -> Vec<(String, String)> {
        body["stale"]["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| {
                (
                    j["title"].as_str().unwrap().to_owned(),
                    j["last_moved_at"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pairs = |v: &[(&str, &String)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(t, at)| (t.to_string(), at.to_string()))
            .collect()
    };
    assert_eq!(
        (&body["stale"]["days"], &body["stale"]["count"]),
        (&json!(14), &json!(3))
    );
    assert_eq!(
        stale(&body),
        pairs(&[
            ("Forgotten", &d100),
            ("Never applied", &d30),
            ("Answered fast", &d27)
        ])
    );
    let first = &body["stale"]["jobs"][0];
    assert_eq!(first["id"], ids["Forgotten"].as_str());
    assert_eq!(
        (&first["company"], &first["status"]),
        (&json!("Umbrella"), &json!("applied"))
    );

    for (days, expected) in [
        (28, pairs(&[("Forgotten", &d100), ("Never applied", &d30)])),
        (99, pairs(&[("Forgotten", &d100)])),
        (101, vec![]),
        (
            1,
            pairs(&[
                ("Forgotten", &d100),
                ("Never applied", &d30),
                ("Answered fast", &d27),
                ("Waiting", &d5),
            ]),
        ),
    ] {
        let r = app
            .get(&format!("/api/jobs/stats?stale_days={days}"), t)
            .await;
        let body = r.assert_status(200);
        assert_eq!(body["stale"]["days"], days);
        assert_eq!(body["stale"]["count"], expected.len(), "stale_days={days}");
        assert_eq!(stale(body), expected, "stale_days={days}");
    }
    for bad in [
        "stale_days=0",
        "stale_days=3651",
        "stale_days=two",
        "stale_days=1.5",
    ] {
        let r = app.get(&format!("/api/jobs/stats?{bad}"), t).await;
        assert_bad_param(&r, "stale_days");
    }
    assert_bad_param(&app.get("/api/jobs/stats?stale=3", t).await, "stale");

    // A status change makes a job fresh again, and shows at once; the answer counts.
    app.get("/api/jobs/stats", t).await.assert_status(200);
    app.patch(
        &format!("/api/jobs/{}", ids["Forgotten"]),
        t,
        json!({"status": "interviewing"}),
    )
    .await
    .assert_status(200);
    app.patch(
        &format!("/api/jobs/{}", id(&fresh)),
        t,
        json!({"status": "rejected"}),
    )
    .await
    .assert_status(200);
    let r = app.get("/api/jobs/stats", t).await;
    assert_eq!(r.cache(), "miss");
    let body = r.assert_status(200);
    assert_eq!(
        stale(body),
        pairs(&[("Never applied", &d30), ("Answered fast", &d27)])
    );
    let by_source = body["response_by_source"].as_array().unwrap();
    let unsourced = by_source.iter().find(|s| s["source"].is_null()).unwrap();
    assert_eq!(
        (&unsourced["responded"], &unsourced["response_rate"]),
        (&json!(1), &json!(100.0))
    );
    assert!(unsourced["median_days_to_response"].as_f64().unwrap() >= 99.9);
    let indeed = by_source.iter().find(|s| s["source"] == "indeed").unwrap();
    assert_eq!(
        (&indeed["responded"], &indeed["median_days_to_response"]),
        (&json!(1), &json!(0.0))
    );

    // Another user: nothing.
    let other = app.register("b@example.com").await;
    let r = app.get("/api/jobs/stats", &other.token).await;
    let body = r.assert_status(200);
    assert_eq!(body["response_by_source"], json!([]));
    assert_eq!(body["stale"], json!({"days": 14, "count": 0, "jobs": []}));
}
