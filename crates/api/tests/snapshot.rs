//! The projection snapshot: a start from a snapshot (plus the events after it) gives exactly the
//! state a full replay gives, and a snapshot that does not belong to the ledger, or does not
//! decode, is ignored in favour of a full replay. On a real sled folder.

mod common;

use std::path::Path;

use councilflow_api::snapshot::FILE;
use councilflow_api::Service;
use councilflow_governance::{
    CouncilId, PersonId, Plan, PlanCommand, PlanId, Projections, Role, SectionId, StageId,
    WorkflowId,
};
use councilflow_reminders::ReminderLog;

async fn open(dir: &Path) -> Service {
    Service::open(common::settings(dir))
        .await
        .expect("the service opens")
}

/// Everything the projector maintains, to compare two starts.
fn state(service: &Service) -> (Projections, ReminderLog, u64) {
    let state = service.read();
    (
        state.projections.clone(),
        state.reminders.clone(),
        state.position,
    )
}

fn person(id: &str) -> PersonId {
    PersonId::parse(id).unwrap()
}

/// Starts `plans` Stockport plans (from `first`), edits each a few times, and has the portfolio
/// holder sign the first off.
async fn activity(service: &Service, first: usize, plans: usize) {
    let drafter = person("ravi-patel");
    for n in first..first + plans {
        let id = PlanId::parse(&format!("stockport-snap-{n}")).unwrap();
        let start = PlanCommand::Start {
            plan: id.clone(),
            workflow: WorkflowId::parse("productivity-plan-2024").unwrap(),
            councils: vec![CouncilId::parse("stockport").unwrap()],
            route: None,
            title: None,
            key_dates: Default::default(),
        };
        service
            .execute::<Plan>(&drafter, &id, start, None)
            .await
            .unwrap();
        for edit in 0..3 {
            let command = PlanCommand::EditSection {
                section: SectionId::parse("achievements").unwrap(),
                text: format!("Plan {n}, edit {edit}."),
                expected_revision: None,
            };
            service
                .execute::<Plan>(&drafter, &id, command, None)
                .await
                .unwrap();
        }
        if n == first {
            let sign_off = PlanCommand::SignOff {
                stage: StageId::parse("member-oversight").unwrap(),
                role: Role::PortfolioHolder,
                council: None,
                comment: None,
                // The three edits above.
                expected_revision: 3,
            };
            service
                .execute::<Plan>(&person("maria-costa"), &id, sign_off, None)
                .await
                .unwrap();
        }
    }
}

/// The state of a full replay of `dir`'s ledger (the snapshot under test moved aside, then put
/// back over the one this start leaves).
async fn full_replay(dir: &Path) -> (Projections, ReminderLog, u64) {
    let file = dir.join(FILE);
    let aside = dir.join("snapshot.aside");
    let had = std::fs::rename(&file, &aside).is_ok();
    let service = open(dir).await;
    assert_eq!(service.start_report().snapshot_position, 0, "a full replay");
    let replayed = state(&service);
    service.close().await;
    if had {
        std::fs::rename(&aside, &file).unwrap();
    } else {
        let _ = std::fs::remove_file(&file);
    }
    replayed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_from_the_snapshot_written_at_a_clean_stop_equals_a_full_replay() {
    // Given a service with plans, stopped cleanly.
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path()).await;
    activity(&service, 0, 4).await;
    let before = state(&service);
    service.close().await;
    assert!(
        dir.path().join(FILE).exists(),
        "a clean stop leaves a snapshot"
    );

    // When it starts again.
    let service = open(dir.path()).await;

    // Then it started from the snapshot, replayed nothing, and holds what it held.
    let report = service.start_report();
    assert_eq!(report.snapshot_position, before.2);
    assert_eq!(report.replayed, 0);
    assert_eq!(state(&service), before);
    service.close().await;
    assert_eq!(full_replay(dir.path()).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_after_the_snapshot_are_replayed_onto_it() {
    // Given a snapshot taken after the first plans, and more plans written after it (as a crash
    // leaves things: the snapshot behind the ledger).
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path()).await;
    activity(&service, 0, 3).await;
    service.close().await;
    let early = std::fs::read(dir.path().join(FILE)).unwrap();
    let service = open(dir.path()).await;
    activity(&service, 3, 3).await;
    let latest = state(&service);
    service.close().await;
    std::fs::write(dir.path().join(FILE), &early).unwrap();

    // When it starts.
    let service = open(dir.path()).await;

    // Then the snapshot was used and the rest replayed onto it: the same state as a full replay.
    let report = service.start_report();
    assert!(report.snapshot_position > 0, "{report:?}");
    assert_eq!(report.snapshot_position + report.replayed, latest.2);
    assert!(report.replayed > 0);
    assert_eq!(state(&service), latest);
    service.close().await;
    assert_eq!(full_replay(dir.path()).await, latest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_snapshot_is_ignored_and_the_whole_log_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path()).await;
    activity(&service, 0, 2).await;
    let before = state(&service);
    service.close().await;
    let mut bytes = std::fs::read(dir.path().join(FILE)).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(dir.path().join(FILE), &bytes).unwrap();

    let service = open(dir.path()).await;

    assert_eq!(service.start_report().snapshot_position, 0);
    assert_eq!(state(&service), before);
    service.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_from_another_ledger_is_ignored() {
    // Given two folders with different histories of the same length (so positions line up)...
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let service = open(a.path()).await;
    activity(&service, 0, 2).await;
    service.close().await;
    let service = open(b.path()).await;
    activity(&service, 10, 2).await;
    let before = state(&service);
    service.close().await;
    // ... and the first's snapshot copied into the second.
    std::fs::copy(a.path().join(FILE), b.path().join(FILE)).unwrap();

    let service = open(b.path()).await;

    assert_eq!(
        service.start_report().snapshot_position,
        0,
        "the snapshot's event hash does not match this ledger"
    );
    assert_eq!(state(&service), before);
    service.close().await;
}
