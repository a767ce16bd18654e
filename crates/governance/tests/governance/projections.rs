//! Projections: a long random but valid history, applied one event at a time, equals a rebuild
//! from scratch (through the ledger's kind + JSON payload), and a plan replayed from its own events
//! up to a time equals the plan rebuilt from every event recorded up to then; a cached plan view is
//! always the one computed afresh.

use councilflow_governance::{
    Decision, DomainEvent, EventMeta, PersonId, Plan, PlanCommand, PlanEvent, PlanView,
    Projections, Role, Scope, SharedSectionCommand,
};

use crate::common::*;

const PLAN_COUNCILS: [&[&str]; 5] = [
    &["derbyshire-dales"],
    &["stockport"],
    &["high-peak", "staffordshire-moorlands"],
    &["ashfield"],
    &["high-peak"],
];

fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

/// Someone holding `role` at one of `councils`, or anybody at all now and then (to exercise
/// refusals, which must leave no trace).
fn someone(
    w: &World,
    rng: &mut fastrand::Rng,
    role: Role,
    councils: &[councilflow_governance::CouncilId],
) -> PersonId {
    let org = w.p.organisation();
    if rng.u8(..10) == 0 {
        let all: Vec<&PersonId> = org.people.keys().collect();
        return (*pick(rng, &all)).clone();
    }
    let council = pick(rng, councils);
    let holders = org.holders(role, &Scope::Council(council.clone()));
    if holders.is_empty() {
        return pid("nadia-bell");
    }
    pick(rng, &holders).0.id.clone()
}

fn random_step(w: &mut World, rng: &mut fastrand::Rng, now: &str, started: &mut Vec<String>) {
    let roll = rng.u8(..100);
    if started.is_empty() || roll < 4 {
        let n = started.len();
        let councils = PLAN_COUNCILS[n % PLAN_COUNCILS.len()];
        let id = format!("plan-{n}");
        let drafter = someone(
            w,
            rng,
            Role::Drafter,
            &councils.iter().map(|c| cid(c)).collect::<Vec<_>>(),
        );
        let mut cmd = start(&id, "productivity-plan-2024", councils);
        if n % 7 == 6 {
            cmd = start(&id, "peer-challenge-action-plan", councils);
            if let PlanCommand::Start { key_dates, .. } = &mut cmd {
                key_dates.insert("challenge".parse().unwrap(), d("2024-02-22"));
            }
        }
        if w.act(&id, drafter.as_str(), cmd, now).is_ok() {
            started.push(id);
        }
        return;
    }
    if roll < 12 {
        let (council, ce) = *pick(rng, &DERBYSHIRE_CHIEF_EXECUTIVES);
        let revision =
            w.p.shared_section(&DCX.parse().unwrap(), &sec("barriers"))
                .map(|s| s.revision())
                .unwrap_or(0);
        let cmd = if revision == 0 || rng.u8(..6) == 0 {
            propose(
                DCX,
                "barriers",
                &format!("Barriers text {}", rng.u32(..1000)),
            )
        } else {
            agree(DCX, "barriers", revision, council)
        };
        let actor = if matches!(cmd, SharedSectionCommand::Propose { .. }) {
            "rachel-ingham"
        } else {
            ce
        };
        let _ = w.shared(actor, cmd, now);
        return;
    }
    let id = pick(rng, started).clone();
    let plan = w.plan(&id).clone();
    let workflows = w.p.workflows().clone();
    let workflow = workflows.get(&plan.workflow).unwrap();
    let stages = plan.stages(workflow);
    let current = stages.iter().find(|s| !s.is_complete()).cloned();
    let councils = plan.councils.clone();
    let (actor, cmd) = match roll {
        12..=35 => {
            let section = pick(rng, &plan.sections).id.clone();
            let actor = someone(w, rng, Role::Drafter, &councils);
            (
                actor,
                PlanCommand::EditSection {
                    section,
                    text: format!("Text {}", rng.u32(..1_000_000)),
                    expected_revision: None,
                },
            )
        }
        36..=40 => (someone(w, rng, Role::Drafter, &councils), adopt("barriers")),
        41..=75 => {
            let Some(stage) = current else { return };
            let def = workflow.stage(&stage.id).unwrap();
            let open: Vec<_> = stage.requirements.iter().filter(|r| !r.satisfied).collect();
            let Some(req) = open.first().map(|r| (*r).clone()) else {
                return;
            };
            let actor = someone(w, rng, req.role, std::slice::from_ref(&req.council));
            let cmd = match def.kind {
                councilflow_governance::StageKind::SignOff => PlanCommand::SignOff {
                    stage: stage.id.clone(),
                    role: req.role,
                    council: Some(req.council.clone()),
                    comment: None,
                    expected_revision: READ_NOW,
                },
                councilflow_governance::StageKind::Committee => {
                    let decision = *pick(
                        rng,
                        &[
                            Decision::Approved,
                            Decision::Approved,
                            Decision::Deferred,
                            Decision::ApprovedWithDelegatedAmendments,
                        ],
                    );
                    let delegated_to = (decision == Decision::ApprovedWithDelegatedAmendments)
                        .then(|| {
                            someone(w, rng, Role::Drafter, std::slice::from_ref(&req.council))
                        });
                    PlanCommand::RecordCommitteeDecision {
                        stage: Some(stage.id.clone()),
                        council: req.council.clone(),
                        committee: "Committee".into(),
                        meeting_date: d("2024-04-01"),
                        decision,
                        minute_reference: None,
                        delegated_to,
                        expected_revision: READ_NOW,
                    }
                }
                councilflow_governance::StageKind::Submission => submit(),
                councilflow_governance::StageKind::Publication => publish(),
            };
            (actor, cmd)
        }
        76..=82 => {
            let Some(s) = plan.sign_offs.iter().rev().find(|s| s.withdrawn.is_none()) else {
                return;
            };
            (
                s.by.clone(),
                PlanCommand::WithdrawSignOff {
                    stage: s.stage.clone(),
                    role: s.role,
                    council: Some(s.council.clone()),
                    reason: "Changed my mind.".into(),
                },
            )
        }
        83..=88 => {
            let council = pick(rng, &councils).clone();
            let actor = someone(w, rng, Role::CommitteeClerk, std::slice::from_ref(&council));
            let day = 1 + rng.u32(..28);
            (
                actor,
                PlanCommand::ScheduleMeeting {
                    stage: None,
                    council,
                    committee: "Committee".into(),
                    meeting_date: d(&format!("2024-09-{day:02}")),
                },
            )
        }
        _ => {
            let stage = pick(rng, &stages).id.clone();
            let actor = someone(w, rng, Role::Submitter, &councils);
            let due = t("2024-07-19T22:59:59Z") + chrono::Duration::days(rng.i64(-20..20));
            let cmd = if rng.bool() {
                PlanCommand::SetDeadline {
                    stage: Some(stage),
                    due,
                }
            } else {
                PlanCommand::RecordExtension {
                    due,
                    granted_by: "the department".into(),
                    granted_on: d("2024-06-28"),
                    reference: format!("letter {}", rng.u32(..1000)),
                }
            };
            (actor, cmd)
        }
    };
    let _ = w.act(&id, actor.as_str(), cmd, now);
}

fn random_history(seed: u64, steps: usize) -> World {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut w = World::new();
    let mut started = Vec::new();
    let mut now = t("2024-05-01T08:00:00Z");
    for _ in 0..steps {
        now += chrono::Duration::minutes(rng.i64(1..600));
        random_step(&mut w, &mut rng, &now.to_rfc3339(), &mut started);
    }
    w
}

/// The log as the ledger would store it: kind and JSON payload, read back.
fn through_the_ledger(log: &[(EventMeta, DomainEvent)]) -> Vec<(EventMeta, DomainEvent)> {
    log.iter()
        .map(|(meta, e)| {
            let stored = serde_json::to_vec(&e.payload()).unwrap();
            (
                meta.clone(),
                DomainEvent::from_parts(e.kind(), &serde_json::from_slice(&stored).unwrap())
                    .unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_long_random_history_applied_incrementally_equals_a_rebuild_from_scratch() {
    for seed in [1, 2, 3] {
        let w = random_history(seed, 1500);
        let plan_events = w
            .log
            .iter()
            .filter(|(_, e)| e.plan_event().is_some())
            .count();
        assert!(
            plan_events > 300,
            "seed {seed}: only {plan_events} plan events; the generator is too timid"
        );
        let stored = through_the_ledger(&w.log);
        let rebuilt = Projections::rebuild(shipped_workflows(), stored.iter().map(|(m, e)| (m, e)));
        assert_eq!(rebuilt, w.p, "seed {seed}");
        for plan in w.p.plans() {
            assert_eq!(rebuilt.plan_view(&plan.id), w.p.plan_view(&plan.id));
        }
        // Some plans got somewhere: the history is not only refusals.
        assert!(
            w.p.plans()
                .any(|p| p.submission.is_some() || !p.sign_offs.is_empty()),
            "seed {seed}"
        );
    }
}

#[test]
fn replaying_events_already_applied_changes_nothing() {
    let w = random_history(7, 300);
    let mut again = w.p.clone();
    for (meta, e) in &w.log[w.log.len() / 2..] {
        assert!(!again.apply(meta, e));
    }
    assert_eq!(again, w.p);
}

#[test]
fn a_plan_replayed_from_its_own_events_up_to_a_time_equals_the_plan_rebuilt_from_everything_up_to_then(
) {
    let w = random_history(11, 800);
    let mut rng = fastrand::Rng::with_seed(99);
    for plan in w.p.plans() {
        // What the API does for `plan(asOf:)`: the plan's own stream, cut at the time.
        let own: Vec<(&EventMeta, &PlanEvent)> = w
            .log
            .iter()
            .filter_map(|(m, e)| Some((m, e.plan_event()?)))
            .filter(|(_, e)| e.plan_id() == &plan.id)
            .collect();
        let cut = own[rng.usize(..own.len())].0;
        let as_of = Plan::replay(
            own.iter()
                .take_while(|(m, _)| m.recorded_at <= cut.recorded_at)
                .map(|(_, e)| *e),
        )
        .unwrap();
        let upto: Vec<(EventMeta, DomainEvent)> = w
            .log
            .iter()
            .filter(|(m, _)| m.recorded_at <= cut.recorded_at)
            .cloned()
            .collect();
        let rebuilt = Projections::rebuild(shipped_workflows(), upto.iter().map(|(m, e)| (m, e)));
        assert_eq!(Some(&as_of), rebuilt.plan(&plan.id));
    }
}

#[test]
fn plans_of_a_council_are_listed_in_the_order_they_started() {
    let w = random_history(5, 400);
    let hp: Vec<&str> =
        w.p.plans_of_council(&cid("high-peak"))
            .iter()
            .map(|p| p.id.as_str())
            .collect();
    let mut sorted = hp.clone();
    sorted.sort_by_key(|id| id.trim_start_matches("plan-").parse::<u32>().unwrap());
    assert_eq!(hp, sorted);
    assert!(!hp.is_empty());
    assert_eq!(w.p.shared_sections_of_group(&DCX.parse().unwrap()).len(), 1);
}

#[test]
fn a_plan_view_read_between_events_always_equals_one_computed_afresh() {
    // Given a random history where every plan's view is read after each step, so views stay
    // cached across plan, organisation and shared-section events
    let mut rng = fastrand::Rng::with_seed(11);
    let mut w = World::new();
    let mut started = Vec::new();
    let mut now = t("2024-05-01T08:00:00Z");
    let mut compared = 0;
    for _ in 0..600 {
        now += chrono::Duration::minutes(rng.i64(1..600));
        random_step(&mut w, &mut rng, &now.to_rfc3339(), &mut started);
        for plan in w.p.plans() {
            // When the view is read twice, and computed from scratch
            let cached = w.p.plan_view(&plan.id).unwrap();
            let again = w.p.plan_view(&plan.id).unwrap();
            let workflow = w.p.workflows().get(&plan.workflow).unwrap();
            let fresh = PlanView::of(plan, workflow, &w.p.context());
            // Then both reads share one computed view, and it is the fresh one
            assert!(std::sync::Arc::ptr_eq(&cached, &again));
            assert_eq!(
                *cached,
                fresh,
                "plan {} after {} events",
                plan.id,
                w.log.len()
            );
            compared += 1;
        }
    }
    assert!(compared > 1000, "only {compared} views compared");
}

#[test]
fn the_plans_changed_after_a_position_are_those_with_an_event_since_unless_everything_changed() {
    // Given a random history
    let w = random_history(5, 500);
    let (mut some, mut everything) = (0, 0);
    for (meta, _) in &w.log {
        // When asked which plans changed after a position in it
        let answer = w.p.plans_changed_after(meta.position);
        // Then it is every plan with an event since, or "everything" if the organisation or a
        // shared section changed since
        let later = w.log.iter().filter(|(m, _)| m.position > meta.position);
        let context_changed = later.clone().any(|(_, e)| e.plan_event().is_none());
        let expected: std::collections::BTreeSet<_> = later
            .filter_map(|(_, e)| e.plan_event().map(|p| p.plan_id().clone()))
            .collect();
        match answer {
            None => {
                assert!(context_changed, "after {}", meta.position);
                everything += 1;
            }
            Some(ids) => {
                assert!(!context_changed, "after {}", meta.position);
                let ids: std::collections::BTreeSet<_> = ids.into_iter().cloned().collect();
                assert_eq!(ids, expected, "after {}", meta.position);
                some += 1;
            }
        }
    }
    assert!(
        some > 3 && everything > 3,
        "{some} answered, {everything} everything"
    );

    // A snapshot does not know what changed before it was taken.
    let last = w.p.last_position().unwrap();
    let restored = Projections::from_snapshot(shipped_workflows(), w.p.snapshot());
    assert!(restored.plans_changed_after(last - 1).is_none());
    assert_eq!(
        restored.plans_changed_after(last).map(|ids| ids.len()),
        Some(0)
    );
}
