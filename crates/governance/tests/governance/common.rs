//! A small world for domain tests: the shipped workflows and seeds loaded into projections, and
//! helpers that decide a command and apply its events as the server would.

// Each test module uses a different subset of the helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;

use chrono::{DateTime, NaiveDate, Utc};
use councilflow_governance::{
    sync_events, Aggregate, CouncilId, Decision, DomainEvent, EventMeta, GovernanceError, GroupId,
    Organisation, PersonId, Plan, PlanCommand, PlanEvent, PlanId, Projections, Role, SectionId,
    SharedSection, SharedSectionCommand, SharedSectionEvent, StageId, Workflows,
};

pub const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../workflows");
pub const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds");

/// Every `*.toml` file of a directory as (file name, text), sorted by name.
pub fn read_dir(dir: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

pub fn shipped_workflows() -> Workflows {
    let files = read_dir(WORKFLOWS);
    Workflows::load(files.iter().map(|(n, t)| (n.as_str(), t.as_str()))).unwrap()
}

pub fn shipped_seed() -> Organisation {
    let files = read_dir(SEEDS);
    councilflow_governance::load_seeds(files.iter().map(|(n, t)| (n.as_str(), t.as_str()))).unwrap()
}

/// An RFC 3339 time.
pub fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

pub fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

pub fn pid(id: &str) -> PersonId {
    PersonId::parse(id).unwrap()
}

pub fn cid(id: &str) -> CouncilId {
    CouncilId::parse(id).unwrap()
}

pub fn sid(id: &str) -> StageId {
    StageId::parse(id).unwrap()
}

pub fn sec(id: &str) -> SectionId {
    SectionId::parse(id).unwrap()
}

#[derive(Clone)]
pub struct World {
    pub p: Projections,
    pub log: Vec<(EventMeta, DomainEvent)>,
    position: u64,
}

impl World {
    /// The shipped workflows, with the shipped seeds recorded on 1 April 2024.
    pub fn new() -> World {
        World::with(shipped_workflows(), shipped_seed())
    }

    pub fn with(workflows: Workflows, seed: Organisation) -> World {
        let mut w = World {
            p: Projections::new(workflows),
            log: Vec::new(),
            position: 0,
        };
        let events = sync_events(&Organisation::default(), &seed);
        w.commit(events, t("2024-04-01T09:00:00Z"));
        w
    }

    pub fn commit<E: Into<DomainEvent>>(&mut self, events: Vec<E>, at: DateTime<Utc>) {
        for e in events {
            let e = e.into();
            self.position += 1;
            let meta = EventMeta {
                position: self.position,
                recorded_at: at,
            };
            assert!(self.p.apply(&meta, &e));
            self.log.push((meta, e));
        }
    }

    /// Decides a plan command as `actor` at `at` and, when accepted, applies its events.
    pub fn act(
        &mut self,
        plan_id: &str,
        actor: &str,
        cmd: PlanCommand,
        at: &str,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
        let at = t(at);
        let id = PlanId::parse(plan_id).unwrap();
        let read = self.p.plan(&id).map_or(0, |p| p.revision);
        let cmd = as_read_at(cmd, read);
        let events = Plan::decide(&self.p.context(), self.p.plan(&id), &cmd, &pid(actor), at)?;
        self.commit(events.clone(), at);
        Ok(events)
    }

    pub fn shared(
        &mut self,
        actor: &str,
        cmd: SharedSectionCommand,
        at: &str,
    ) -> Result<Vec<SharedSectionEvent>, GovernanceError> {
        let at = t(at);
        let (group, section) = match &cmd {
            SharedSectionCommand::Propose { group, section, .. }
            | SharedSectionCommand::Agree { group, section, .. } => {
                (group.clone(), section.clone())
            }
        };
        let state = self.p.shared_section(&group, &section);
        let events = SharedSection::decide(&self.p.context(), state, &cmd, &pid(actor), at)?;
        self.commit(events.clone(), at);
        Ok(events)
    }

    pub fn plan(&self, id: &str) -> &Plan {
        self.p.plan(&PlanId::parse(id).unwrap()).unwrap()
    }

    pub fn view(&self, id: &str) -> councilflow_governance::PlanView {
        (*self.p.plan_view(&PlanId::parse(id).unwrap()).unwrap()).clone()
    }

    pub fn stage_status(&self, plan: &str, stage: &str) -> councilflow_governance::StageStatus {
        self.view(plan)
            .stages
            .iter()
            .find(|s| s.id.as_str() == stage)
            .unwrap()
            .status
    }

    pub fn blocker_codes(&self, plan: &str) -> Vec<&'static str> {
        self.view(plan)
            .blockers
            .iter()
            .map(|b| b.code.as_str())
            .collect()
    }
}

pub fn start(plan: &str, workflow: &str, councils: &[&str]) -> PlanCommand {
    PlanCommand::Start {
        plan: PlanId::parse(plan).unwrap(),
        workflow: workflow.parse().unwrap(),
        councils: councils.iter().map(|c| cid(c)).collect(),
        route: None,
        title: None,
        key_dates: BTreeMap::new(),
    }
}

pub fn edit(section: &str, text: &str) -> PlanCommand {
    PlanCommand::EditSection {
        section: sec(section),
        text: text.into(),
        expected_revision: None,
    }
}

/// In a command built by the helpers below: "the revision the plan is at when the act is
/// decided", which [`World::act`] fills in. Tests about reading a stale revision pass a number.
pub const READ_NOW: u64 = u64::MAX;

/// `command` with [`READ_NOW`] replaced by `revision`.
pub fn as_read_at(mut command: PlanCommand, revision: u64) -> PlanCommand {
    match &mut command {
        PlanCommand::SignOff {
            expected_revision, ..
        }
        | PlanCommand::RecordCommitteeDecision {
            expected_revision, ..
        }
        | PlanCommand::AdoptSharedSection {
            expected_revision, ..
        }
        | PlanCommand::Submit {
            expected_revision, ..
        }
        | PlanCommand::Publish {
            expected_revision, ..
        } if *expected_revision == READ_NOW => *expected_revision = revision,
        _ => {}
    }
    command
}

pub fn sign(stage: &str, role: Role) -> PlanCommand {
    PlanCommand::SignOff {
        stage: sid(stage),
        role,
        council: None,
        comment: None,
        expected_revision: READ_NOW,
    }
}

pub fn sign_for(stage: &str, role: Role, council: &str) -> PlanCommand {
    PlanCommand::SignOff {
        stage: sid(stage),
        role,
        council: Some(cid(council)),
        comment: None,
        expected_revision: READ_NOW,
    }
}

pub fn committee(council: &str, meeting: &str, decision: Decision) -> PlanCommand {
    PlanCommand::RecordCommitteeDecision {
        stage: None,
        council: cid(council),
        committee: "Governance and Resources Committee".into(),
        meeting_date: d(meeting),
        decision,
        minute_reference: Some("Minute 42/24".into()),
        delegated_to: None,
        expected_revision: READ_NOW,
    }
}

pub fn submit() -> PlanCommand {
    PlanCommand::Submit {
        reference: None,
        expected_revision: READ_NOW,
    }
}

pub fn publish() -> PlanCommand {
    PlanCommand::Publish {
        url: "https://www.example.org/productivity-plan".into(),
        expected_revision: READ_NOW,
    }
}

pub fn adopt(section: &str) -> PlanCommand {
    PlanCommand::AdoptSharedSection {
        section: sec(section),
        expected_revision: READ_NOW,
    }
}

pub fn propose(group: &str, section: &str, text: &str) -> SharedSectionCommand {
    SharedSectionCommand::Propose {
        group: GroupId::parse(group).unwrap(),
        section: sec(section),
        text: text.into(),
        expected_revision: None,
    }
}

pub fn agree(group: &str, section: &str, revision: u64, council: &str) -> SharedSectionCommand {
    SharedSectionCommand::Agree {
        group: GroupId::parse(group).unwrap(),
        section: sec(section),
        revision,
        council: cid(council),
    }
}

/// The chief executive of each Derbyshire group member, as seeded.
pub const DERBYSHIRE_CHIEF_EXECUTIVES: [(&str, &str); 9] = [
    ("amber-valley", "grace-whitaker"),
    ("bolsover", "ian-dunmore"),
    ("chesterfield", "kate-lindqvist"),
    ("derbyshire-dales", "martin-ashby"),
    ("erewash", "marcus-oduya"),
    ("high-peak", "priya-holloway"),
    ("north-east-derbyshire", "sophie-redfern"),
    ("south-derbyshire", "victor-hale"),
    ("derbyshire", "elaine-curtis"),
];

pub const DCX: &str = "derbyshire-chief-executives";

/// The group proposes the barriers text and every member council agrees it.
pub fn agree_barriers(w: &mut World, at: &str) {
    w.shared("rachel-ingham", propose(DCX, "barriers", "One-year settlements, competitive bidding pots and annual asset revaluation hold councils back."), at)
        .unwrap();
    let revision =
        w.p.shared_section(&GroupId::parse(DCX).unwrap(), &sec("barriers"))
            .unwrap()
            .revision();
    for (council, ce) in DERBYSHIRE_CHIEF_EXECUTIVES {
        w.shared(ce, agree(DCX, "barriers", revision, council), at)
            .unwrap();
    }
}

/// Writes every section of a productivity plan that is not shared.
pub fn draft_productivity_plan(w: &mut World, plan: &str, drafter: &str, at: &str) {
    for s in [
        "achievements",
        "transforming-services",
        "technology-and-data",
        "reducing-wasteful-spend",
        "measuring-delivery",
    ] {
        w.act(plan, drafter, edit(s, &format!("Draft text for {s}.")), at)
            .unwrap();
    }
}
