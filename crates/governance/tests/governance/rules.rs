//! Each governance rule, given / when / then, once accepted and once refused.

use councilflow_governance::{Decision, PlanCommand, PlanEvent, Role, StageStatus};

use crate::common::*;

const DD: &str = "dd-plan";

/// A Derbyshire Dales plan, drafted, with the shared barriers agreed and adopted.
fn ready_plan() -> World {
    let mut w = World::new();
    agree_barriers(&mut w, "2024-06-01T10:00:00+01:00");
    w.act(
        DD,
        "nadia-bell",
        start(DD, "productivity-plan-2024", &["derbyshire-dales"]),
        "2024-06-01T11:00:00+01:00",
    )
    .unwrap();
    draft_productivity_plan(&mut w, DD, "nadia-bell", "2024-06-02T09:00:00+01:00");
    w.act(
        DD,
        "nadia-bell",
        adopt("barriers"),
        "2024-06-02T10:00:00+01:00",
    )
    .unwrap();
    w
}

fn through_report_authorisation(w: &mut World) {
    w.act(
        DD,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T12:00:00+01:00",
    )
    .unwrap();
    for (p, r) in [
        ("harriet-doyle", Role::MonitoringOfficer),
        ("martin-ashby", Role::ChiefExecutive),
        ("claire-fenwick", Role::S151Officer),
    ] {
        w.act(
            DD,
            p,
            sign("report-authorisation", r),
            "2024-07-10T12:00:00+01:00",
        )
        .unwrap();
    }
}

#[test]
fn a_drafter_of_an_owning_council_starts_a_plan() {
    let mut w = World::new();
    let events = w
        .act(
            DD,
            "nadia-bell",
            start(DD, "productivity-plan-2024", &["derbyshire-dales"]),
            "2024-06-01T09:00:00Z",
        )
        .unwrap();
    assert_eq!(events[0].kind(), "PlanStarted");
    assert_eq!(
        w.plan(DD).title,
        "Productivity plan 2024: Derbyshire Dales District Council"
    );
}

#[test]
fn someone_who_is_not_a_drafter_of_an_owning_council_cannot_start_a_plan() {
    let mut w = World::new();
    let err = w
        .act(
            DD,
            "ravi-patel",
            start(DD, "productivity-plan-2024", &["derbyshire-dales"]),
            "2024-06-01T09:00:00Z",
        )
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    assert!(err
        .message()
        .contains("Ravi Patel is not a drafter of Derbyshire Dales District Council"));
}

#[test]
fn starting_a_plan_with_an_unknown_workflow_council_or_a_taken_id_is_refused() {
    let mut w = World::new();
    assert_eq!(
        w.act(
            DD,
            "nadia-bell",
            start(DD, "budget-2025", &["derbyshire-dales"]),
            "2024-06-01T09:00:00Z"
        )
        .unwrap_err()
        .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        w.act(
            DD,
            "nadia-bell",
            start(DD, "productivity-plan-2024", &["atlantis"]),
            "2024-06-01T09:00:00Z"
        )
        .unwrap_err()
        .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        w.act(
            DD,
            "nadia-bell",
            start(DD, "productivity-plan-2024", &[]),
            "2024-06-01T09:00:00Z"
        )
        .unwrap_err()
        .code(),
        "BAD_INPUT"
    );
    w.act(
        DD,
        "nadia-bell",
        start(DD, "productivity-plan-2024", &["derbyshire-dales"]),
        "2024-06-01T09:00:00Z",
    )
    .unwrap();
    assert_eq!(
        w.act(
            DD,
            "nadia-bell",
            start(DD, "productivity-plan-2024", &["derbyshire-dales"]),
            "2024-06-01T09:00:00Z"
        )
        .unwrap_err()
        .code(),
        "CONFLICT"
    );
}

#[test]
fn a_joint_plan_of_councils_on_different_routes_must_name_its_route() {
    let mut w = World::new();
    let plan = "joint";
    let err = w
        .act(
            plan,
            "sam-whitfield",
            start(plan, "productivity-plan-2024", &["high-peak", "stockport"]),
            "2024-06-01T09:00:00Z",
        )
        .unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
    let mut cmd = start(plan, "productivity-plan-2024", &["high-peak", "stockport"]);
    if let PlanCommand::Start { route, .. } = &mut cmd {
        *route = Some("committee".parse().unwrap());
    }
    w.act(plan, "sam-whitfield", cmd, "2024-06-01T09:00:00Z")
        .unwrap();
}

#[test]
fn stages_complete_in_route_order() {
    // Given a drafted plan
    let mut w = ready_plan();
    // When the Monitoring Officer signs report authorisation before the leadership team approved
    let err = w
        .act(
            DD,
            "harriet-doyle",
            sign("report-authorisation", Role::MonitoringOfficer),
            "2024-06-05T09:00:00+01:00",
        )
        .unwrap_err();
    // Then it is refused, naming the stage that must complete first
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert_eq!(
        err.message(),
        "Report authorisation is not open yet: leadership team approval of the draft still needs the Chief Executive of Derbyshire Dales District Council"
    );
    // When the leadership team has approved, then the same act is accepted
    w.act(
        DD,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T12:00:00+01:00",
    )
    .unwrap();
    w.act(
        DD,
        "harriet-doyle",
        sign("report-authorisation", Role::MonitoringOfficer),
        "2024-06-12T09:00:00+01:00",
    )
    .unwrap();
}

#[test]
fn only_a_holder_of_the_required_role_signs_for_a_council() {
    let mut w = ready_plan();
    w.act(
        DD,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T12:00:00+01:00",
    )
    .unwrap();
    // The S151 officer cannot sign as Monitoring Officer
    let err = w
        .act(
            DD,
            "claire-fenwick",
            sign("report-authorisation", Role::MonitoringOfficer),
            "2024-07-09T09:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    // Another council's Monitoring Officer cannot sign for Derbyshire Dales: its draft does not
    // exist for her
    let err = w
        .act(
            DD,
            "lucy-tran",
            sign("report-authorisation", Role::MonitoringOfficer),
            "2024-07-09T09:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    // A role the stage does not list is bad input
    let err = w
        .act(
            DD,
            "ben-hartley",
            sign("report-authorisation", Role::PortfolioHolder),
            "2024-07-09T09:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
    w.act(
        DD,
        "harriet-doyle",
        sign("report-authorisation", Role::MonitoringOfficer),
        "2024-07-09T09:00:00+01:00",
    )
    .unwrap();
}

#[test]
fn a_deputys_sign_off_is_recorded_as_a_deputys() {
    let mut w = ready_plan();
    w.act(
        DD,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T12:00:00+01:00",
    )
    .unwrap();
    let events = w
        .act(
            DD,
            "owen-price",
            sign("report-authorisation", Role::MonitoringOfficer),
            "2024-07-09T09:00:00+01:00",
        )
        .unwrap();
    let PlanEvent::SignedOff(s) = &events[0] else {
        panic!()
    };
    assert!(s.deputy);
    // The holder's own sign-off is not a deputy's
    let events = w
        .act(
            DD,
            "martin-ashby",
            sign("report-authorisation", Role::ChiefExecutive),
            "2024-07-10T09:00:00+01:00",
        )
        .unwrap();
    let PlanEvent::SignedOff(s) = &events[0] else {
        panic!()
    };
    assert!(!s.deputy);
}

#[test]
fn signing_a_requirement_that_is_already_signed_is_a_conflict() {
    let mut w = ready_plan();
    w.act(
        DD,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T12:00:00+01:00",
    )
    .unwrap();
    let err = w
        .act(
            DD,
            "martin-ashby",
            sign("leadership-team", Role::ChiefExecutive),
            "2024-06-11T12:01:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "CONFLICT");
}

#[test]
fn a_signer_withdraws_their_own_sign_off_and_the_stage_reopens() {
    let mut w = ready_plan();
    w.act(
        DD,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T12:00:00+01:00",
    )
    .unwrap();
    let withdraw = |reason: &str| PlanCommand::WithdrawSignOff {
        stage: sid("leadership-team"),
        role: Role::ChiefExecutive,
        council: None,
        reason: reason.into(),
    };
    // Someone else cannot withdraw it
    assert_eq!(
        w.act(
            DD,
            "claire-fenwick",
            withdraw("No."),
            "2024-06-12T09:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "NOT_FOUND"
    );
    // A withdrawal needs a reason
    assert_eq!(
        w.act(
            DD,
            "martin-ashby",
            withdraw(" "),
            "2024-06-12T09:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "BAD_INPUT"
    );
    w.act(
        DD,
        "martin-ashby",
        withdraw("Signed the wrong draft."),
        "2024-06-12T09:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.stage_status(DD, "leadership-team"), StageStatus::Open);
    // The withdrawn sign-off stays in the record, marked
    assert!(w.plan(DD).sign_offs[0].withdrawn.is_some());
}

#[test]
fn committee_decisions_are_recorded_by_the_councils_committee_clerk() {
    let mut w = ready_plan();
    through_report_authorisation(&mut w);
    let err = w
        .act(
            DD,
            "ellie-shaw",
            committee("derbyshire-dales", "2024-07-18", Decision::Approved),
            "2024-07-18T20:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    // Stockport's clerk cannot record Derbyshire Dales' committee: the draft does not exist for
    // her
    let err = w
        .act(
            DD,
            "hannah-moss",
            committee("derbyshire-dales", "2024-07-18", Decision::Approved),
            "2024-07-18T20:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    w.act(
        DD,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-18", Decision::Approved),
        "2024-07-18T20:00:00+01:00",
    )
    .unwrap();
    assert_eq!(
        w.stage_status(DD, "committee-approval"),
        StageStatus::Complete
    );
}

#[test]
fn a_deferred_committee_blocks_until_a_later_meeting_approves() {
    let mut w = ready_plan();
    through_report_authorisation(&mut w);
    w.act(
        DD,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-11", Decision::Deferred),
        "2024-07-11T20:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.blocker_codes(DD), ["COMMITTEE_DEFERRED"]);
    assert!(w
        .act(DD, "ellie-shaw", submit(), "2024-07-12T09:00:00+01:00")
        .is_err());
    w.act(
        DD,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-18", Decision::Approved),
        "2024-07-18T20:00:00+01:00",
    )
    .unwrap();
    w.act(DD, "ellie-shaw", submit(), "2024-07-19T09:00:00+01:00")
        .unwrap();
}

#[test]
fn a_committee_decision_for_a_meeting_that_has_not_happened_is_refused() {
    let mut w = ready_plan();
    through_report_authorisation(&mut w);
    let err = w
        .act(
            DD,
            "gareth-lowe",
            committee("derbyshire-dales", "2024-07-18", Decision::Approved),
            "2024-07-17T20:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
}

#[test]
fn only_a_submitter_submits_and_only_once() {
    let mut w = ready_plan();
    through_report_authorisation(&mut w);
    w.act(
        DD,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-18", Decision::Approved),
        "2024-07-18T20:00:00+01:00",
    )
    .unwrap();
    assert_eq!(
        w.act(DD, "nadia-bell", submit(), "2024-07-19T09:00:00+01:00")
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    w.act(DD, "ellie-shaw", submit(), "2024-07-19T09:00:00+01:00")
        .unwrap();
    assert_eq!(
        w.act(DD, "ellie-shaw", submit(), "2024-07-19T09:01:00+01:00")
            .unwrap_err()
            .code(),
        "CONFLICT"
    );
}

#[test]
fn publication_needs_submission_and_a_web_address() {
    let mut w = ready_plan();
    through_report_authorisation(&mut w);
    w.act(
        DD,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-18", Decision::Approved),
        "2024-07-18T20:00:00+01:00",
    )
    .unwrap();
    let err = w
        .act(DD, "ellie-shaw", publish(), "2024-07-19T09:00:00+01:00")
        .unwrap_err();
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert!(
        err.message().starts_with(
            "Publication on the council website is not open yet: submission to the department"
        ),
        "{}",
        err.message()
    );
    w.act(DD, "ellie-shaw", submit(), "2024-07-19T09:00:00+01:00")
        .unwrap();
    let bad = PlanCommand::Publish {
        url: "somewhere on the website".into(),
        expected_revision: READ_NOW,
    };
    assert_eq!(
        w.act(DD, "ellie-shaw", bad, "2024-07-19T10:00:00+01:00")
            .unwrap_err()
            .code(),
        "BAD_INPUT"
    );
    let events = w
        .act(DD, "ellie-shaw", publish(), "2024-07-19T10:00:00+01:00")
        .unwrap();
    assert_eq!(events[0].kind(), "PlanPublished");
}

#[test]
fn after_submission_edits_and_withdrawals_are_refused() {
    let mut w = ready_plan();
    through_report_authorisation(&mut w);
    w.act(
        DD,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-18", Decision::Approved),
        "2024-07-18T20:00:00+01:00",
    )
    .unwrap();
    // Before submission an edit is accepted (and makes approvals stale)...
    let mut before = w.clone();
    before
        .act(
            DD,
            "nadia-bell",
            edit("achievements", "Changed."),
            "2024-07-19T08:00:00+01:00",
        )
        .unwrap();
    // ...after it, refused
    w.act(DD, "ellie-shaw", submit(), "2024-07-19T09:00:00+01:00")
        .unwrap();
    let err = w
        .act(
            DD,
            "nadia-bell",
            edit("achievements", "Changed."),
            "2024-07-19T10:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert!(
        err.message().contains("submitted on 19 July 2024"),
        "{}",
        err.message()
    );
    let withdraw = PlanCommand::WithdrawSignOff {
        stage: sid("leadership-team"),
        role: Role::ChiefExecutive,
        council: None,
        reason: "x".into(),
    };
    assert_eq!(
        w.act(DD, "martin-ashby", withdraw, "2024-07-19T10:00:00+01:00")
            .unwrap_err()
            .code(),
        "GOVERNANCE_VIOLATION"
    );
}

#[test]
fn an_edit_based_on_an_old_revision_is_a_conflict() {
    let mut w = ready_plan();
    let cmd = |expected| PlanCommand::EditSection {
        section: sec("achievements"),
        text: "New.".into(),
        expected_revision: Some(expected),
    };
    assert_eq!(
        w.act(DD, "nadia-bell", cmd(0), "2024-06-03T09:00:00+01:00")
            .unwrap_err()
            .code(),
        "CONFLICT"
    );
    w.act(DD, "nadia-bell", cmd(1), "2024-06-03T09:00:00+01:00")
        .unwrap();
}

#[test]
fn only_drafters_edit_and_shared_sections_are_edited_in_their_group() {
    let mut w = ready_plan();
    assert_eq!(
        w.act(
            DD,
            "martin-ashby",
            edit("achievements", "x"),
            "2024-06-03T09:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "FORBIDDEN"
    );
    let err = w
        .act(
            DD,
            "nadia-bell",
            edit("barriers", "Our own."),
            "2024-06-03T09:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert!(err
        .message()
        .contains("comes from Derbyshire Chief Executives Group"));
    assert_eq!(
        w.act(
            DD,
            "nadia-bell",
            edit("no-such-section", "x"),
            "2024-06-03T09:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "NOT_FOUND"
    );
    // The same text again records nothing
    assert!(w
        .act(
            DD,
            "nadia-bell",
            edit("achievements", "Draft text for achievements."),
            "2024-06-03T09:00:00+01:00"
        )
        .unwrap()
        .is_empty());
}

#[test]
fn an_unknown_actor_or_stage_is_refused() {
    let mut w = ready_plan();
    assert_eq!(
        w.act(
            DD,
            "nobody",
            sign("leadership-team", Role::ChiefExecutive),
            "2024-06-11T12:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "FORBIDDEN"
    );
    // Cabinet is a stage of the other route
    assert_eq!(
        w.act(
            DD,
            "martin-ashby",
            sign("cabinet", Role::ChiefExecutive),
            "2024-06-11T12:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        w.act(
            "no-plan",
            "martin-ashby",
            sign("leadership-team", Role::ChiefExecutive),
            "2024-06-11T12:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "NOT_FOUND"
    );
}

#[test]
fn deadlines_are_moved_by_drafters_submitters_or_the_chief_executive_only() {
    let mut w = ready_plan();
    let cmd = || PlanCommand::SetDeadline {
        stage: Some(sid("leadership-team")),
        due: t("2024-06-14T16:00:00Z"),
    };
    assert_eq!(
        w.act(DD, "gareth-lowe", cmd(), "2024-06-03T09:00:00Z")
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    let events = w
        .act(DD, "martin-ashby", cmd(), "2024-06-03T09:00:00Z")
        .unwrap();
    assert_eq!(events[0].kind(), "DeadlineSet");
    assert_eq!(
        w.view(DD).stage_deadlines[&sid("leadership-team")],
        t("2024-06-14T16:00:00Z")
    );
}

#[test]
fn only_the_councils_committee_clerk_schedules_its_meeting() {
    let mut w = ready_plan();
    let cmd = || PlanCommand::ScheduleMeeting {
        stage: None,
        council: cid("derbyshire-dales"),
        committee: "Governance and Resources Committee".into(),
        meeting_date: d("2024-07-18"),
    };
    assert_eq!(
        w.act(DD, "nadia-bell", cmd(), "2024-07-01T09:00:00+01:00")
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    let events = w
        .act(DD, "gareth-lowe", cmd(), "2024-07-01T09:00:00+01:00")
        .unwrap();
    assert_eq!(events[0].kind(), "MeetingScheduled");
}

#[test]
fn only_a_drafter_adopts_a_shared_text_and_only_once_per_revision() {
    let mut w = World::new();
    agree_barriers(&mut w, "2024-06-01T10:00:00+01:00");
    w.act(
        DD,
        "nadia-bell",
        start(DD, "productivity-plan-2024", &["derbyshire-dales"]),
        "2024-06-01T11:00:00+01:00",
    )
    .unwrap();
    assert_eq!(
        w.act(
            DD,
            "martin-ashby",
            adopt("barriers"),
            "2024-06-02T10:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "FORBIDDEN"
    );
    assert_eq!(
        w.act(
            DD,
            "nadia-bell",
            adopt("achievements"),
            "2024-06-02T10:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "BAD_INPUT"
    );
    w.act(
        DD,
        "nadia-bell",
        adopt("barriers"),
        "2024-06-02T10:00:00+01:00",
    )
    .unwrap();
    assert_eq!(
        w.act(
            DD,
            "nadia-bell",
            adopt("barriers"),
            "2024-06-02T10:01:00+01:00"
        )
        .unwrap_err()
        .code(),
        "CONFLICT"
    );
}

#[test]
fn blockers_say_which_role_at_which_council_so_reminders_can_find_recipients() {
    let mut w = ready_plan();
    w.act(
        DD,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T12:00:00+01:00",
    )
    .unwrap();
    let blockers = w.view(DD).blockers;
    let waiting: Vec<(Role, councilflow_governance::Scope)> = blockers
        .iter()
        .flat_map(|b| b.waiting_on.iter().map(|x| (x.role, x.scope.clone())))
        .collect();
    let dd = councilflow_governance::Scope::Council(cid("derbyshire-dales"));
    assert_eq!(
        waiting,
        [
            (Role::ChiefExecutive, dd.clone()),
            (Role::S151Officer, dd.clone()),
            (Role::MonitoringOfficer, dd.clone())
        ]
    );
    assert!(blockers
        .iter()
        .all(|b| b.stage == Some(sid("report-authorisation"))));
    // The organisation names the people, deputies included
    let holders = w.p.organisation().holders(Role::MonitoringOfficer, &dd);
    assert_eq!(holders.len(), 2);
}

fn extension(due: &str, reference: &str) -> PlanCommand {
    PlanCommand::RecordExtension {
        due: t(due),
        granted_by: "the Department for Levelling Up, Housing and Communities".into(),
        granted_on: d("2024-07-05"),
        reference: reference.into(),
    }
}

#[test]
fn a_deadline_the_department_sets_moves_only_by_an_extension_it_granted() {
    // Given a productivity plan, whose submission deadline the department sets
    let mut w = ready_plan();
    // When a submitter tries to move the deadline as if the council set it
    let err = w
        .act(
            DD,
            "ellie-shaw",
            PlanCommand::SetDeadline {
                stage: None,
                due: t("2024-07-26T22:59:59Z"),
            },
            "2024-07-05T09:00:00+01:00",
        )
        .unwrap_err();
    // Then it is refused, saying who sets it
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert!(
        err.to_string().contains("Department for Levelling Up"),
        "{err}"
    );
    // When the submitter records the extension the department granted
    let events = w
        .act(
            DD,
            "ellie-shaw",
            extension("2024-07-26T22:59:59Z", "DLUHC email of 5 July 2024"),
            "2024-07-05T10:00:00+01:00",
        )
        .unwrap();
    // Then the deadline moves and the original stays on the record beside the extension
    assert_eq!(events[0].kind(), "DeadlineExtended");
    let view = w.view(DD);
    assert_eq!(view.submission_deadline, Some(t("2024-07-26T22:59:59Z")));
    assert_eq!(
        view.original_submission_deadline,
        Some(t("2024-07-19T22:59:59Z"))
    );
    assert_eq!(
        view.plan.extensions[0].reference,
        "DLUHC email of 5 July 2024"
    );
}

#[test]
fn an_extension_needs_who_granted_it_a_reference_and_a_later_date() {
    let mut w = ready_plan();
    let at = "2024-07-05T10:00:00+01:00";
    // A committee clerk does not deal with the department
    assert_eq!(
        w.act(
            DD,
            "gareth-lowe",
            extension("2024-07-26T22:59:59Z", "letter"),
            at
        )
        .unwrap_err()
        .code(),
        "FORBIDDEN"
    );
    // An extension without a reference is not one
    assert_eq!(
        w.act(
            DD,
            "ellie-shaw",
            extension("2024-07-26T22:59:59Z", "  "),
            at
        )
        .unwrap_err()
        .code(),
        "BAD_INPUT"
    );
    // Nor is one that brings the deadline forward
    assert_eq!(
        w.act(
            DD,
            "ellie-shaw",
            extension("2024-07-12T22:59:59Z", "letter"),
            at
        )
        .unwrap_err()
        .code(),
        "BAD_INPUT"
    );
    assert!(w.view(DD).plan.extensions.is_empty());
}

#[test]
fn a_submitted_plan_is_judged_against_the_extension_and_its_deadline_no_longer_moves() {
    // Given an extension to 26 July
    let mut w = ready_plan();
    w.act(
        DD,
        "martin-ashby",
        extension("2024-07-26T22:59:59Z", "DLUHC letter"),
        "2024-07-05T10:00:00+01:00",
    )
    .unwrap();
    through_report_authorisation(&mut w);
    w.act(
        DD,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-18", Decision::Approved),
        "2024-07-18T20:00:00+01:00",
    )
    .unwrap();
    // When the plan is submitted on 22 July, after the original deadline
    w.act(DD, "ellie-shaw", submit(), "2024-07-22T09:00:00+01:00")
        .unwrap();
    // Then it is not late, and no later extension is recorded
    assert!(!w.view(DD).late);
    assert_eq!(
        w.act(
            DD,
            "ellie-shaw",
            extension("2024-08-02T22:59:59Z", "second letter"),
            "2024-07-23T10:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "GOVERNANCE_VIOLATION"
    );
}
