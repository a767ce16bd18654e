//! Compatibility with councilflow 0.1's data: a folder and an export written by the 0.1 binary
//! (`tests/fixtures/data-0.1.tar.gz`; `make-0.1-fixture.py` beside it says how) open, upgrade
//! and verify under this release, and show what 0.1 showed. The folder was left by SIGKILL with
//! edits only in the write-ahead file, and its sled wrote blob files: the upgrade recovers it and
//! moves it to the current layout.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// The fixture, unpacked into a new folder.
fn unpack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .arg("xzf")
        .arg(repo_path("tests/fixtures/data-0.1.tar.gz"))
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("run tar");
    assert!(status.success(), "unpacking the 0.1 fixture");
    dir
}

/// What 0.1 answered to the query, and the query.
fn expected(dir: &Path) -> (String, Value) {
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let expected: Value = serde_json::from_str(&text).unwrap();
    (
        expected["query"].as_str().unwrap().to_owned(),
        expected["data"].clone(),
    )
}

fn councilflow(args: &[&str], data: &Path) -> std::process::Output {
    Command::new(BINARY)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("run councilflow")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_folder_written_by_0_1_opens_upgraded_and_shows_what_0_1_showed() {
    let dir = unpack();
    let data = dir.path().join("data");
    assert!(
        data.join("blobs").read_dir().unwrap().count() > 0,
        "the fixture has blobs"
    );
    let (query, expected) = expected(dir.path());

    let mut app = spawn_process_app_at(&data, &[]).await;
    let response = app
        .graphql_as("regional-dashboard", &query, serde_json::json!({}))
        .await;
    assert_eq!(ok(&response), &expected, "the plans read as 0.1 read them");
    assert!(
        app.server_log().contains("upgraded the data folder"),
        "{}",
        app.server_log()
    );
    // 0.1's events, and the seeds of this release (people added since) on top of them.
    let served = app.all_events("regional-dashboard").await.len();
    assert!(served > 140, "0.1 recorded more than 140 events: {served}");
    assert!(app.stop().await.success());

    let verify = councilflow(&["verify"], &data);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let verified = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verified.starts_with(&format!("ok: {served} events")),
        "verify counts what the server served: {verified}"
    );
    // The current layout: sled in its own folder, no blob file, nothing of 0.1's left.
    assert!(data.join("ledger").join("db").exists());
    for gone in ["db", "conf", "blobs"] {
        assert!(!data.join(gone).exists(), "0.1's {gone} is still there");
    }
    assert_eq!(data.join("ledger/blobs").read_dir().unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_written_by_0_1_imports_and_shows_the_same_plans() {
    let dir = unpack();
    let imported = dir.path().join("imported");
    let export = dir.path().join("export.ndjson");
    let out = councilflow(&["import", "--input", export.to_str().unwrap()], &imported);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("imported 146 events"));

    // The export was taken before 0.1's last three edits: compare with the 0.1 folder upgraded.
    let data = dir.path().join("data");
    let query = "{ plan(id: \"stockport-2024\") { id status revision sections { id revision } } \
                 small: plan(id: \"stockport-small\") { id status revision currentStage { id } } }";
    let mut app = spawn_process_app_at(&imported, &[]).await;
    let from_export = app
        .graphql_as("ravi-patel", query, serde_json::json!({}))
        .await;
    assert!(app.stop().await.success());
    assert_eq!(ok(&from_export)["plan"]["revision"], 40);
    assert_eq!(
        ok(&from_export)["small"]["currentStage"]["id"],
        "member-oversight"
    );
    let mut original = spawn_process_app_at(&data, &[]).await;
    let from_folder = original
        .graphql_as("ravi-patel", query, serde_json::json!({}))
        .await;
    assert!(original.stop().await.success());
    assert_eq!(ok(&from_export)["small"], ok(&from_folder)["small"]);
    assert_eq!(ok(&from_folder)["plan"]["revision"], 43);
}

#[derive(serde::Deserialize)]
struct ExportLine<'a> {
    stream: String,
    kind: String,
    #[serde(borrow)]
    payload: &'a serde_json::value::RawValue,
}

#[test]
fn every_event_0_1_recorded_reads_back_into_the_same_kind_stream_and_payload_bytes() {
    // The hash chain covers the payload's bytes: an event this release records must write the
    // same bytes 0.1 wrote for it, whatever shape the code that holds it has taken since.
    let dir = unpack();
    let export = std::fs::read_to_string(dir.path().join("export.ndjson")).unwrap();
    let mut checked = std::collections::BTreeSet::new();
    for text in export.lines().skip(1) {
        let line: ExportLine = serde_json::from_str(text).unwrap();
        let payload: Value = serde_json::from_str(line.payload.get()).unwrap();
        let event = councilflow_governance::DomainEvent::from_parts(&line.kind, &payload)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(event.kind(), line.kind);
        assert_eq!(event.stream(), line.stream, "{}", line.kind);
        assert_eq!(
            serde_json::to_string(&event.payload()).unwrap(),
            line.payload.get(),
            "{}",
            line.kind
        );
        checked.insert(line.kind);
    }
    assert!(checked.len() >= 5, "kinds checked: {checked:?}");
}
