//! A full disk: the data folder on a 64 MB tmpfs that a big file fills up. Mutations get a clear
//! error (not a hang, not a panic), reads keep working, nothing acknowledged is damaged, and writes
//! resume once the space is freed. Needs root and `mount`; where mounting is not permitted the test
//! says so and returns.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

/// Unmounts what it mounted, innermost first, whatever happens to the test.
struct Mounts(Vec<PathBuf>);

impl Drop for Mounts {
    fn drop(&mut self) {
        for dir in self.0.iter().rev() {
            let out = Command::new("umount").arg(dir).output();
            if !out.as_ref().is_ok_and(|o| o.status.success()) {
                // Still busy (a server that did not exit): detach it lazily rather than leak it.
                let _ = Command::new("umount").arg("-l").arg(dir).status();
            }
        }
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let out = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Writes `path` until the filesystem has no space left; the bytes written.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).expect("create the filler");
    let mut written = 0u64;
    for size in [1 << 20, 4096, 1] {
        let chunk = vec![0x5a_u8; size];
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
    }
    let _ = file.sync_all();
    written
}

fn edit(plan: &str, n: usize) -> Value {
    json!({ "planId": plan, "sectionId": "achievements", "text": format!("Acknowledged write {n}.") })
}

/// Runs a mutation with a hang guard; the raw response.
async fn mutate_guarded(app: &TestApp, input: Value) -> Value {
    tokio::time::timeout(
        Duration::from_secs(30),
        app.mutate("ravi-patel", "editSection", input),
    )
    .await
    .unwrap_or_else(|_| {
        panic!(
            "a mutation on a full disk hung for 30 s; server output:\n{}",
            app.server_log()
        )
    })
}

fn event_ids(response: &Value) -> Vec<String> {
    response["data"]["editSection"]["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every acknowledged event is in the plan's history, and the plan's revision counts its edits
/// (the projection matches the log).
async fn assert_intact(app: &TestApp, plan: &str, acknowledged: &[String], when: &str) {
    let history = app.history("ravi-patel", plan).await;
    let kept: Vec<&str> = history.iter().map(|e| e["id"].as_str().unwrap()).collect();
    for id in acknowledged {
        assert!(
            kept.contains(&id.as_str()),
            "acknowledged event {id} is readable {when}"
        );
    }
    let current = app.plan("ravi-patel", plan).await;
    assert_eq!(
        current["revision"].as_u64().unwrap() as usize,
        kinds(&history)
            .iter()
            .filter(|k| *k == "SectionEdited")
            .count(),
        "the projection matches the history {when}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_full_disk_mutations_fail_clearly_reads_work_and_writes_resume_once_space_is_freed() {
    let mut app = spawn_process_app().await;
    app.token("ravi-patel").await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let mut acknowledged: Vec<String> = Vec::new();
    for n in 0..5 {
        let response = app
            .mutate("ravi-patel", "editSection", edit(&plan, n))
            .await;
        ok(&response);
        acknowledged.extend(event_ids(&response));
    }
    let status = app.stop().await;
    assert!(status.success(), "a clean stop: {status}");

    // The data folder moves onto a 64 MB tmpfs (sled's file alone takes one 8 MiB segment):
    // mounted beside it, bind-mounted over it.
    let small = tempfile::Builder::new()
        .prefix("councilflow-small-disk-")
        .tempdir()
        .expect("a mount point");
    let mut mounts = Mounts(Vec::new());
    if let Err(e) = run(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64m", "tmpfs"])
        .arg(small.path()))
    {
        eprintln!("SKIPPED: mounting a tmpfs is not permitted here, so the disk-full test cannot run: {e}");
        return;
    }
    mounts.0.push(small.path().to_owned());
    let data = small.path().join("data");
    std::fs::create_dir(&data).unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", app.data_dir().display()))
        .arg(&data))
    .expect("copy the data folder onto the tmpfs");
    run(Command::new("mount")
        .arg("--bind")
        .arg(&data)
        .arg(app.data_dir()))
    .expect("bind-mount the tmpfs copy over the data folder");
    mounts.0.push(app.data_dir().to_owned());
    app.restart().await;
    let before = app.plan("ravi-patel", &plan).await;
    assert_eq!(
        before["revision"],
        json!(5),
        "the acknowledged edits: {before}"
    );

    // Fill the disk beside the data folder.
    let filler = small.path().join("filler.bin");
    let filled = fill(&filler);
    eprintln!("filled the tmpfs with {filled} bytes");

    // Writes may still fit in pages the ledger's files already hold; keep writing until one fails.
    let mut refused = None;
    for n in 5..205 {
        let response = mutate_guarded(&app, edit(&plan, n)).await;
        if response.get("errors").is_some_and(|e| !e.is_null()) {
            refused = Some(response);
            break;
        }
        acknowledged.extend(event_ids(&response));
    }
    let refused = refused.expect("a mutation on a full disk is refused within 200 writes");
    let (code, message) = refusal(&refused);
    eprintln!("on a full disk a mutation gets {code}: {message}");
    assert_eq!(
        code, "UNAVAILABLE",
        "a full disk is the server's condition, not a bug: {refused}"
    );
    assert!(
        message.contains("disk") && message.contains("Nothing was recorded"),
        "the message says what happened and that nothing was written: {message}"
    );
    assert!(
        refused["data"].is_null() || refused["data"]["editSection"].is_null(),
        "no payload with the error: {refused}"
    );
    assert!(
        !app.server_log().contains("panicked"),
        "no panic on a full disk; server output:\n{}",
        app.server_log()
    );

    // Reads keep working on a full disk, and show every acknowledged write.
    assert_intact(&app, &plan, &acknowledged, "on a full disk").await;
    // Still refused while the disk is full (not a one-off), and still no hang.
    let again = mutate_guarded(&app, edit(&plan, 1_000)).await;
    assert_eq!(
        refusal(&again).0,
        "UNAVAILABLE",
        "still full, still refused: {again}"
    );

    // Free the space: writes resume.
    std::fs::remove_file(&filler).expect("remove the filler");
    let mut resumed = None;
    for attempt in 0..20 {
        let response = mutate_guarded(&app, edit(&plan, 2_000 + attempt)).await;
        if response.get("errors").is_none_or(|e| e.is_null()) {
            resumed = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let resumed = resumed.unwrap_or_else(|| {
        panic!(
            "writes did not resume after the space was freed; server output:\n{}",
            app.server_log()
        )
    });
    acknowledged.extend(event_ids(&resumed));

    // Across a restart, and by `verify` after a clean stop, every acknowledged write is intact.
    app.restart().await;
    assert_intact(&app, &plan, &acknowledged, "after a restart").await;
    let status = app.stop().await;
    assert!(status.success(), "a clean stop: {status}");
    let verify = app.cli(&["verify"]).await;
    assert!(
        verify.status.success(),
        "`councilflow verify` after a full disk: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    drop(mounts);
}
