//! `run`: the summary, `--json`, and `--check` failing on a missed target.

use crate::helpers::args;
use crate::omission::stalling_server;

#[tokio::test]
async fn json_report_and_check() {
    let base = stalling_server(u64::MAX).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let path_arg = path.to_str().unwrap().to_owned();
    flowats_loadgen::run(args(&[
        "--target-url",
        &base,
        "--flow",
        "health",
        "--phase",
        "500ms@40",
        "--phase",
        "500ms@20",
        "--json",
        &path_arg,
        // Speed is not asserted here (a shared, busy machine): only that a met target passes.
        "--target",
        "health=p95:10s",
        "--check",
    ]))
    .await
    .expect("every target met");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(report["flow"], "health");
    assert_eq!(report["phases"][0]["arrivals"], 20);
    assert_eq!(report["phases"][1]["arrivals"], 10);
    assert_eq!(report["total"]["by_name"]["health"]["requests"], 30);
    assert_eq!(report["total"]["all"]["errors"], 0);
    let p99 = report["total"]["by_name"]["health"]["latency_ms"]["p99"]
        .as_f64()
        .unwrap();
    assert!(p99 > 0.0 && p99 < 1000.0, "{p99}");
    let verdicts = report["check"].as_array().unwrap();
    assert!(verdicts.iter().any(|v| v["name"] == "health"
        && v["metric"] == "p95"
        && v["limit"] == "< 10000ms"
        && v["result"] == "pass"));

    let err = flowats_loadgen::run(args(&[
        "--target-url",
        &base,
        "--flow",
        "health",
        "--phase",
        "300ms@20",
        "--target",
        "health=off",
        "--target",
        "health=p50:1us",
        "--check",
    ]))
    .await
    .expect_err("nothing answers in a microsecond");
    let text = err.to_string();
    assert!(text.contains("1 target(s) missed: health p50"), "{text}");
}

#[tokio::test]
async fn unreachable_server_is_counted_as_connect_errors() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = flowats_loadgen::execute(&args(&[
        "--target-url",
        &format!("http://127.0.0.1:{port}"),
        "--flow",
        "health",
        "--phase",
        "300ms@20",
    ]))
    .await
    .unwrap();
    let all = out.total.all();
    assert_eq!(all.requests, 6);
    assert_eq!(
        all.errors_by_kind
            .get(&flowats_loadgen::stats::Kind::Connect)
            .copied(),
        Some(6)
    );
}

#[tokio::test]
async fn arrivals_beyond_max_in_flight_are_dropped_not_skipped() {
    // Every request waits behind the first one's 500 ms stall, so with room for 2 flows
    // the arrivals during the stall are dropped, and counted.
    let base = stalling_server(1).await;
    let out = flowats_loadgen::execute(&args(&[
        "--target-url",
        &base,
        "--flow",
        "health",
        "--phase",
        "400ms@50",
        "--max-in-flight",
        "2",
    ]))
    .await
    .unwrap();
    assert_eq!(out.total.arrivals, 20, "the schedule ran to its end");
    assert!(out.total.dropped >= 15, "dropped {}", out.total.dropped);
    let all = out.total.all();
    assert_eq!(all.requests + out.total.dropped, 20);
    assert_eq!(
        all.errors_by_kind[&flowats_loadgen::stats::Kind::Dropped],
        out.total.dropped
    );
}
