//! The published document (`councilflow export-plan`), withdrawals, and the body limit.

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_published_document_carries_the_text_and_the_record_of_approvals() {
    let mut app = spawn_app().await;
    let plan = app.published_stockport_plan().await;
    let status = app.stop().await;
    assert!(status.success(), "a clean stop: {status}");

    let md = app
        .cli(&["export-plan", "--plan", &plan, "--format", "md"])
        .await;
    assert!(
        md.status.success(),
        "{}",
        String::from_utf8_lossy(&md.stderr)
    );
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("Our answer on achievements."), "{md}");
    assert!(md.contains("Record of approvals"), "{md}");
    assert!(md.contains("Cllr Maria Costa: signed revision"), "{md}");
    assert!(md.contains("S151 Officer of Stockport"), "{md}");
    assert!(md.contains("reference PP-0042"), "{md}");
    assert!(
        md.contains("after the deadline"),
        "a 2026 submission is late even for 26 July 2024: {md}"
    );
    assert!(
        md.contains("submission due by 19 July 2024, 23:59 BST, as set by the Department"),
        "the original deadline stays on the record: {md}"
    );
    assert!(
        md.contains("extended to 26 July 2024, 23:59 BST by the Department for Levelling Up, Housing and Communities on 12 July 2024, reference DLUHC email of 12 July 2024; recorded by Joe Sutton"),
        "{md}"
    );
    assert!(
        md.contains("https://www.example.org/productivity-plan"),
        "{md}"
    );

    let html = app
        .cli(&["export-plan", "--plan", &plan, "--format", "html"])
        .await;
    assert!(html.status.success());
    let html = String::from_utf8_lossy(&html.stdout);
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains("<h2>Record of approvals</h2>"), "{html}");

    let missing = app.cli(&["export-plan", "--plan", "no-such-plan"]).await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no plan no-such-plan"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_plan_says_why_not_while_the_server_runs() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let out = app.cli(&["export-plan", "--plan", &plan]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_sign_off_reopens_its_stage_and_only_the_signer_withdraws() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &plan).await;
    let signed = app
        .act(
            "maria-costa",
            "signOff",
            json!({ "planId": plan, "stageId": "member-oversight", "role": "portfolio-holder" }),
        )
        .await;
    assert_eq!(
        stage(&signed["plan"], "member-oversight")["signOffs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let withdraw = json!({ "planId": plan, "stageId": "member-oversight", "role": "portfolio-holder", "reason": "the figures changed" });
    let (code, _) = app
        .refused("kwame-mensah", "withdrawSignOff", withdraw.clone())
        .await;
    assert!(code == "FORBIDDEN" || code == "NOT_FOUND", "{code}");

    let withdrawn = app.act("maria-costa", "withdrawSignOff", withdraw).await;
    let requirement = stage(&withdrawn["plan"], "member-oversight")["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "portfolio-holder")
        .cloned()
        .unwrap();
    assert_eq!(requirement["satisfied"], false);
    assert_eq!(withdrawn["events"][0]["kind"], "SignOffWithdrawn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_refused_as_bad_input_naming_the_limit() {
    let app = spawn_app().await;
    let token = app.token("ravi-patel").await;
    let huge = "x".repeat(300 * 1024);
    let response = reqwest::Client::new()
        .post(app.graphql_url())
        .header("Authorization", format!("Bearer {token}"))
        .json(&json!({ "query": "query { me { id } }", "variables": { "pad": huge } }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.expect("a JSON answer");
    let (code, message) = refusal(&body);
    assert_eq!(code, "BAD_INPUT");
    assert!(message.contains("262144 bytes"), "{message}");
    // The server keeps serving.
    let me = app.graphql(&token, "query { me { id } }", json!({})).await;
    assert_eq!(ok(&me)["me"]["id"], "ravi-patel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_reads_with_the_token_in_a_header_and_never_from_its_address() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let token = app.token("ravi-patel").await;
    let json: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/plans/{plan}.json", app.address))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["plan"]["id"], plan.as_str());
    assert_eq!(json["current_stage"], "member-oversight");
    let page = reqwest::Client::new()
        .get(format!("{}/plans/{plan}", app.address))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(page.text().await.unwrap().contains("Record of approvals"));
    // The token in the address is refused, whoever's it is, and the page is not shown.
    let in_address = reqwest::get(format!("{}/plans/{plan}?token={token}", app.address))
        .await
        .unwrap();
    assert_eq!(in_address.status(), 400);
    let text = in_address.text().await.unwrap();
    assert!(text.contains("never put in an address"), "{text}");
    assert!(!text.contains("Record of approvals"));
    let anonymous = reqwest::get(format!("{}/plans/{plan}.json", app.address))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imports_into_a_fresh_folder_that_verifies_and_serves_the_same_plan() {
    let mut app = spawn_app().await;
    let plan = app.published_stockport_plan().await;
    let before = app.plan("ravi-patel", &plan).await;
    let status = app.stop().await;
    assert!(status.success());

    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("ledger.ndjson");
    let exported = app
        .cli(&["export", "--output", file.to_str().unwrap()])
        .await;
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    // The export verifies on its own.
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_councilflow"))
        .args(["verify", "--export", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    let restored = scratch.path().join("restored");
    let imported = std::process::Command::new(env!("CARGO_BIN_EXE_councilflow"))
        .args([
            "import",
            "--input",
            file.to_str().unwrap(),
            "--data",
            restored.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_councilflow"))
        .args(["verify", "--data", restored.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(verified.status.success());
    // The same plan, rebuilt from the imported folder, reads the same.
    let md_original = app.cli(&["export-plan", "--plan", &plan]).await;
    let md_restored = std::process::Command::new(env!("CARGO_BIN_EXE_councilflow"))
        .args([
            "export-plan",
            "--plan",
            &plan,
            "--data",
            restored.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(md_original.stdout, md_restored.stdout);
    assert_eq!(before["status"], "PUBLISHED");
}
