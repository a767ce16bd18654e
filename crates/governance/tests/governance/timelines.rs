//! The timelines of the source documents, played through the engine: Derbyshire Dales on time and
//! late, the Derbyshire chief executives' shared barriers section, the High Peak / Staffordshire
//! Moorlands joint plan, Stockport with cabinet after submission, staleness after an edit, a stage
//! that covers only some sections, and the peer-challenge action plan.

use std::collections::BTreeMap;

use councilflow_governance::{
    DeadlineKind, Decision, GovernanceError, GroupId, PlanCommand, PlanEvent, PlanId, PlanStatus,
    Role, StageStatus, Workflow, Workflows,
};

use crate::common::*;

const DD: &str = "dd-productivity-2024";

/// Derbyshire Dales up to committee approval on 18 July 2024.
fn derbyshire_dales_to_committee() -> World {
    let mut w = World::new();
    agree_barriers(&mut w, "2024-06-07T10:00:00+01:00");
    w.act(
        DD,
        "nadia-bell",
        start(DD, "productivity-plan-2024", &["derbyshire-dales"]),
        "2024-05-20T09:00:00+01:00",
    )
    .unwrap();
    draft_productivity_plan(&mut w, DD, "nadia-bell", "2024-06-03T09:00:00+01:00");
    w.act(
        DD,
        "nadia-bell",
        adopt("barriers"),
        "2024-06-10T09:00:00+01:00",
    )
    .unwrap();
    // Leadership team, 11 June; report authorisation, 9 and 10 July.
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
        "2024-07-09T16:00:00+01:00",
    )
    .unwrap();
    w.act(
        DD,
        "martin-ashby",
        sign("report-authorisation", Role::ChiefExecutive),
        "2024-07-10T11:00:00+01:00",
    )
    .unwrap();
    w.act(
        DD,
        "claire-fenwick",
        sign("report-authorisation", Role::S151Officer),
        "2024-07-10T15:00:00+01:00",
    )
    .unwrap();
    w.act(
        DD,
        "gareth-lowe",
        PlanCommand::ScheduleMeeting {
            stage: None,
            council: cid("derbyshire-dales"),
            committee: "Governance and Resources Committee".into(),
            meeting_date: d("2024-07-18"),
        },
        "2024-07-01T09:00:00+01:00",
    )
    .unwrap();
    w.act(
        DD,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-18", Decision::Approved),
        "2024-07-18T21:00:00+01:00",
    )
    .unwrap();
    w
}

#[test]
fn derbyshire_dales_submitted_on_19_july_2024_is_on_time() {
    // Given the Derbyshire Dales plan approved by committee on 18 July
    let mut w = derbyshire_dales_to_committee();
    assert_eq!(w.view(DD).status, PlanStatus::Approved);
    // When the submitter submits on the afternoon of 19 July
    let events = w
        .act(DD, "ellie-shaw", submit(), "2024-07-19T15:00:00+01:00")
        .unwrap();
    // Then it is recorded on time, with the approved content hash
    let PlanEvent::PlanSubmitted(s) = &events[0] else {
        panic!("{events:?}")
    };
    assert!(!s.late);
    assert_eq!(
        s.deadline.unwrap().to_rfc3339(),
        "2024-07-19T22:59:59+00:00"
    );
    assert_eq!(s.content_hash, w.plan(DD).content_hash());
    let view = w.view(DD);
    assert_eq!(view.status, PlanStatus::Submitted);
    assert!(!view.late);
    assert_eq!(
        view.submitted_at.unwrap().to_rfc3339(),
        "2024-07-19T14:00:00+00:00"
    );
    // And it is published the same day
    w.act(DD, "ellie-shaw", publish(), "2024-07-19T16:00:00+01:00")
        .unwrap();
    assert_eq!(w.view(DD).status, PlanStatus::Published);
    assert!(w.view(DD).blockers.is_empty());
    assert_eq!(w.view(DD).current_stage, None);
}

#[test]
fn derbyshire_dales_submitted_on_22_july_2024_is_late() {
    let mut w = derbyshire_dales_to_committee();
    w.act(DD, "ellie-shaw", submit(), "2024-07-22T10:00:00+01:00")
        .unwrap();
    let view = w.view(DD);
    assert!(view.late);
    assert_eq!(view.status, PlanStatus::Submitted);
}

#[test]
fn derbyshire_dales_deadlines_follow_the_documents() {
    let w = derbyshire_dales_to_committee();
    let view = w.view(DD);
    let due = |stage: &str| view.stage_deadlines[&sid(stage)].to_rfc3339();
    assert_eq!(due("leadership-team"), "2024-06-11T22:59:59+00:00");
    assert_eq!(due("report-authorisation"), "2024-07-10T22:59:59+00:00");
    assert_eq!(due("committee-approval"), "2024-07-18T22:59:59+00:00");
    assert_eq!(due("submission"), "2024-07-19T22:59:59+00:00");
    let papers = view
        .deadlines
        .iter()
        .find(|d| matches!(d.kind, DeadlineKind::Papers { .. }))
        .unwrap();
    // Five clear working days before Thursday 18 July: papers out by the end of Wednesday 10 July.
    assert_eq!(papers.due.to_rfc3339(), "2024-07-10T22:59:59+00:00");
}

#[test]
fn moving_a_date_moves_what_depends_on_it() {
    let mut w = derbyshire_dales_to_committee();
    // Given the department extends the submission deadline by a week
    w.act(
        DD,
        "ellie-shaw",
        PlanCommand::RecordExtension {
            due: t("2024-07-26T22:59:59Z"),
            granted_by: "the Department for Levelling Up, Housing and Communities".into(),
            granted_on: d("2024-07-12"),
            reference: "letter of 12 July 2024".into(),
        },
        "2024-07-15T09:00:00Z",
    )
    .unwrap();
    // Then the stage deadlines counted from it move too
    let view = w.view(DD);
    assert_eq!(
        view.stage_deadlines[&sid("report-authorisation")].to_rfc3339(),
        "2024-07-17T22:59:59+00:00"
    );
    // And a committee meeting moved to Monday 22 July moves its papers deadline
    w.act(
        DD,
        "gareth-lowe",
        PlanCommand::ScheduleMeeting {
            stage: Some(sid("committee-approval")),
            council: cid("derbyshire-dales"),
            committee: "Governance and Resources Committee".into(),
            meeting_date: d("2024-07-22"),
        },
        "2024-07-15T10:00:00Z",
    )
    .unwrap();
    let papers: Vec<_> = w
        .view(DD)
        .deadlines
        .into_iter()
        .filter(|d| matches!(d.kind, DeadlineKind::Papers { .. }))
        .collect();
    assert_eq!(papers.len(), 1);
    assert_eq!(papers[0].due.to_rfc3339(), "2024-07-12T22:59:59+00:00");
    // And lateness is judged against the plan's own deadline: 22 July is now on time
    w.act(DD, "ellie-shaw", submit(), "2024-07-22T10:00:00+01:00")
        .unwrap();
    assert!(!w.view(DD).late);
}

#[test]
fn a_member_plan_is_blocked_until_every_derbyshire_council_agrees_the_shared_barriers_section() {
    let mut w = World::new();
    let group = GroupId::parse(DCX).unwrap();
    // Given a Derbyshire Dales plan whose barriers section comes from the group
    w.act(
        DD,
        "nadia-bell",
        start(DD, "productivity-plan-2024", &["derbyshire-dales"]),
        "2024-05-20T09:00:00+01:00",
    )
    .unwrap();
    assert_eq!(
        w.plan(DD).section(&sec("barriers")).unwrap().shared_from,
        Some(group.clone())
    );
    draft_productivity_plan(&mut w, DD, "nadia-bell", "2024-06-03T09:00:00+01:00");
    assert_eq!(w.blocker_codes(DD)[0], "SHARED_SECTION_NOT_AGREED");

    // When the group proposes its text and three of nine councils agree
    w.shared(
        "rachel-ingham",
        propose(DCX, "barriers", "Single-year settlements and bidding pots."),
        "2024-06-03T10:00:00+01:00",
    )
    .unwrap();
    for (council, ce) in &DERBYSHIRE_CHIEF_EXECUTIVES[..3] {
        w.shared(
            ce,
            agree(DCX, "barriers", 1, council),
            "2024-06-04T10:00:00+01:00",
        )
        .unwrap();
    }
    // Then the plan is blocked, naming the group and the count
    let blocker = &w.view(DD).blockers[0];
    assert_eq!(blocker.code.as_str(), "SHARED_SECTION_NOT_AGREED");
    assert!(
        blocker
            .message
            .contains("3 of 9 councils of Derbyshire Chief Executives Group"),
        "{}",
        blocker.message
    );
    assert_eq!(blocker.waiting_on.len(), 6);
    // And its first sign-off is refused
    let err = w
        .act(
            DD,
            "martin-ashby",
            sign("leadership-team", Role::ChiefExecutive),
            "2024-06-05T09:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert!(err.message().contains("3 of 9"), "{}", err.message());
    // And there is nothing to adopt yet
    assert_eq!(
        w.act(
            DD,
            "nadia-bell",
            adopt("barriers"),
            "2024-06-05T09:00:00+01:00"
        )
        .unwrap_err()
        .code(),
        "GOVERNANCE_VIOLATION"
    );

    // When the remaining six agree
    for (council, ce) in &DERBYSHIRE_CHIEF_EXECUTIVES[3..] {
        w.shared(
            ce,
            agree(DCX, "barriers", 1, council),
            "2024-06-06T10:00:00+01:00",
        )
        .unwrap();
    }
    let shared = w.p.shared_section(&group, &sec("barriers")).unwrap();
    assert_eq!(shared.agreed_revision(), Some(1));
    assert!(shared.waiting_on().is_empty());
    // Then the plan must still adopt the agreed text before its first sign-off
    assert_eq!(w.blocker_codes(DD)[0], "SHARED_SECTION_NOT_ADOPTED");
    assert!(w
        .act(
            DD,
            "martin-ashby",
            sign("leadership-team", Role::ChiefExecutive),
            "2024-06-07T09:00:00+01:00"
        )
        .is_err());
    w.act(
        DD,
        "nadia-bell",
        adopt("barriers"),
        "2024-06-07T10:00:00+01:00",
    )
    .unwrap();
    assert_eq!(
        w.plan(DD).section(&sec("barriers")).unwrap().text,
        "Single-year settlements and bidding pots."
    );
    w.act(
        DD,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T12:00:00+01:00",
    )
    .unwrap();

    // When the group proposes a second revision, adopting plans are not flagged until it is agreed
    w.shared(
        "rachel-ingham",
        propose(
            DCX,
            "barriers",
            "Single-year settlements, bidding pots, asset revaluations.",
        ),
        "2024-06-20T10:00:00+01:00",
    )
    .unwrap();
    assert!(!w.blocker_codes(DD).contains(&"SHARED_SECTION_OUTDATED"));
    for (council, ce) in DERBYSHIRE_CHIEF_EXECUTIVES {
        w.shared(
            ce,
            agree(DCX, "barriers", 2, council),
            "2024-06-21T10:00:00+01:00",
        )
        .unwrap();
    }
    // Then once agreed, the plan is flagged until it re-adopts, and re-adopting is an edit
    assert_eq!(w.blocker_codes(DD)[0], "SHARED_SECTION_OUTDATED");
    let err = w
        .act(
            DD,
            "harriet-doyle",
            sign("report-authorisation", Role::MonitoringOfficer),
            "2024-06-22T09:00:00+01:00",
        )
        .unwrap_err();
    assert!(err.message().contains("outdated"), "{}", err.message());
    w.act(
        DD,
        "nadia-bell",
        adopt("barriers"),
        "2024-06-24T09:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.stage_status(DD, "leadership-team"), StageStatus::Stale);
}

#[test]
fn shared_section_agreement_is_by_each_member_councils_chief_executive() {
    let mut w = World::new();
    w.shared(
        "rachel-ingham",
        propose(DCX, "barriers", "Text."),
        "2024-06-03T10:00:00+01:00",
    )
    .unwrap();
    // A drafter of a member council is not its chief executive
    let err = w
        .shared(
            "nadia-bell",
            agree(DCX, "barriers", 1, "derbyshire-dales"),
            "2024-06-03T11:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    // A chief executive agrees only for their own council
    let err = w
        .shared(
            "martin-ashby",
            agree(DCX, "barriers", 1, "bolsover"),
            "2024-06-03T11:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    // Stockport is not a member
    let err = w
        .shared(
            "fiona-grant",
            agree(DCX, "barriers", 1, "stockport"),
            "2024-06-03T11:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
    // Agreeing twice is a conflict; agreeing a superseded revision is a conflict
    w.shared(
        "martin-ashby",
        agree(DCX, "barriers", 1, "derbyshire-dales"),
        "2024-06-03T11:00:00+01:00",
    )
    .unwrap();
    let err = w
        .shared(
            "martin-ashby",
            agree(DCX, "barriers", 1, "derbyshire-dales"),
            "2024-06-03T11:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "CONFLICT");
    w.shared(
        "rachel-ingham",
        propose(DCX, "barriers", "Text, revised."),
        "2024-06-04T10:00:00+01:00",
    )
    .unwrap();
    let err = w
        .shared(
            "ian-dunmore",
            agree(DCX, "barriers", 1, "bolsover"),
            "2024-06-04T11:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "CONFLICT");
    w.shared(
        "ian-dunmore",
        agree(DCX, "barriers", 2, "bolsover"),
        "2024-06-04T11:00:00+01:00",
    )
    .unwrap();
}

#[test]
fn only_group_members_and_member_chief_executives_propose_shared_text() {
    let mut w = World::new();
    // Stockport's chief executive is not in the Derbyshire group
    let err = w
        .shared(
            "fiona-grant",
            propose(DCX, "barriers", "Text."),
            "2024-06-03T10:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    // A member council's chief executive may
    w.shared(
        "kate-lindqvist",
        propose(DCX, "barriers", "Text."),
        "2024-06-03T10:00:00+01:00",
    )
    .unwrap();
    // A stale expected revision is a conflict
    let cmd = councilflow_governance::SharedSectionCommand::Propose {
        group: DCX.parse().unwrap(),
        section: sec("barriers"),
        text: "Other text.".into(),
        expected_revision: Some(0),
    };
    assert_eq!(
        w.shared("rachel-ingham", cmd, "2024-06-03T11:00:00+01:00")
            .unwrap_err()
            .code(),
        "CONFLICT"
    );
}

const ALLIANCE: &str = "alliance-productivity-2024";

#[test]
fn the_alliance_joint_plan_needs_each_councils_sign_offs_and_committee_from_one_chief_executive() {
    let mut w = World::new();
    w.act(
        ALLIANCE,
        "sam-whitfield",
        start(
            ALLIANCE,
            "productivity-plan-2024",
            &["high-peak", "staffordshire-moorlands"],
        ),
        "2024-05-20T09:00:00+01:00",
    )
    .unwrap();
    // Staffordshire Moorlands is not a Derbyshire council, so the joint plan writes its own barriers
    assert_eq!(
        w.plan(ALLIANCE)
            .section(&sec("barriers"))
            .unwrap()
            .shared_from,
        None
    );
    w.act(
        ALLIANCE,
        "sam-whitfield",
        edit("barriers", "Our own barriers."),
        "2024-05-21T09:00:00+01:00",
    )
    .unwrap();

    // The shared Chief Executive must say which council they sign for
    let err = w
        .act(
            ALLIANCE,
            "priya-holloway",
            sign("leadership-team", Role::ChiefExecutive),
            "2024-06-10T09:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
    assert!(
        err.message()
            .contains("High Peak Borough Council and Staffordshire Moorlands District Council"),
        "{}",
        err.message()
    );
    w.act(
        ALLIANCE,
        "priya-holloway",
        sign_for("leadership-team", Role::ChiefExecutive, "high-peak"),
        "2024-06-10T09:00:00+01:00",
    )
    .unwrap();
    // One council's sign-off does not count for the other
    assert_eq!(
        w.stage_status(ALLIANCE, "leadership-team"),
        StageStatus::Open
    );
    let blocker = &w.view(ALLIANCE).blockers[0];
    assert_eq!(blocker.code.as_str(), "WAITING_ON_ROLE");
    assert!(
        blocker
            .message
            .contains("Chief Executive of Staffordshire Moorlands District Council"),
        "{}",
        blocker.message
    );
    w.act(
        ALLIANCE,
        "priya-holloway",
        sign_for(
            "leadership-team",
            Role::ChiefExecutive,
            "staffordshire-moorlands",
        ),
        "2024-06-10T09:05:00+01:00",
    )
    .unwrap();
    assert_eq!(
        w.stage_status(ALLIANCE, "leadership-team"),
        StageStatus::Complete
    );

    for (person, role) in [
        ("priya-holloway", Role::ChiefExecutive),
        ("tom-achebe", Role::S151Officer),
        ("ruth-calder", Role::MonitoringOfficer),
    ] {
        for council in ["high-peak", "staffordshire-moorlands"] {
            w.act(
                ALLIANCE,
                person,
                sign_for("report-authorisation", role, council),
                "2024-07-08T09:00:00+01:00",
            )
            .unwrap();
        }
    }
    // Two committees: High Peak's approval alone does not open submission
    w.act(
        ALLIANCE,
        "lewis-brandt",
        committee("high-peak", "2024-07-16", Decision::Approved),
        "2024-07-16T20:00:00+01:00",
    )
    .unwrap();
    let err = w
        .act(
            ALLIANCE,
            "jade-okafor",
            submit(),
            "2024-07-17T09:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert!(
        err.message()
            .contains("committee of Staffordshire Moorlands District Council"),
        "{}",
        err.message()
    );
    w.act(
        ALLIANCE,
        "lewis-brandt",
        committee("staffordshire-moorlands", "2024-07-17", Decision::Approved),
        "2024-07-17T20:00:00+01:00",
    )
    .unwrap();
    w.act(
        ALLIANCE,
        "jade-okafor",
        submit(),
        "2024-07-18T09:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.view(ALLIANCE).status, PlanStatus::Submitted);
    // The plan is listed under both councils
    assert_eq!(w.p.plans_of_council(&cid("high-peak")).len(), 1);
    assert_eq!(
        w.p.plans_of_council(&cid("staffordshire-moorlands")).len(),
        1
    );
}

const STOCKPORT: &str = "stockport-productivity-2024";

#[test]
fn stockport_is_overseen_by_its_portfolio_holder_and_seen_by_cabinet_after_submission() {
    let mut w = World::new();
    w.act(
        STOCKPORT,
        "ravi-patel",
        start(STOCKPORT, "productivity-plan-2024", &["stockport"]),
        "2024-05-01T09:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.plan(STOCKPORT).route.as_str(), "portfolio-holder");
    w.act(
        STOCKPORT,
        "ravi-patel",
        edit("achievements", "One Stockport."),
        "2024-06-01T09:00:00+01:00",
    )
    .unwrap();
    w.act(
        STOCKPORT,
        "maria-costa",
        sign("member-oversight", Role::PortfolioHolder),
        "2024-07-15T09:00:00+01:00",
    )
    .unwrap();
    w.act(
        STOCKPORT,
        "kwame-mensah",
        sign("member-oversight", Role::S151Officer),
        "2024-07-15T10:00:00+01:00",
    )
    .unwrap();
    // Cabinet cannot decide before submission and publication
    let err = w
        .act(
            STOCKPORT,
            "hannah-moss",
            committee("stockport", "2024-07-16", Decision::Approved),
            "2024-07-16T20:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert!(
        err.message()
            .starts_with("Cabinet is not open yet: submission to the department still needs"),
        "{}",
        err.message()
    );
    w.act(
        STOCKPORT,
        "joe-sutton",
        submit(),
        "2024-07-18T09:00:00+01:00",
    )
    .unwrap();
    w.act(
        STOCKPORT,
        "joe-sutton",
        publish(),
        "2024-07-18T10:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.view(STOCKPORT).current_stage, Some(sid("cabinet")));
    assert_eq!(w.blocker_codes(STOCKPORT), ["COMMITTEE_DECISION_NEEDED"]);
    // After submission the text is frozen
    let err = w
        .act(
            STOCKPORT,
            "ravi-patel",
            edit("achievements", "Changed."),
            "2024-07-20T09:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert!(err.message().contains("frozen"));
    // Cabinet sees it in October
    w.act(
        STOCKPORT,
        "hannah-moss",
        committee("stockport", "2024-10-16", Decision::Approved),
        "2024-10-16T20:00:00+01:00",
    )
    .unwrap();
    let view = w.view(STOCKPORT);
    assert_eq!(view.status, PlanStatus::Published);
    assert_eq!(view.current_stage, None);
    assert!(view
        .stages
        .iter()
        .all(|s| s.status == StageStatus::Complete));
}

#[test]
fn an_edit_after_sign_off_makes_approvals_stale_until_signed_again() {
    let mut w = derbyshire_dales_to_committee();
    // Given a plan approved by committee, when the drafter edits a section
    w.act(
        DD,
        "nadia-bell",
        edit("technology-and-data", "A late change."),
        "2024-07-19T09:00:00+01:00",
    )
    .unwrap();
    // Then every approval of the changed text is stale and its stage reopens
    for stage in [
        "leadership-team",
        "report-authorisation",
        "committee-approval",
    ] {
        assert_eq!(w.stage_status(DD, stage), StageStatus::Stale, "{stage}");
    }
    let view = w.view(DD);
    assert_eq!(view.current_stage, Some(sid("leadership-team")));
    assert_eq!(view.blockers[0].code.as_str(), "STALE_APPROVAL");
    assert!(view.blockers[0]
        .message
        .contains("Chief Executive of Derbyshire Dales District Council signed revision"));
    let sign_offs = w.plan(DD).sign_offs_for(
        &shipped_workflows()
            .get(&"productivity-plan-2024".parse().unwrap())
            .unwrap()
            .clone(),
        &sid("leadership-team"),
    );
    assert!(sign_offs.iter().all(|s| s.stale));
    // And the plan cannot be submitted
    let err = w
        .act(DD, "ellie-shaw", submit(), "2024-07-19T10:00:00+01:00")
        .unwrap_err();
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    assert!(
        err.message()
            .contains("leadership team approval of the draft still needs the Chief Executive"),
        "{}",
        err.message()
    );
    // When everyone signs the new text again and the committee decides again
    w.act(
        DD,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-07-19T10:00:00+01:00",
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
            "2024-07-19T10:30:00+01:00",
        )
        .unwrap();
    }
    assert_eq!(w.stage_status(DD, "committee-approval"), StageStatus::Stale);
    w.act(
        DD,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-19", Decision::Approved),
        "2024-07-19T12:00:00+01:00",
    )
    .unwrap();
    // Then it can be submitted
    w.act(DD, "ellie-shaw", submit(), "2024-07-19T15:00:00+01:00")
        .unwrap();
}

#[test]
fn delegated_amendments_do_not_reopen_the_committee_stage() {
    let mut w = derbyshire_dales_to_committee();
    // Given the committee's approval is replaced by one with amendments delegated to the submitter
    w.act(
        DD,
        "nadia-bell",
        edit("measuring-delivery", "Dashboards."),
        "2024-07-19T08:00:00+01:00",
    )
    .unwrap();
    for (p, s, r) in [
        ("martin-ashby", "leadership-team", Role::ChiefExecutive),
        (
            "harriet-doyle",
            "report-authorisation",
            Role::MonitoringOfficer,
        ),
        ("martin-ashby", "report-authorisation", Role::ChiefExecutive),
        ("claire-fenwick", "report-authorisation", Role::S151Officer),
    ] {
        w.act(DD, p, sign(s, r), "2024-07-19T08:30:00+01:00")
            .unwrap();
    }
    let mut cmd = committee(
        "derbyshire-dales",
        "2024-07-19",
        Decision::ApprovedWithDelegatedAmendments,
    );
    if let PlanCommand::RecordCommitteeDecision { delegated_to, .. } = &mut cmd {
        *delegated_to = Some(pid("ellie-shaw"));
    }
    w.act(DD, "gareth-lowe", cmd, "2024-07-19T09:00:00+01:00")
        .unwrap();
    // When the delegated officer amends a section
    let events = w
        .act(
            DD,
            "ellie-shaw",
            edit("measuring-delivery", "Dashboards, quarterly."),
            "2024-07-19T10:00:00+01:00",
        )
        .unwrap();
    // Then the edit is recorded as delegated and no stage reopens
    let PlanEvent::SectionEdited(e) = &events[0] else {
        panic!()
    };
    assert_eq!(
        e.delegated.as_ref().unwrap().stage,
        sid("committee-approval")
    );
    for stage in [
        "leadership-team",
        "report-authorisation",
        "committee-approval",
    ] {
        assert_eq!(w.stage_status(DD, stage), StageStatus::Complete, "{stage}");
    }
    // But an edit by anyone else still reopens the committee stage
    w.act(
        DD,
        "nadia-bell",
        edit("measuring-delivery", "Dashboards, monthly."),
        "2024-07-19T11:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.stage_status(DD, "committee-approval"), StageStatus::Stale);
}

#[test]
fn an_approval_with_delegated_amendments_must_name_the_officer() {
    let mut w = derbyshire_dales_to_committee();
    w.act(
        DD,
        "nadia-bell",
        edit("measuring-delivery", "Dashboards."),
        "2024-07-19T08:00:00+01:00",
    )
    .unwrap();
    let err = w
        .act(
            DD,
            "gareth-lowe",
            committee(
                "derbyshire-dales",
                "2024-07-19",
                Decision::ApprovedWithDelegatedAmendments,
            ),
            "2024-07-19T09:00:00+01:00",
        )
        .unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
}

/// A workflow whose finance sign-off covers only the finance section.
fn partial_cover_workflows() -> Workflows {
    let text = r#"
id = "budget-note"
title = "Budget note"
default_route = "main"
[reminders]
days_before = [7]
hour = 9
overdue_every_days = 1
escalate_after_days_overdue = 2
escalate_to = "chief-executive"
[[sections]]
id = "narrative"
title = "Narrative"
[[sections]]
id = "finance"
title = "Finance"
[[stages]]
id = "finance-check"
title = "Finance check"
kind = "sign-off"
roles = ["s151-officer"]
covers = ["finance"]
[[stages]]
id = "chief-executive"
title = "Chief executive approval"
kind = "sign-off"
roles = ["chief-executive"]
[[stages]]
id = "submission"
title = "Submission"
kind = "submission"
[[routes]]
id = "main"
title = "Main"
stages = ["finance-check", "chief-executive", "submission"]
"#;
    let custom = Workflow::parse("budget-note.toml", text).unwrap();
    Workflows::from_workflows(shipped_workflows().iter().cloned().chain([custom]))
}

#[test]
fn a_stage_that_covers_only_some_sections_is_made_stale_only_by_edits_to_them() {
    let mut w = World::with(partial_cover_workflows(), shipped_seed());
    let plan = "ashfield-budget-note";
    w.act(
        plan,
        "amy-reid",
        start(plan, "budget-note", &["ashfield"]),
        "2024-05-01T09:00:00+01:00",
    )
    .unwrap();
    w.act(
        plan,
        "amy-reid",
        edit("finance", "Balanced."),
        "2024-05-01T10:00:00+01:00",
    )
    .unwrap();
    w.act(
        plan,
        "irene-walsh",
        sign("finance-check", Role::S151Officer),
        "2024-05-02T10:00:00+01:00",
    )
    .unwrap();
    // An edit to the narrative leaves the finance check complete
    w.act(
        plan,
        "amy-reid",
        edit("narrative", "Our story."),
        "2024-05-03T10:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.stage_status(plan, "finance-check"), StageStatus::Complete);
    w.act(
        plan,
        "daniel-frost",
        sign("chief-executive", Role::ChiefExecutive),
        "2024-05-04T10:00:00+01:00",
    )
    .unwrap();
    // An edit to the finance section makes it stale, and the chief executive's approval too
    w.act(
        plan,
        "amy-reid",
        edit("finance", "Balanced, with reserves."),
        "2024-05-05T10:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.stage_status(plan, "finance-check"), StageStatus::Stale);
    assert_eq!(w.stage_status(plan, "chief-executive"), StageStatus::Stale);
}

#[test]
fn the_peer_challenge_progress_review_is_due_twelve_months_after_the_challenge() {
    let mut w = World::new();
    let plan = "smdc-peer-challenge-2024";
    let mut cmd = start(
        plan,
        "peer-challenge-action-plan",
        &["staffordshire-moorlands"],
    );
    if let PlanCommand::Start { key_dates, .. } = &mut cmd {
        *key_dates = BTreeMap::from([("challenge".parse().unwrap(), d("2024-02-22"))]);
    }
    w.act(plan, "sam-whitfield", cmd, "2024-03-01T09:00:00Z")
        .unwrap();
    assert_eq!(w.plan(plan).route.as_str(), "executive");
    let review = |w: &World| w.view(plan).stage_deadlines[&sid("progress-review")].to_rfc3339();
    assert_eq!(review(&w), "2025-02-22T23:59:59+00:00");
    // Moving the challenge date moves the review
    w.act(
        plan,
        "sam-whitfield",
        PlanCommand::SetKeyDate {
            date: "challenge".parse().unwrap(),
            on: d("2024-02-20"),
        },
        "2024-03-02T09:00:00Z",
    )
    .unwrap();
    assert_eq!(review(&w), "2025-02-20T23:59:59+00:00");
    // The route runs sign-off, executive approval, publication, progress review
    w.act(
        plan,
        "sam-whitfield",
        edit("recommendation-1", "An overarching alliance plan."),
        "2024-03-05T09:00:00Z",
    )
    .unwrap();
    w.act(
        plan,
        "priya-holloway",
        sign("action-plan", Role::ChiefExecutive),
        "2024-04-01T09:00:00+01:00",
    )
    .unwrap();
    w.act(
        plan,
        "lewis-brandt",
        committee("staffordshire-moorlands", "2024-04-10", Decision::Approved),
        "2024-04-10T20:00:00+01:00",
    )
    .unwrap();
    assert_eq!(w.view(plan).status, PlanStatus::Approved);
    // There is no submission in this workflow
    assert_eq!(
        w.act(plan, "jade-okafor", submit(), "2024-04-11T09:00:00+01:00")
            .unwrap_err()
            .code(),
        "BAD_INPUT"
    );
    w.act(plan, "jade-okafor", publish(), "2024-04-12T09:00:00+01:00")
        .unwrap();
    // Publication freezes the text
    assert!(w
        .act(
            plan,
            "sam-whitfield",
            edit("recommendation-1", "x"),
            "2024-05-01T09:00:00+01:00"
        )
        .is_err());
    w.act(
        plan,
        "priya-holloway",
        sign("progress-review", Role::ChiefExecutive),
        "2025-02-10T09:00:00Z",
    )
    .unwrap();
    assert_eq!(w.view(plan).current_stage, None);
}

#[test]
fn nothing_completes_by_silence() {
    // Given a plan nobody acts on, long after every deadline
    let mut w = World::new();
    w.act(
        DD,
        "nadia-bell",
        start(DD, "productivity-plan-2024", &["derbyshire-dales"]),
        "2024-05-20T09:00:00+01:00",
    )
    .unwrap();
    // Then its stages are still open and submission is refused
    let view = w.view(DD);
    assert_eq!(view.status, PlanStatus::Drafting);
    assert_eq!(view.stages[0].status, StageStatus::Open);
    let err: GovernanceError = w
        .act(DD, "ellie-shaw", submit(), "2025-12-01T09:00:00Z")
        .unwrap_err();
    assert_eq!(err.code(), "GOVERNANCE_VIOLATION");
    let _ = PlanId::parse(DD).unwrap();
}
