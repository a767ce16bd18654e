//! An approval names the text it approves: every act that approves or publishes a plan carries
//! the revision the person read, is refused if the plan changed since, and records the SHA-256
//! of the content it approved.

use councilflow_governance::{PlanEvent, Role};

use crate::common::*;

pub const DD: &str = "dd-plan";

/// A Derbyshire Dales plan, drafted, with the shared barriers agreed and adopted.
pub fn drafted() -> World {
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

fn revision(w: &World) -> u64 {
    w.p.plan(&pid_plan(DD)).unwrap().revision
}

fn pid_plan(id: &str) -> councilflow_governance::PlanId {
    councilflow_governance::PlanId::parse(id).unwrap()
}

fn sign_as_read(stage: &str, role: Role, read: u64) -> councilflow_governance::PlanCommand {
    as_read_at(sign(stage, role), read)
}

#[test]
fn a_sign_off_on_the_revision_read_records_that_revision_and_its_content_hash() {
    // Given a drafted plan at some revision,
    let mut w = drafted();
    let read = revision(&w);
    let hash = w.p.plan(&pid_plan(DD)).unwrap().content_hash();
    // when the Chief Executive signs the revision they read,
    let events = w
        .act(
            DD,
            "martin-ashby",
            sign_as_read("leadership-team", Role::ChiefExecutive, read),
            "2024-06-11T12:00:00+01:00",
        )
        .unwrap();
    // then the sign-off names that revision and the hash of that exact content.
    let PlanEvent::SignedOff(s) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(s.plan_revision, read);
    assert_eq!(s.content_hash.as_deref(), Some(hash.as_str()));
}

#[test]
fn a_sign_off_on_a_revision_edited_since_is_refused_saying_what_changed_by_whom_and_when() {
    // Given a Chief Executive who read the plan, and a drafter who saved an edit after,
    let mut w = drafted();
    let read = revision(&w);
    w.act(
        DD,
        "nadia-bell",
        edit("achievements", "A late change."),
        "2024-06-11T10:42:00+01:00",
    )
    .unwrap();
    let before = w.log.len();
    // when the Chief Executive signs what they read,
    let err = w
        .act(
            DD,
            "martin-ashby",
            sign_as_read("leadership-team", Role::ChiefExecutive, read),
            "2024-06-11T10:43:00+01:00",
        )
        .unwrap_err();
    // then it is refused as a conflict that names the section, the editor and the time,
    assert_eq!(err.code(), "CONFLICT");
    let message = err.message();
    assert!(
        message.contains("was edited by Nadia Bell at 10:42 on 11 June 2024"),
        "{message}"
    );
    assert!(
        message.contains(&format!("the revision you read ({read})")),
        "{message}"
    );
    // and nothing was recorded.
    assert_eq!(w.log.len(), before);
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

pub fn through_committee(w: &mut World) {
    through_report_authorisation(w);
    w.act(
        DD,
        "gareth-lowe",
        committee(
            "derbyshire-dales",
            "2024-07-18",
            councilflow_governance::Decision::Approved,
        ),
        "2024-07-18T20:00:00+01:00",
    )
    .unwrap();
}

#[test]
fn a_committee_decision_names_the_revision_in_its_papers_and_a_later_read_is_refused() {
    // Given a plan through its sign-offs, at the revision in the committee's papers,
    let mut w = drafted();
    through_report_authorisation(&mut w);
    let papers = revision(&w);
    let hash = w.p.plan(&pid_plan(DD)).unwrap().content_hash();
    // when the clerk records the decision on a revision other than the papers',
    let stale = as_read_at(
        committee(
            "derbyshire-dales",
            "2024-07-18",
            councilflow_governance::Decision::Approved,
        ),
        papers - 1,
    );
    let err = w
        .act(DD, "gareth-lowe", stale, "2024-07-18T20:00:00+01:00")
        .unwrap_err();
    // then it is refused,
    assert_eq!(err.code(), "CONFLICT", "{}", err.message());
    // and on the papers' revision it is recorded with that revision and its content hash.
    let events = w
        .act(
            DD,
            "gareth-lowe",
            as_read_at(
                committee(
                    "derbyshire-dales",
                    "2024-07-18",
                    councilflow_governance::Decision::Approved,
                ),
                papers,
            ),
            "2024-07-18T20:00:00+01:00",
        )
        .unwrap();
    let PlanEvent::CommitteeDecisionRecorded(d) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(d.plan_revision, papers);
    assert_eq!(d.content_hash.as_deref(), Some(hash.as_str()));
}

#[test]
fn a_submission_and_a_publication_carry_the_content_hash_that_was_approved() {
    // Given a plan approved and submitted,
    let mut w = drafted();
    through_committee(&mut w);
    let approved = w.p.plan(&pid_plan(DD)).unwrap().content_hash();
    let submitted = w
        .act(DD, "ellie-shaw", submit(), "2024-07-19T09:00:00+01:00")
        .unwrap();
    let published = w
        .act(DD, "ellie-shaw", publish(), "2024-07-20T09:00:00+01:00")
        .unwrap();
    // then both name the hash of the content the committee approved.
    let (PlanEvent::PlanSubmitted(s), PlanEvent::PlanPublished(p)) = (&submitted[0], &published[0])
    else {
        panic!("{submitted:?} {published:?}")
    };
    assert_eq!(s.content_hash, approved);
    assert_eq!(p.content_hash.as_deref(), Some(approved.as_str()));
}
