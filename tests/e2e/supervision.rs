//! Nothing hangs, nothing leaks: faults injected into a running server (the `fail` crate's fail
//! points, named in `FAILPOINTS`; test builds only) show that a panicking background task is
//! logged with its cause and restarted, that a write the projections cannot show is answered
//! `UNAVAILABLE` instead of hanging, that a panicking resolver is answered `INTERNAL` over POST
//! and WebSocket, and that the SMTP password appears in no log, error or `--help`.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::ws::WsClient;
use crate::support::*;

/// A process server whose seeds are already recorded, restarted with `faults` injected.
async fn server_with_faults(faults: &str, more: &[(&str, &str)], args: &[&str]) -> TestApp {
    let mut app = spawn_process_app_with(args).await;
    assert!(app.stop().await.success());
    app.set_env("FAILPOINTS", faults);
    for (key, value) in more {
        app.set_env(key, value);
    }
    app.restart().await;
    app
}

/// Polls the server's log until it contains `needle` (a hang guard, not a timing assertion).
async fn wait_for_log(app: &TestApp, needle: &str) {
    let guard = Instant::now() + Duration::from_secs(60);
    while !app.server_log().contains(needle) {
        assert!(
            Instant::now() < guard,
            "the log never said {needle:?}:\n{}",
            app.server_log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_that_panics_mid_event_is_restarted_on_rebuilt_projections() {
    let app = server_with_faults(
        "projector-apply=1*panic(injected projector fault)",
        &[],
        &[],
    )
    .await;
    // The first event after the restart panics the projector while it applies it.
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let edited = app
        .act(
            "ravi-patel",
            "editSection",
            json!({ "planId": plan, "sectionId": "achievements", "text": "Applied once." }),
        )
        .await;
    assert_eq!(
        edited["plan"]["revision"], 1,
        "each event applied once: {edited}"
    );
    let log = app.server_log();
    assert!(log.contains("a background task panicked"), "{log}");
    assert!(
        log.contains("injected projector fault"),
        "the cause is logged: {log}"
    );
    assert!(log.contains("projections rebuilt"), "{log}");
    assert_eq!(app.history("ravi-patel", &plan).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_projections_cannot_show_is_answered_unavailable_and_is_kept() {
    let app = server_with_faults(
        "projector-apply=1*sleep(4000)",
        &[("COUNCILFLOW_WRITE_VISIBLE_TIMEOUT_MS", "500")],
        &[],
    )
    .await;
    let start = json!({
        "workflow": WORKFLOW, "councils": ["stockport"], "id": "stockport-stalled",
        "idempotencyKey": "start-stalled"
    });
    let response = app.mutate("ravi-patel", "startPlan", start.clone()).await;
    let (code, message) = refusal(&response);
    assert_eq!(code, "UNAVAILABLE", "{response}");
    assert!(message.contains("was recorded"), "{message}");
    assert!(message.contains("Do not send it again"), "{message}");

    // Once the projector catches up, the same request with the same key answers with what was
    // recorded, and nothing was recorded twice.
    let guard = Instant::now() + Duration::from_secs(60);
    let answered = loop {
        let response = app.mutate("ravi-patel", "startPlan", start.clone()).await;
        if response["errors"].is_null() {
            break response;
        }
        assert!(Instant::now() < guard, "never answered: {response}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        answered["data"]["startPlan"]["plan"]["id"],
        "stockport-stalled"
    );
    assert_eq!(
        app.history("ravi-patel", "stockport-stalled").await.len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_round_that_panics_is_logged_and_the_task_goes_on() {
    let app = server_with_faults(
        "reminder-round=1*panic(injected reminder fault)",
        &[],
        &["--reminder-interval-secs", "1"],
    )
    .await;
    wait_for_log(&app, "injected reminder fault").await;
    // The next round runs: a deadline three days away gets its reminder written as a .eml file.
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let due = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    app.act(
        "joe-sutton",
        "recordExtension",
        json!({
            "planId": plan, "due": due, "grantedBy": "the department",
            "grantedOn": "2024-07-05", "reference": "letter",
        }),
    )
    .await;
    let mail = app.data_dir().join("mail");
    let guard = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&mail).map_or(0, |d| d.count()) == 0 {
        assert!(
            Instant::now() < guard,
            "no reminder after the panic:\n{}",
            app.server_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(app.server_log().contains("a background task panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_panics_is_answered_internal_over_post_and_websocket_and_serving_goes_on() {
    let app = server_with_faults("resolve-me=panic(injected resolver fault)", &[], &[]).await;
    let token = app.token("ravi-patel").await;

    let response = app.graphql(&token, "{ me { id } }", json!({})).await;
    let (code, message) = refusal(&response);
    assert_eq!(code, "INTERNAL", "{response}");
    assert!(
        !message.contains("injected"),
        "the cause stays in the log: {message}"
    );

    let mut ws = WsClient::connect(&app, Some(&token)).await;
    ws.expect_ack().await;
    ws.subscribe("me", "{ me { id } }", json!({})).await;
    let payload = loop {
        match ws.recv(Duration::from_secs(30)).await {
            crate::support::ws::Incoming::Message(m) if m["type"] == "next" => {
                break m["payload"].clone()
            }
            crate::support::ws::Incoming::Message(_) => continue,
            other => panic!("expected an answer, got {other:?}"),
        }
    };
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "INTERNAL",
        "{payload}"
    );

    // The socket and the server carry on.
    ws.subscribe("councils", "{ councils { id } }", json!({}))
        .await;
    let councils = app.graphql(&token, "{ councils { id } }", json!({})).await;
    assert!(councils["errors"].is_null(), "{councils}");
    assert!(app.server_log().contains("injected resolver fault"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smtp_password_is_in_no_log_line_error_or_help() {
    const SECRET: &str = "hunter2-clerk-secret";
    let url = format!("smtps://clerk:{SECRET}@127.0.0.1:9");

    // --help with the URL in the environment.
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_councilflow"))
        .args(["serve", "--help"])
        .env("COUNCILFLOW_SMTP_URL", &url)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&help.stdout).to_string() + &String::from_utf8_lossy(&help.stderr);
    assert!(text.contains("COUNCILFLOW_SMTP_URL"), "{text}");
    assert!(!text.contains(SECRET), "{text}");

    // An unusable URL: refused, without the password.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_councilflow"))
        .args(["serve", "--listen", "127.0.0.1:0", "--smtp-url"])
        .arg(format!("smtps://clerk:{SECRET}@host:notaport"))
        .arg("--data")
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let said =
        String::from_utf8_lossy(&bad.stderr).to_string() + &String::from_utf8_lossy(&bad.stdout);
    assert!(said.contains("SMTP URL"), "{said}");
    assert!(!said.contains(SECRET), "{said}");

    // A server that sends to an SMTP server that is not there: its log never names the password.
    let app = spawn_process_app_with(&[
        "--smtp-url",
        &url,
        "--reminder-interval-secs",
        "1",
        "--reminder-retry-secs",
        "1",
        "--smtp-timeout-secs",
        "1",
    ])
    .await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let due = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    app.act(
        "joe-sutton",
        "recordExtension",
        json!({
            "planId": plan, "due": due, "grantedBy": "the department",
            "grantedOn": "2024-07-05", "reference": "letter",
        }),
    )
    .await;
    wait_for_log(&app, "smtps://***@127.0.0.1:9").await;
    // The send fails (nothing listens there), and the failure is logged.
    wait_for_log(&app, "reminder not sent").await;
    assert!(!app.server_log().contains(SECRET), "{}", app.server_log());
}
