//! The reminder schedule, given a plan's state and the time: who, when, and only once.
//! Plans come from the shipped workflows and seeds through the real governance engine.

use chrono::{DateTime, Utc};
use councilflow_governance::{
    load_seeds, sync_events, Aggregate, DomainEvent, EventMeta, PersonId, Plan, PlanCommand,
    PlanId, Projections, Role, SharedSection, SharedSectionCommand, Workflows,
};
use councilflow_reminders::{due_now, plan_schedule, shared_schedule, Offset, Planned};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn files(dir: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(format!("{ROOT}/{dir}"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct World {
    p: Projections,
    position: u64,
}

impl World {
    fn new() -> World {
        let w = files("workflows");
        let s = files("seeds");
        let workflows = Workflows::load(w.iter().map(|(a, b)| (a.as_str(), b.as_str()))).unwrap();
        let seed = load_seeds(s.iter().map(|(a, b)| (a.as_str(), b.as_str()))).unwrap();
        let mut world = World {
            p: Projections::new(workflows),
            position: 0,
        };
        let events = sync_events(world.p.organisation(), &seed);
        world.commit(events, at("2024-06-01T09:00:00Z"));
        world
    }

    fn commit<E: Into<DomainEvent>>(&mut self, events: Vec<E>, now: DateTime<Utc>) {
        for e in events {
            self.position += 1;
            self.p.apply(
                &EventMeta {
                    position: self.position,
                    recorded_at: now,
                },
                &e.into(),
            );
        }
    }

    fn plan(&mut self, who: &str, id: &str, command: PlanCommand, now: DateTime<Utc>) {
        let id = PlanId::parse(id).unwrap();
        let events = Plan::decide(
            &self.p.context(),
            self.p.plan(&id),
            &command,
            &PersonId::parse(who).unwrap(),
            now,
        )
        .unwrap_or_else(|e| panic!("{who}: {e}"));
        self.commit(events, now);
    }

    fn start(&mut self, who: &str, id: &str, council: &str, now: DateTime<Utc>) {
        self.plan(
            who,
            id,
            PlanCommand::Start {
                plan: PlanId::parse(id).unwrap(),
                workflow: "productivity-plan-2024".parse().unwrap(),
                councils: vec![council.parse().unwrap()],
                route: None,
                title: None,
                key_dates: Default::default(),
            },
            now,
        );
    }

    /// An extension of the submission deadline (the department sets it: only an extension it
    /// grants moves it), recorded by the plan's council's submitter.
    fn extend(&mut self, id: &str, due: &str, now: DateTime<Utc>) {
        let submitter = if id == "dd" {
            "ellie-shaw"
        } else {
            "joe-sutton"
        };
        self.plan(
            submitter,
            id,
            PlanCommand::RecordExtension {
                due: at(due),
                granted_by: "the department".into(),
                granted_on: now.date_naive(),
                reference: "Letter of 1 June".into(),
            },
            now,
        );
    }

    fn schedule(&self, id: &str, now: DateTime<Utc>) -> Vec<Planned> {
        let view = self.p.plan_view(&PlanId::parse(id).unwrap()).unwrap();
        let workflow = self.p.workflows().get(&view.plan.workflow).unwrap();
        plan_schedule(&view, workflow, self.p.organisation(), now)
    }
}

fn recipients(planned: &[&Planned]) -> Vec<String> {
    let mut r: Vec<String> = planned.iter().map(|p| p.recipient.to_string()).collect();
    r.sort();
    r.dedup();
    r
}

fn submission(planned: &[Planned]) -> Vec<&Planned> {
    planned
        .iter()
        .filter(|p| p.deadline == "submission")
        .collect()
}

#[test]
fn reminders_go_at_nine_london_time_in_winter_and_in_summer() {
    // Given a Stockport plan whose submission deadline is 2 April 2025, just after the clocks go
    // forward (30 March 2025).
    let mut w = World::new();
    let now = at("2025-02-01T10:00:00Z");
    w.start("ravi-patel", "sp", "stockport", now);
    w.extend("sp", "2025-04-02T16:00:00Z", now);
    // When the schedule is computed
    let planned = w.schedule("sp", now);
    let due = |offset| {
        submission(&planned)
            .into_iter()
            .find(|p| p.offset == offset)
            .map(|p| p.due)
            .unwrap()
    };
    // Then 7 days before (26 March, GMT) is 09:00 UTC, and 2 days before (31 March, BST) 08:00 UTC.
    assert_eq!(due(Offset::Before(7)), at("2025-03-26T09:00:00Z"));
    assert_eq!(due(Offset::Before(2)), at("2025-03-31T08:00:00Z"));
    assert_eq!(due(Offset::Before(28)), at("2025-03-05T09:00:00Z"));
}

#[test]
fn reminders_follow_the_clocks_going_back_in_october() {
    // Given a deadline of 30 October 2024, after the clocks go back (27 October 2024)
    let mut w = World::new();
    let now = at("2024-09-01T10:00:00Z");
    w.start("ravi-patel", "sp", "stockport", now);
    w.extend("sp", "2024-10-30T17:00:00Z", now);
    let planned = w.schedule("sp", now);
    let due = |offset| {
        submission(&planned)
            .into_iter()
            .find(|p| p.offset == offset)
            .map(|p| p.due)
            .unwrap()
    };
    // Then 7 days before (23 October, BST) is 08:00 UTC and 2 days before (28 October, GMT) 09:00.
    assert_eq!(due(Offset::Before(7)), at("2024-10-23T08:00:00Z"));
    assert_eq!(due(Offset::Before(2)), at("2024-10-28T09:00:00Z"));
    // And the first overdue reminder is two days after, at 09:00 GMT.
    assert_eq!(due(Offset::Overdue(1)), at("2024-11-01T09:00:00Z"));
}

#[test]
fn a_deadline_set_three_days_away_sends_only_the_seven_day_reminder_to_the_people_waited_on() {
    // Given a Stockport plan waiting on member oversight, started three days before the
    // department's deadline (19 July)
    let mut w = World::new();
    let now = at("2024-07-16T10:00:00Z");
    w.start("ravi-patel", "sp", "stockport", now);
    // When the due reminders are computed
    let planned = w.schedule("sp", now);
    let due: Vec<&Planned> = due_now(&planned, now)
        .into_iter()
        .filter(|p| p.deadline == "submission")
        .collect();
    // Then only the 7-day one goes (not the 28- and 14-day ones), once per person: the portfolio
    // holder, the S151 officer and the drafter.
    assert!(
        due.iter().all(|p| p.offset == Offset::Before(7)),
        "{due:#?}"
    );
    assert_eq!(
        recipients(&due),
        ["kwame-mensah", "maria-costa", "ravi-patel"]
    );
}

#[test]
fn someone_whose_part_is_done_is_not_reminded() {
    // Given the portfolio holder has signed
    let mut w = World::new();
    let now = at("2024-07-16T10:00:00Z");
    w.start("ravi-patel", "sp", "stockport", now);
    w.plan(
        "maria-costa",
        "sp",
        PlanCommand::SignOff {
            stage: "member-oversight".parse().unwrap(),
            role: Role::parse("portfolio-holder").unwrap(),
            council: None,
            comment: None,
            // Nothing edited since the plan started.
            expected_revision: 0,
        },
        now,
    );
    // Then she is no longer a recipient; the S151 officer and the drafter still are.
    let planned = w.schedule("sp", now);
    assert_eq!(
        recipients(&due_now(&planned, now)),
        ["kwame-mensah", "ravi-patel"]
    );
}

#[test]
fn a_completed_stage_has_no_reminders_left_for_its_deadline() {
    // Given member oversight has a deadline of its own
    let mut w = World::new();
    let now = at("2024-07-10T10:00:00Z");
    w.start("ravi-patel", "sp", "stockport", now);
    let before = w.schedule("sp", now);
    assert!(before
        .iter()
        .any(|p| p.deadline == "stage:member-oversight"));
    // When both sign
    for (who, role) in [
        ("maria-costa", "portfolio-holder"),
        ("kwame-mensah", "s151-officer"),
    ] {
        w.plan(
            who,
            "sp",
            PlanCommand::SignOff {
                stage: "member-oversight".parse().unwrap(),
                role: Role::parse(role).unwrap(),
                council: None,
                comment: None,
                expected_revision: 0,
            },
            now,
        );
    }
    // Then no reminder for that stage remains, and nobody is reminded about it.
    let after = w.schedule("sp", now);
    assert!(after.iter().all(|p| p.deadline != "stage:member-oversight"));
    assert!(after
        .iter()
        .all(|p| !["maria-costa", "kwame-mensah"].contains(&p.recipient.as_str())));
}

#[test]
fn a_moved_deadline_takes_its_schedule_with_it() {
    let mut w = World::new();
    let now = at("2024-07-01T10:00:00Z");
    w.start("ravi-patel", "sp", "stockport", now);
    let old: Vec<String> = submission(&w.schedule("sp", now))
        .iter()
        .map(|p| p.key.clone())
        .collect();
    // When the department grants a week more
    w.extend("sp", "2024-07-26T22:00:00Z", now);
    let new = w.schedule("sp", now);
    // Then none of the old keys is planned, and the 7-day reminder is now on 19 July.
    assert!(new.iter().all(|p| !old.contains(&p.key)));
    let seven = submission(&new)
        .into_iter()
        .find(|p| p.offset == Offset::Before(7))
        .unwrap();
    assert_eq!(seven.due, at("2024-07-19T08:00:00Z"));
}

#[test]
fn long_overdue_reminders_also_go_to_the_chief_executive() {
    let mut w = World::new();
    let now = at("2024-07-01T10:00:00Z");
    w.start("ravi-patel", "sp", "stockport", now);
    // Overdue by one day: not yet escalated (the policy escalates after 3 days).
    // (Only the submission deadline here; member oversight's own deadline passed days earlier.)
    let early = at("2024-07-21T10:00:00Z");
    let planned: Vec<Planned> = submission(&w.schedule("sp", early))
        .into_iter()
        .cloned()
        .collect();
    assert!(!recipients(&due_now(&planned, early)).contains(&"fiona-grant".to_owned()));
    // Overdue by five days: the chief executive is told too.
    let late = at("2024-07-25T10:00:00Z");
    let planned: Vec<Planned> = submission(&w.schedule("sp", late))
        .into_iter()
        .cloned()
        .collect();
    let due = due_now(&planned, late);
    let ce: Vec<&&Planned> = due
        .iter()
        .filter(|p| p.recipient.as_str() == "fiona-grant")
        .collect();
    assert!(
        !ce.is_empty() && ce.iter().all(|p| p.escalation),
        "{due:#?}"
    );
}

#[test]
fn an_unagreed_shared_section_reminds_the_chief_executives_not_yet_agreed_once_for_the_group() {
    // Given two Derbyshire member plans with deadlines, and a barriers text agreed by some
    let mut w = World::new();
    let now = at("2024-07-12T10:00:00Z");
    w.start("nadia-bell", "dd", "derbyshire-dales", now);
    let group = "derbyshire-chief-executives".parse().unwrap();
    let section = "barriers".parse().unwrap();
    let propose = SharedSectionCommand::Propose {
        group: "derbyshire-chief-executives".parse().unwrap(),
        section: "barriers".parse().unwrap(),
        text: "Single-year settlements.".into(),
        expected_revision: None,
    };
    let proposer =
        w.p.organisation()
            .people
            .values()
            .find(|p| p.roles.iter().any(|r| r.role.as_str() == "group-member"))
            .map(|p| p.id.clone())
            .unwrap();
    let events = SharedSection::decide(&w.p.context(), None, &propose, &proposer, now).unwrap();
    w.commit(events, now);
    let agree = SharedSectionCommand::Agree {
        group: "derbyshire-chief-executives".parse().unwrap(),
        section: "barriers".parse().unwrap(),
        revision: 1,
        council: "derbyshire-dales".parse().unwrap(),
    };
    let state = w.p.shared_section(&group, &section).cloned();
    let events = SharedSection::decide(
        &w.p.context(),
        state.as_ref(),
        &agree,
        &PersonId::parse("martin-ashby").unwrap(),
        now,
    )
    .unwrap();
    w.commit(events, now);
    // When the group-level schedule is computed
    let views: Vec<_> = w.p.plans().map(|p| w.p.plan_view(&p.id).unwrap()).collect();
    let pairs: Vec<_> = views
        .iter()
        .map(|v| (&**v, w.p.workflows().get(&v.plan.workflow).unwrap()))
        .collect();
    let planned = shared_schedule(pairs, w.p.organisation(), now);
    let due = due_now(&planned, now);
    // Then the eight chief executives who have not agreed are reminded, the one who has is not,
    // and each once (for the group), against the member plan's earliest open deadline (its first
    // sign-off, which needs the agreed text).
    let who = recipients(&due);
    assert_eq!(who.len(), 8, "{who:?}");
    assert!(!who.contains(&"martin-ashby".to_owned()));
    assert_eq!(due.len(), 8);
    let earliest = w
        .schedule("dd", now)
        .iter()
        .map(|p| p.deadline_due)
        .min()
        .unwrap();
    assert!(due.iter().all(|p| p.deadline_due == earliest));
    // And the plan's own schedule does not remind them about it again.
    let own = w.schedule("dd", now);
    assert!(own.iter().all(|p| !who.contains(&p.recipient.to_string())));
}
