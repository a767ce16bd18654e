//! Events: stable kinds, JSON payloads that round-trip, and the streams they are appended to.

use councilflow_governance::{streams, Decision, DomainEvent, GroupId, PlanCommand, PlanId, Role};

use crate::common::*;

/// A history that uses every kind of event at least once.
fn busy_world() -> World {
    let mut w = World::new();
    let dd = "dd";
    agree_barriers(&mut w, "2024-06-01T10:00:00+01:00");
    w.act(
        dd,
        "nadia-bell",
        start(dd, "productivity-plan-2024", &["derbyshire-dales"]),
        "2024-06-01T11:00:00+01:00",
    )
    .unwrap();
    draft_productivity_plan(&mut w, dd, "nadia-bell", "2024-06-02T09:00:00+01:00");
    w.act(
        dd,
        "nadia-bell",
        adopt("barriers"),
        "2024-06-02T10:00:00+01:00",
    )
    .unwrap();
    w.act(
        dd,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T12:00:00+01:00",
    )
    .unwrap();
    w.act(
        dd,
        "martin-ashby",
        PlanCommand::WithdrawSignOff {
            stage: sid("leadership-team"),
            role: Role::ChiefExecutive,
            council: None,
            reason: "Wrong draft.".into(),
        },
        "2024-06-11T13:00:00+01:00",
    )
    .unwrap();
    w.act(
        dd,
        "martin-ashby",
        sign("leadership-team", Role::ChiefExecutive),
        "2024-06-11T14:00:00+01:00",
    )
    .unwrap();
    for (p, r) in [
        ("owen-price", Role::MonitoringOfficer),
        ("martin-ashby", Role::ChiefExecutive),
        ("claire-fenwick", Role::S151Officer),
    ] {
        w.act(
            dd,
            p,
            sign("report-authorisation", r),
            "2024-07-10T12:00:00+01:00",
        )
        .unwrap();
    }
    w.act(
        dd,
        "gareth-lowe",
        PlanCommand::ScheduleMeeting {
            stage: None,
            council: cid("derbyshire-dales"),
            committee: "G&R".into(),
            meeting_date: d("2024-07-18"),
        },
        "2024-07-01T09:00:00+01:00",
    )
    .unwrap();
    w.act(
        dd,
        "ellie-shaw",
        PlanCommand::RecordExtension {
            due: t("2024-07-26T22:59:59Z"),
            granted_by: "DLUHC".into(),
            granted_on: d("2024-06-28"),
            reference: "email of 28 June 2024".into(),
        },
        "2024-07-01T09:00:00+01:00",
    )
    .unwrap();
    w.act(
        dd,
        "ellie-shaw",
        PlanCommand::SetDeadline {
            stage: Some(sid("committee-approval")),
            due: t("2024-07-18T22:59:59Z"),
        },
        "2024-07-01T09:05:00+01:00",
    )
    .unwrap();
    w.act(
        dd,
        "gareth-lowe",
        committee("derbyshire-dales", "2024-07-18", Decision::Approved),
        "2024-07-18T20:00:00+01:00",
    )
    .unwrap();
    w.act(dd, "ellie-shaw", submit(), "2024-07-19T09:00:00+01:00")
        .unwrap();
    w.act(dd, "ellie-shaw", publish(), "2024-07-19T10:00:00+01:00")
        .unwrap();
    let pc = "pc";
    let mut cmd = start(
        pc,
        "peer-challenge-action-plan",
        &["staffordshire-moorlands"],
    );
    if let PlanCommand::Start { key_dates, .. } = &mut cmd {
        key_dates.insert("challenge".parse().unwrap(), d("2024-02-22"));
    }
    w.act(pc, "sam-whitfield", cmd, "2024-03-01T09:00:00Z")
        .unwrap();
    w.act(
        pc,
        "sam-whitfield",
        PlanCommand::SetKeyDate {
            date: "challenge".parse().unwrap(),
            on: d("2024-02-21"),
        },
        "2024-03-01T10:00:00Z",
    )
    .unwrap();
    // Organisation changes after the first load.
    let mut seed = shipped_seed();
    seed.councils.get_mut(&cid("ashfield")).unwrap().name = "Ashfield DC".into();
    seed.groups
        .get_mut(&GroupId::parse(DCX).unwrap())
        .unwrap()
        .name = "Derbyshire CEs".into();
    seed.people.get_mut(&pid("amy-reid")).unwrap().name = "Amy Reid-Jones".into();
    seed.people.get_mut(&pid("amy-reid")).unwrap().roles.clear();
    let events = councilflow_governance::sync_events(w.p.organisation(), &seed);
    w.commit(events, t("2024-08-01T09:00:00Z"));
    w.commit(
        councilflow_governance::sync_events(w.p.organisation(), &shipped_seed()),
        t("2024-08-02T09:00:00Z"),
    );
    w
}

#[test]
fn every_event_kind_round_trips_through_its_kind_and_json_payload() {
    let w = busy_world();
    let mut seen = std::collections::BTreeSet::new();
    for (_, event) in &w.log {
        let kind = event.kind();
        let payload = event.payload();
        assert!(payload.is_object(), "{kind}: {payload}");
        assert!(
            payload.get("kind").is_none(),
            "the kind travels beside the payload"
        );
        let text = serde_json::to_string(&payload).unwrap();
        let back = DomainEvent::from_parts(kind, &serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(&back, event);
        seen.insert(kind);
    }
    let all: std::collections::BTreeSet<&str> = DomainEvent::kinds().collect();
    assert_eq!(seen, all, "the busy world should produce every kind");
}

#[test]
fn an_unknown_kind_or_a_malformed_payload_is_refused() {
    assert!(DomainEvent::from_parts("PlanExploded", &serde_json::json!({})).is_err());
    let err = DomainEvent::from_parts("SignedOff", &serde_json::json!({ "plan": "Not A Slug" }))
        .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("cannot read a 'SignedOff' event"));
}

#[test]
fn events_go_to_the_org_plan_and_shared_section_streams() {
    let w = busy_world();
    let streams_seen: std::collections::BTreeSet<String> =
        w.log.iter().map(|(_, e)| e.stream()).collect();
    let expected: std::collections::BTreeSet<String> = [
        streams::ORG.to_owned(),
        streams::plan(&PlanId::parse("dd").unwrap()),
        streams::plan(&PlanId::parse("pc").unwrap()),
        streams::shared(&GroupId::parse(DCX).unwrap(), &sec("barriers")),
    ]
    .into_iter()
    .collect();
    assert_eq!(streams_seen, expected);
    assert_eq!(
        streams::shared(&GroupId::parse(DCX).unwrap(), &sec("barriers")),
        "shared-derbyshire-chief-executives.barriers"
    );
    assert_eq!(streams::plan(&PlanId::parse("dd").unwrap()), "plan-dd");
}

#[test]
fn a_submitted_payload_records_the_content_hash_time_and_lateness() {
    let w = busy_world();
    let (_, submitted) = w
        .log
        .iter()
        .find(|(_, e)| e.kind() == "PlanSubmitted")
        .unwrap();
    let payload = submitted.payload();
    assert_eq!(payload["late"], false);
    assert_eq!(payload["content_hash"].as_str().unwrap().len(), 64);
    assert_eq!(payload["at"], "2024-07-19T08:00:00Z");
    assert_eq!(payload["deadline"], "2024-07-26T22:59:59Z");
}
