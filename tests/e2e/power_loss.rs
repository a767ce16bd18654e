//! Power loss: the data folder on LazyFS, whose cache keeps everything not yet synced, so that
//! throwing the cache away is what a power cut does to a disk (a SIGKILL cannot show it: the
//! kernel keeps every page a killed process wrote). Writers edit plans with texts from a few
//! hundred bytes up to the longest the API accepts, across several checkpoints; then the power
//! goes at a chosen point, and after it: `councilflow verify` passes on the folder as the cut
//! left it, the server starts and serves, and every answered edit is there with its text.
//!
//! Where LazyFS cannot run (not root, no FUSE, no tool), each test says so and returns;
//! scripts/test builds LazyFS first, so CI runs them.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::lazyfs::{self, LazyFs};
use crate::support::*;

const WRITERS: usize = 6;
/// The API's longest section text, in bytes (`limits::SECTION_TEXT_BYTES`).
const LONGEST_TEXT: usize = 32 * 1024;
const SECTIONS: [&str; 5] = [
    "achievements",
    "transforming-services",
    "technology-and-data",
    "reducing-wasteful-spend",
    "measuring-delivery",
];
/// The server logs each checkpoint at debug level; the tests count them.
const LOG_FILTER: (&str, &str) = ("COUNCILFLOW_LOG", "info,councilflow_ledger=debug");
const CHECKPOINT_LINE: &str = "ledger checkpoint";

fn skip() -> bool {
    match lazyfs::unavailable() {
        Some(why) => {
            eprintln!("power-loss test not run: {why}");
            true
        }
        None => false,
    }
}

/// A section text of exactly `len` bytes that names its edit.
fn text(len: usize, round: usize, writer: usize, n: usize) -> String {
    let mut out = format!("Round {round}, writer {writer}, edit {n}. ");
    let words = "The council will share services, reduce waste and measure delivery. ";
    while out.len() < len {
        out.push_str(words);
    }
    out.truncate(len);
    out
}

fn digest(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// An edit the server answered: its plan, its event's id, and its text's digest.
#[derive(Clone)]
struct Answered {
    plan: String,
    event: String,
    text: u64,
}

/// Writers editing their own plans until stopped or until the server is gone.
struct Load {
    stop: Arc<AtomicBool>,
    answered: Arc<Mutex<Vec<Answered>>>,
    refused: Arc<Mutex<Vec<Value>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(app: &TestApp, token: &str, plans: &[String], round: usize, seed: u64) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let answered: Arc<Mutex<Vec<Answered>>> = Arc::default();
        let refused: Arc<Mutex<Vec<Value>>> = Arc::default();
        let document =
            "mutation($input: EditSectionInput!) { editSection(input: $input) { events { id kind } } }";
        let tasks = plans
            .iter()
            .enumerate()
            .map(|(w, plan)| {
                let (client, token, plan) = (app.client(), token.to_owned(), plan.clone());
                let (stop, answered, refused) = (stop.clone(), answered.clone(), refused.clone());
                tokio::spawn(async move {
                    let mut rng = fastrand::Rng::with_seed(seed ^ (w as u64 + 1));
                    for n in 0.. {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let len = if rng.u8(..8) == 0 {
                            LONGEST_TEXT
                        } else {
                            rng.usize(300..=LONGEST_TEXT)
                        };
                        let text = text(len, round, w, n);
                        let input = json!({
                            "planId": plan,
                            "sectionId": SECTIONS[n % SECTIONS.len()],
                            "text": text,
                        });
                        let Ok(response) = client
                            .graphql(Some(&token), document, json!({ "input": input }))
                            .await
                        else {
                            return; // no answer: the server is gone
                        };
                        if response.get("errors").is_some_and(|e| !e.is_null()) {
                            // After a crash fault the file system is gone, and writes fail.
                            refused.lock().unwrap().push(response);
                            return;
                        }
                        let events = response["data"]["editSection"]["events"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        let edited = events
                            .iter()
                            .find(|e| e["kind"] == "SectionEdited")
                            .expect("an answered edit has its SectionEdited event");
                        answered.lock().unwrap().push(Answered {
                            plan: plan.clone(),
                            event: edited["id"].as_str().unwrap().to_owned(),
                            text: digest(&text),
                        });
                    }
                })
            })
            .collect();
        Load {
            stop,
            answered,
            refused,
            tasks,
        }
    }

    /// Waits for every writer to end (the server went, or `stop`); what was answered.
    async fn finish(self) -> (Vec<Answered>, Vec<Value>) {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.unwrap();
        }
        let answered = self.answered.lock().unwrap().clone();
        let refused = self.refused.lock().unwrap().clone();
        (answered, refused)
    }
}

fn checkpoints(app: &TestApp) -> usize {
    app.server_log().matches(CHECKPOINT_LINE).count()
}

/// Waits until the server has logged `n` more checkpoints than `from` (a hang guard of 5 min).
async fn wait_for_checkpoints(app: &TestApp, from: usize, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while checkpoints(app) < from + n {
        assert!(
            Instant::now() < deadline,
            "no checkpoint in 5 minutes under load; server output:\n{}",
            app.server_log()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Where the power goes.
#[derive(Clone, Copy, Debug)]
enum Cut {
    /// At a random moment under load, after two checkpoints.
    UnderLoad,
    /// The moment the server logs a checkpoint: the write-ahead file is new and near empty.
    RightAfterACheckpoint,
    /// Inside a checkpoint: sled has written its pages, not yet synced them.
    BeforeTheCheckpointSync,
    /// Inside a checkpoint: sled's file is synced, the write-ahead file not yet started again.
    AfterTheCheckpointSync,
    /// After a clean stop: the last checkpoint ended the write-ahead file's generation, so the
    /// file holds nothing current.
    AfterACleanStop,
}

/// Runs load on `app` and cuts the power as `cut` says; returns the answered edits.
async fn load_then_cut(
    app: &mut TestApp,
    fs: &mut LazyFs,
    token: &str,
    plans: &[String],
    round: usize,
    cut: Cut,
    seed: u64,
) -> Vec<Answered> {
    let start = checkpoints(app);
    let load = Load::start(app, token, plans, round, seed);
    let pid = app.pid().expect("the server runs");
    match cut {
        Cut::UnderLoad => {
            wait_for_checkpoints(app, start, 2).await;
            let pause = fastrand::Rng::with_seed(seed).u64(0..1500);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            fs.power_cut(pid);
        }
        Cut::RightAfterACheckpoint => {
            wait_for_checkpoints(app, start, 2).await;
            wait_for_checkpoints(app, start + 2, 1).await;
            fs.power_cut(pid);
        }
        Cut::BeforeTheCheckpointSync | Cut::AfterTheCheckpointSync => {
            wait_for_checkpoints(app, start, 1).await;
            let timing = match cut {
                Cut::BeforeTheCheckpointSync => "before",
                _ => "after",
            };
            // sled's file is synced only by checkpoints (sled's own flusher is off).
            fs.crash_at(timing, "fsync", "/ledger/db");
            let deadline = Instant::now() + Duration::from_secs(300);
            while fs.alive() {
                assert!(Instant::now() < deadline, "no checkpoint in 5 minutes");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            lazyfs::signal(pid, "KILL");
        }
        Cut::AfterACleanStop => {
            wait_for_checkpoints(app, start, 1).await;
            load.stop.store(true, Ordering::SeqCst);
            // Writers in flight finish first: their answers come before the stop.
            let (answered, refused) = load.finish().await;
            assert!(refused.is_empty(), "refused before the stop: {refused:?}");
            let status = app.stop().await;
            assert!(status.success(), "a clean stop: {status}");
            fs.clear_cache();
            return answered;
        }
    }
    let (answered, refused) = load.finish().await;
    app.kill();
    if matches!(cut, Cut::UnderLoad | Cut::RightAfterACheckpoint) {
        assert!(
            refused.is_empty(),
            "round {round}: refused before the cut: {refused:?}"
        );
    }
    if !fs.alive() {
        fs.remount();
    }
    answered
}

/// Every answered edit is in its plan's history with the text it was answered for, and each
/// plan's sections hold the texts of their last edits in that history.
async fn assert_every_answer_kept(
    app: &TestApp,
    plans: &[String],
    answered: &[Answered],
    what: &str,
) {
    let query = "query($id: ID!, $after: String) { plan(id: $id) { sections { id text } \
                 history(after: $after, first: 100) { edges { node { id kind payload } } \
                 pageInfo { hasNextPage endCursor } } } }";
    let mut kept: HashMap<String, u64> = HashMap::new();
    for plan in plans {
        let mut after = Value::Null;
        let mut last_text: HashMap<String, u64> = HashMap::new();
        let sections = loop {
            let response = app
                .graphql_as("ravi-patel", query, json!({ "id": plan, "after": after }))
                .await;
            let data = ok(&response);
            let history = &data["plan"]["history"];
            for edge in history["edges"].as_array().unwrap() {
                let node = &edge["node"];
                if node["kind"] == "SectionEdited" {
                    let text = digest(node["payload"]["text"].as_str().unwrap());
                    let section = node["payload"]["section"].as_str().unwrap_or_default();
                    last_text.insert(section.to_owned(), text);
                    kept.insert(node["id"].as_str().unwrap().to_owned(), text);
                }
            }
            if history["pageInfo"]["hasNextPage"] != json!(true) {
                break data["plan"]["sections"].clone();
            }
            after = history["pageInfo"]["endCursor"].clone();
        };
        for section in sections.as_array().unwrap() {
            let id = section["id"].as_str().unwrap();
            if let Some(&text) = last_text.get(id) {
                assert_eq!(
                    digest(section["text"].as_str().unwrap()),
                    text,
                    "{what}: plan {plan} section {id} holds its last edit's text"
                );
            }
        }
    }
    let lost: Vec<&Answered> = answered
        .iter()
        .filter(|a| kept.get(&a.event) != Some(&a.text))
        .collect();
    assert!(
        lost.is_empty(),
        "{what}: {} of {} answered edits are missing or changed, first {} of plan {}",
        lost.len(),
        answered.len(),
        lost[0].event,
        lost[0].plan
    );
}

/// `councilflow verify` on the folder as the cut left it (it recovers it first).
fn verify(data: &Path, what: &str) {
    let out = Command::new(BINARY)
        .args(["verify", "--data"])
        .arg(data)
        .output()
        .expect("run councilflow verify");
    assert!(
        out.status.success(),
        "{what}: `councilflow verify` failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_edit_survives_power_cuts_at_every_point_of_a_checkpoint() {
    if skip() {
        return;
    }
    let seed = std::env::var("CF_POWER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("power cuts, seed {seed} (CF_POWER_SEED to repeat)");
    let mut fs = LazyFs::mount();
    let data = fs.mount.join("data");
    let mut app = spawn_process_app_at(&data, &[LOG_FILTER]).await;
    let token = app.token("ravi-patel").await;
    let mut plans = Vec::new();
    for _ in 0..WRITERS {
        plans.push(app.start_plan("ravi-patel", &["stockport"]).await);
    }
    let cuts = [
        Cut::UnderLoad,
        Cut::BeforeTheCheckpointSync,
        Cut::RightAfterACheckpoint,
        Cut::AfterTheCheckpointSync,
        Cut::AfterACleanStop,
        Cut::UnderLoad,
    ];
    let mut answered = Vec::new();
    for (round, cut) in cuts.into_iter().enumerate() {
        let what = format!("round {round} ({cut:?}, seed {seed})");
        let this = load_then_cut(
            &mut app,
            &mut fs,
            &token,
            &plans,
            round,
            cut,
            seed + round as u64,
        )
        .await;
        assert!(!this.is_empty(), "{what}: no edit was answered");
        eprintln!("{what}: {} edits answered", this.len());
        answered.extend(this);
        verify(&data, &what);
        app.restart().await;
        assert_every_answer_kept(&app, &plans, &answered, &what).await;
    }
    // The server takes writes after all that, and its folder verifies after a clean stop.
    app.act(
        "ravi-patel",
        "editSection",
        json!({ "planId": plans[0], "sectionId": "achievements", "text": "After the last cut." }),
    )
    .await;
    assert!(app.stop().await.success());
    verify(&data, "after the last round");
}

/// `councilflow serve` on `data`, not waited for.
fn serve(data: &Path) -> std::process::Child {
    Command::new(BINARY)
        .arg("serve")
        .arg("--data")
        .arg(data)
        .args(["--listen", "127.0.0.1:0", "--workflows"])
        .arg(repo_path("workflows"))
        .arg("--seeds")
        .arg(repo_path("seeds"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start councilflow serve")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cut_in_the_first_seconds_of_a_new_data_folder_leaves_one_that_starts() {
    if skip() {
        return;
    }
    let mut fs = LazyFs::mount();
    // From the first instant (no folder yet) to after the seeds are written.
    for (round, after_ms) in [0u64, 20, 60, 150, 300, 600, 1200, 2500]
        .into_iter()
        .enumerate()
    {
        let data: PathBuf = fs.mount.join(format!("new-{round}"));
        let mut child = serve(&data);
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        fs.power_cut(child.id());
        let _ = child.wait();
        let what = format!("a cut {after_ms} ms into a new folder");
        let mut app = spawn_process_app_at(&data, &[]).await;
        let plan = app.start_plan("ravi-patel", &["stockport"]).await;
        let edit = json!({ "planId": plan, "sectionId": "achievements", "text": "Kept." });
        app.act("ravi-patel", "editSection", edit).await;
        // And an answered write right after the start is kept through the next cut.
        fs.power_cut(app.pid().unwrap());
        app.kill();
        verify(&data, &what);
        app.restart().await;
        let kept = app.plan("ravi-patel", &plan).await;
        assert_eq!(section(&kept, "achievements")["text"], "Kept.", "{what}");
        assert!(app.stop().await.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_per_data_folder_even_where_the_file_system_ignores_flock() {
    if skip() {
        return;
    }
    let fs = LazyFs::mount();
    let data = fs.mount.join("data");
    let app = spawn_process_app_at(&data, &[]).await;
    // A second server on the same folder is refused, and says why.
    let second = Command::new(BINARY)
        .arg("serve")
        .arg("--data")
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second server ran: {said}");
    assert!(said.contains("in use"), "{said}");
    // verify needs the folder to itself and says so; people and token use the server's files.
    let verify = app.cli(&["verify"]).await;
    assert!(!verify.status.success());
    assert!(String::from_utf8_lossy(&verify.stderr).contains("in use"));
    let people = app.cli(&["people"]).await;
    assert!(String::from_utf8_lossy(&people.stdout).contains("ravi-patel\tdrafter\tstockport"));
    let token = app.token("maria-costa").await;
    let me = app.graphql(&token, "{ me { id } }", json!({})).await;
    assert_eq!(ok(&me)["me"]["id"], "maria-costa");
}
