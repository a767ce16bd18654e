//! Projections: the read side, updated event by event from the ledger's committed events.
//!
//! One `Projections` value holds the organisation, every shared section, every plan (with its own
//! event history, so a plan "as of" a time is a replay of that plan's events only) and the plans of
//! each council in start order. Applying the same history one event at a time, or rebuilding from
//! scratch, gives equal values; a test checks that on long random histories.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::blockers::Blocker;
use crate::context::{Context, SharedSections};
use crate::deadlines::Deadline;
use crate::definition::{Workflow, Workflows};
use crate::event::Event;
use crate::ids::{CouncilId, GroupId, PersonId, PlanId, SectionId, StageId};
use crate::organisation::Organisation;
use crate::plan::{Plan, PlanStatus, StageView};
use crate::shared_section::SharedSection;

/// What the ledger knows about an event besides its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    /// Global ledger position (strictly increasing).
    pub position: u64,
    /// When the ledger recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Who caused it (none for seed loading).
    pub actor: Option<PersonId>,
}

/// A plan and the events it was folded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEntry {
    /// Current state.
    pub plan: Plan,
    /// Its events with their metadata, in order.
    pub history: Vec<(EventMeta, Event)>,
}

/// The read models the API serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projections {
    workflows: Workflows,
    organisation: Organisation,
    shared: SharedSections,
    plans: BTreeMap<PlanId, PlanEntry>,
    plan_order: Vec<PlanId>,
    by_council: BTreeMap<CouncilId, Vec<PlanId>>,
    last_position: Option<u64>,
}

/// Everything the API shows about a plan, computed at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    /// The plan's state.
    pub plan: Plan,
    /// Status.
    pub status: PlanStatus,
    /// Route stages with statuses and requirements.
    pub stages: Vec<StageView>,
    /// Each stage's deadline, if any.
    pub stage_deadlines: BTreeMap<StageId, DateTime<Utc>>,
    /// The first stage not complete.
    pub current_stage: Option<StageId>,
    /// What blocks it.
    pub blockers: Vec<Blocker>,
    /// Every deadline (submission, stages, committee papers).
    pub deadlines: Vec<Deadline>,
    /// The submission deadline.
    pub submission_deadline: Option<DateTime<Utc>>,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Whether the submission was late.
    pub late: bool,
}

impl PlanView {
    /// Computes the view of a plan against a context.
    pub fn of(plan: &Plan, workflow: &Workflow, ctx: &Context<'_>) -> PlanView {
        let stages = plan.stages(workflow);
        let stage_deadlines = stages
            .iter()
            .filter_map(|s| {
                plan.stage_deadline(workflow, &s.id)
                    .map(|d| (s.id.clone(), d))
            })
            .collect();
        PlanView {
            status: plan.status(workflow),
            current_stage: stages
                .iter()
                .find(|s| !s.is_complete())
                .map(|s| s.id.clone()),
            stages,
            stage_deadlines,
            blockers: plan.blockers(ctx),
            deadlines: plan.deadlines(workflow),
            submission_deadline: plan.submission_deadline(workflow),
            submitted_at: plan.submitted_at(),
            late: plan.late(),
            plan: plan.clone(),
        }
    }
}

impl Projections {
    /// Empty projections over the loaded workflow definitions.
    pub fn new(workflows: Workflows) -> Projections {
        Projections {
            workflows,
            organisation: Organisation::default(),
            shared: SharedSections::new(),
            plans: BTreeMap::new(),
            plan_order: Vec::new(),
            by_council: BTreeMap::new(),
            last_position: None,
        }
    }

    /// Rebuilds from a full history.
    pub fn rebuild<'a>(
        workflows: Workflows,
        events: impl IntoIterator<Item = (&'a EventMeta, &'a Event)>,
    ) -> Projections {
        let mut p = Projections::new(workflows);
        for (meta, event) in events {
            p.apply(meta, event);
        }
        p
    }

    /// Applies one committed event. Events at or before the last applied position are skipped
    /// (returns `false`), so replaying an overlap after a restart is harmless.
    pub fn apply(&mut self, meta: &EventMeta, event: &Event) -> bool {
        if self.last_position.is_some_and(|last| meta.position <= last) {
            return false;
        }
        self.last_position = Some(meta.position);
        self.organisation.apply(event);
        if let Some((group, section)) = event.shared_key() {
            let key = (group.clone(), section.clone());
            let state = self.shared.remove(&key);
            if let Some(next) = SharedSection::apply(state, event) {
                self.shared.insert(key, next);
            }
        }
        if let Some(id) = event.plan_id() {
            if let Event::PlanStarted(started) = event {
                if !self.plans.contains_key(id) {
                    self.plan_order.push(id.clone());
                    for c in &started.councils {
                        self.by_council
                            .entry(c.clone())
                            .or_default()
                            .push(id.clone());
                    }
                }
            }
            let entry = self.plans.remove(id);
            let (state, mut history) = match entry {
                Some(e) => (Some(e.plan), e.history),
                None => (None, Vec::new()),
            };
            if let Some(plan) = Plan::apply(state, event) {
                history.push((meta.clone(), event.clone()));
                self.plans.insert(id.clone(), PlanEntry { plan, history });
            }
        }
        true
    }

    /// The context `decide` needs, borrowed from these projections.
    pub fn context(&self) -> Context<'_> {
        Context {
            organisation: &self.organisation,
            workflows: &self.workflows,
            shared_sections: &self.shared,
        }
    }

    /// The last applied ledger position.
    pub fn last_position(&self) -> Option<u64> {
        self.last_position
    }

    /// Workflow definitions.
    pub fn workflows(&self) -> &Workflows {
        &self.workflows
    }

    /// The organisation.
    pub fn organisation(&self) -> &Organisation {
        &self.organisation
    }

    /// A plan's current state.
    pub fn plan(&self, id: &PlanId) -> Option<&Plan> {
        self.plans.get(id).map(|e| &e.plan)
    }

    /// A plan's events with metadata, in order (empty for an unknown plan).
    pub fn plan_history(&self, id: &PlanId) -> &[(EventMeta, Event)] {
        self.plans
            .get(id)
            .map(|e| e.history.as_slice())
            .unwrap_or(&[])
    }

    /// The plan as it stood at `as_of`: a replay of its own events recorded up to then.
    pub fn plan_as_of(&self, id: &PlanId, as_of: DateTime<Utc>) -> Option<Plan> {
        Plan::replay(
            self.plan_history(id)
                .iter()
                .take_while(|(meta, _)| meta.recorded_at <= as_of)
                .map(|(_, e)| e),
        )
    }

    /// Every plan, in the order they started.
    pub fn plans(&self) -> impl Iterator<Item = &Plan> {
        self.plan_order.iter().filter_map(|id| self.plan(id))
    }

    /// Plans a council owns, in the order they started (stable for cursors).
    pub fn plans_of_council(&self, council: &CouncilId) -> Vec<&Plan> {
        self.by_council
            .get(council)
            .map(|ids| ids.iter().filter_map(|id| self.plan(id)).collect())
            .unwrap_or_default()
    }

    /// A shared section.
    pub fn shared_section(&self, group: &GroupId, section: &SectionId) -> Option<&SharedSection> {
        self.shared.get(&(group.clone(), section.clone()))
    }

    /// A group's shared sections, by section id.
    pub fn shared_sections_of_group(&self, group: &GroupId) -> Vec<&SharedSection> {
        self.shared
            .iter()
            .filter(|((g, _), _)| g == group)
            .map(|(_, s)| s)
            .collect()
    }

    /// Everything the API shows about a plan now.
    pub fn plan_view(&self, id: &PlanId) -> Option<PlanView> {
        let plan = self.plan(id)?;
        let workflow = self.workflows.get(&plan.workflow)?;
        Some(PlanView::of(plan, workflow, &self.context()))
    }
}
