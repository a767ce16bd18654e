//! Durability: a mutation answers only after its events are durable, so SIGKILL at any moment
//! loses no answered write. Eight clients edit under load while the server is killed at a random
//! moment, 20 rounds (`CF_CRASH_ROUNDS` for more, `CF_CRASH_SEED` to repeat one run); after each
//! restart every answered write is there, every plan equals a replay of its own events (nothing
//! half-applied), and `councilflow verify` passes.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

const SECTIONS: [&str; 5] = [
    "achievements",
    "transforming-services",
    "technology-and-data",
    "reducing-wasteful-spend",
    "measuring-delivery",
];
const WRITERS: usize = 8;
/// Rounds of load, SIGKILL and restart (`CF_CRASH_ROUNDS` to change).
const DEFAULT_ROUNDS: usize = 20;
/// The kill falls at a random moment in this window after the writers start (milliseconds).
const KILL_WINDOW_MS: (u64, u64) = (5, 600);

fn assert_gapless(events: &[Value], what: &str) {
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["position"].as_i64().expect("an event position"))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[1] == w[0] + 1),
        "{what}: positions are consecutive, without gaps or repeats: {positions:?}"
    );
}

fn assert_verifies(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "`councilflow verify` failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rounds() -> usize {
    std::env::var("CF_CRASH_ROUNDS")
        .ok()
        .map(|r| {
            r.parse()
                .unwrap_or_else(|_| panic!("CF_CRASH_ROUNDS={r} is not a number"))
        })
        .unwrap_or(DEFAULT_ROUNDS)
}

/// One round: `WRITERS` clients edit their own plan as fast as they are answered until SIGKILL
/// at a random moment. Returns the events of every answered mutation, by plan.
async fn load_then_sigkill(
    app: &mut TestApp,
    token: &str,
    plans: &[String],
    round: usize,
    seed: u64,
) -> Vec<(String, String)> {
    let client = app.client();
    let document = plan_mutation("editSection");
    let answered: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let unexpected: Arc<Mutex<Vec<Value>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for (w, plan_id) in plans.iter().enumerate() {
        let (client, token, document, plan_id) = (
            client.clone(),
            token.to_owned(),
            document.clone(),
            plan_id.clone(),
        );
        let (answered, unexpected, count) = (answered.clone(), unexpected.clone(), count.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let input = json!({
                    "planId": plan_id,
                    "sectionId": SECTIONS[i % SECTIONS.len()],
                    "text": format!("Round {round}, writer {w}, write {i}."),
                });
                // No answer (refused or reset connection): the server is gone.
                let Ok(response) = client
                    .graphql(Some(&token), &document, json!({ "input": input }))
                    .await
                else {
                    return;
                };
                if response.get("errors").is_some_and(|e| !e.is_null()) {
                    unexpected.lock().unwrap().push(response);
                    return;
                }
                let events = response["data"]["editSection"]["events"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let mut answered = answered.lock().unwrap();
                for e in events {
                    answered.push((plan_id.clone(), e["id"].as_str().unwrap().to_owned()));
                }
                count.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    let delay = rng.u64(KILL_WINDOW_MS.0..KILL_WINDOW_MS.1);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    app.kill();
    for w in writers {
        w.await.unwrap();
    }
    let unexpected = unexpected.lock().unwrap().clone();
    assert!(
        unexpected.is_empty(),
        "round {round} (seed {seed}): edits refused before the kill: {unexpected:?}"
    );
    eprintln!(
        "round {round}: SIGKILL after {delay} ms, {} answered edits",
        count.load(Ordering::SeqCst)
    );
    let answered = answered.lock().unwrap().clone();
    answered
}

/// After a restart: every answered event is in its plan's history, versions have no gaps, and
/// each plan's projection equals a replay of its own history (`plan(asOf:)` replays).
async fn assert_recovered(
    app: &TestApp,
    plans: &[String],
    answered: &[(String, String)],
    what: &str,
) {
    let mut by_plan: HashMap<&str, Vec<&str>> = HashMap::new();
    for (plan, event) in answered {
        by_plan.entry(plan).or_default().push(event);
    }
    let replay = format!(
        "query($id: ID!, $asOf: DateTime) {{ now: plan(id: $id) {{ ...PlanFields }} replayed: plan(id: $id, asOf: $asOf) {{ ...PlanFields }} }}\n{PLAN_FIELDS}"
    );
    let mut lost = Vec::new();
    for plan_id in plans {
        let history = app.history("ravi-patel", plan_id).await;
        let kept: HashSet<&str> = history.iter().map(|e| e["id"].as_str().unwrap()).collect();
        for event in by_plan.get(plan_id.as_str()).cloned().unwrap_or_default() {
            if !kept.contains(event) {
                lost.push((plan_id.clone(), event.to_owned()));
            }
        }
        let versions: Vec<i64> = history
            .iter()
            .map(|e| e["version"].as_i64().unwrap())
            .collect();
        assert!(
            versions.windows(2).all(|w| w[1] == w[0] + 1),
            "{what}: plan {plan_id}: stream versions without gaps: {versions:?}"
        );
        let edits = kinds(&history)
            .iter()
            .filter(|k| *k == "SectionEdited")
            .count();
        let response = app
            .graphql_as(
                "ravi-patel",
                &replay,
                json!({ "id": plan_id, "asOf": "2100-12-31T23:59:59Z" }),
            )
            .await;
        let data = ok(&response);
        assert_eq!(
            data["now"]["revision"].as_u64().unwrap() as usize,
            edits,
            "{what}: plan {plan_id}: the projection after restart matches its history"
        );
        assert_eq!(
            data["now"], data["replayed"],
            "{what}: plan {plan_id}: the projection equals a replay of its history"
        );
    }
    assert!(
        lost.is_empty(),
        "{what}: {} of {} answered writes were lost: {lost:?}",
        lost.len(),
        answered.len()
    );
    assert_gapless(&app.all_events("regional-dashboard").await, what);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_write_survives_a_sigkill_and_the_chain_verifies_after_restart() {
    let rounds = rounds();
    let seed = std::env::var("CF_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("{rounds} rounds of SIGKILL under load, seed {seed} (CF_CRASH_SEED to repeat)");
    let mut app = spawn_process_app().await;
    let token = app.token("ravi-patel").await;
    let mut plans = Vec::new();
    for _ in 0..WRITERS {
        plans.push(app.start_plan("ravi-patel", &["stockport"]).await);
    }

    let mut answered = Vec::new();
    for round in 0..rounds {
        let round_seed = seed.wrapping_add(round as u64);
        let this_round = load_then_sigkill(&mut app, &token, &plans, round, round_seed).await;
        answered.extend(this_round);
        app.restart().await;
        // Every answered write of this round and of every earlier one.
        assert_recovered(
            &app,
            &plans,
            &answered,
            &format!("round {round} (seed {seed})"),
        )
        .await;
        // `verify` needs the folder to itself: a clean stop, the check, and on to the next round.
        let status = app.stop().await;
        assert!(
            status.success(),
            "round {round}: a clean stop on SIGTERM: {status}"
        );
        assert_verifies(&app.cli(&["verify"]).await);
        app.restart().await;
    }

    // Not vacuous: some edits were answered, so the checks above had something to look for.
    assert!(
        !answered.is_empty(),
        "seed {seed}: no edit was answered in {rounds} rounds"
    );

    // The ledger takes new writes after the crashes, and its chain verifies after a clean stop.
    app.act(
        "ravi-patel",
        "editSection",
        json!({ "planId": plans[0], "sectionId": "achievements", "text": "Written after the last restart." }),
    )
    .await;
    let status = app.stop().await;
    assert!(status.success(), "a clean stop on SIGTERM: {status}");
    assert_verifies(&app.cli(&["verify"]).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_refuses_a_folder_in_use_and_passes_after_a_clean_stop_and_the_data_survives_it() {
    let mut app = spawn_process_app().await;
    let plan_id = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &plan_id).await;
    app.act(
        "maria-costa",
        "signOff",
        json!({ "planId": plan_id, "stageId": "member-oversight", "role": "portfolio-holder" }),
    )
    .await;
    let before = app.plan("ravi-patel", &plan_id).await;

    let busy = app.cli(&["verify"]).await;
    assert!(
        !busy.status.success(),
        "verify must not read a ledger the server is writing"
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&busy.stdout),
        String::from_utf8_lossy(&busy.stderr)
    )
    .to_lowercase();
    assert!(
        said.contains("in use"),
        "verify says the folder is in use: {said}"
    );

    let status = app.stop().await;
    assert!(status.success(), "a clean stop on SIGTERM: {status}");
    assert_verifies(&app.cli(&["verify"]).await);

    app.restart().await;
    let after = app.plan("ravi-patel", &plan_id).await;
    assert_eq!(after, before, "the plan reads the same after a restart");
    // Tokens made before the restart still work.
    let response = app
        .graphql_as("maria-costa", "query { me { id } }", json!({}))
        .await;
    assert_eq!(ok(&response)["me"]["id"], "maria-costa");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigterm_as_soon_as_the_server_says_it_listens_stops_it_cleanly() {
    let mut app = spawn_process_app().await;
    // The window is narrow: try it often enough to notice.
    for attempt in 0..40 {
        let status = app.stop().await;
        assert!(
            status.success(),
            "attempt {attempt}: SIGTERM right after `councilflow listening on` is a clean stop, not death by signal: {status}"
        );
        app.restart().await;
    }
    let status = app.stop().await;
    assert!(status.success(), "{status}");
    assert_verifies(&app.cli(&["verify"]).await);
}
