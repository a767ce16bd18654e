//! Projections: the read side, updated event by event from the ledger's committed events.
//!
//! One `Projections` value holds the organisation, every shared section, every plan's current state
//! and the plans of each council in start order. It keeps no event history: memory stays in
//! proportion to the plans, not to the log (a plan "as of" a time is a replay of that plan's own
//! events, which the caller reads from the ledger and folds with [`Plan::replay`]). Applying the same history one event at a time, or rebuilding from
//! scratch, gives equal values; a test checks that on long random histories.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::blockers::Blocker;
use crate::changes::Changes;
use crate::context::{Context, SharedSections};
use crate::deadlines::Deadline;
use crate::definition::{Workflow, Workflows};
use crate::event::DomainEvent;
use crate::ids::{CouncilId, GroupId, PlanId, SectionId, StageId};
use crate::organisation::Organisation;
use crate::plan::{Plan, PlanEvent, PlanStatus, StageView};
use crate::shared_section::SharedSection;
use crate::view_cache::ViewCache;

/// What the ledger knows about an event besides its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    /// Global ledger position (strictly increasing).
    pub position: u64,
    /// When the ledger recorded it.
    pub recorded_at: DateTime<Utc>,
}

/// The read models the API serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projections {
    workflows: Workflows,
    organisation: Organisation,
    shared: SharedSections,
    plans: BTreeMap<PlanId, Plan>,
    plan_order: Vec<PlanId>,
    by_council: BTreeMap<CouncilId, Vec<PlanId>>,
    last_position: Option<u64>,
    views: ViewCache,
    changes: Changes,
}

/// Everything [`Projections`] holds but the workflow definitions, in a form any serde format
/// can write (no maps with compound keys): what a snapshot file stores, so a restart replays only
/// the events after it. Derived data: the ledger stays the record, and a snapshot that does not
/// match it is thrown away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectionsSnapshot {
    organisation: Organisation,
    shared: Vec<SharedSection>,
    plans: Vec<Plan>,
    plan_order: Vec<PlanId>,
    by_council: Vec<(CouncilId, Vec<PlanId>)>,
    last_position: Option<u64>,
}

/// Everything the API shows about a plan, computed at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    /// The plan's state.
    pub plan: Plan,
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
    /// What lateness is judged against: the last extension granted, or the deadline set.
    pub submission_deadline: Option<DateTime<Utc>>,
    /// The deadline the workflow gives, before any extension: shown beside the extensions.
    #[serde(default)]
    pub original_submission_deadline: Option<DateTime<Utc>>,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Whether the submission was late.
    pub late: bool,
}

impl PlanView {
    /// Computes the view of a plan against a context.
    pub fn of(plan: &Plan, workflow: &Workflow, ctx: &Context<'_>) -> PlanView {
        let stages = plan.stages(workflow);
        let deadlines = plan.deadlines(workflow);
        let stage_deadlines = stages
            .iter()
            .filter_map(|s| {
                crate::deadlines::stage_deadline_among(&deadlines, &s.id).map(|d| (s.id.clone(), d))
            })
            .collect();
        // The stages are worked out once here and handed to what else needs them.
        let current = stages.iter().find(|s| !s.is_complete());
        PlanView {
            status: plan.status_of(&stages),
            current_stage: current.map(|s| s.id.clone()),
            blockers: plan.blockers_of(ctx, workflow, current),
            stages,
            stage_deadlines,
            deadlines,
            submission_deadline: plan.submission_deadline(workflow),
            original_submission_deadline: plan.original_submission_deadline(workflow),
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
            views: ViewCache::default(),
            changes: Changes::default(),
        }
    }

    /// The state to store in a snapshot.
    pub fn snapshot(&self) -> ProjectionsSnapshot {
        ProjectionsSnapshot {
            organisation: self.organisation.clone(),
            shared: self.shared.values().cloned().collect(),
            plans: self.plans.values().cloned().collect(),
            plan_order: self.plan_order.clone(),
            by_council: self
                .by_council
                .iter()
                .map(|(c, ids)| (c.clone(), ids.clone()))
                .collect(),
            last_position: self.last_position,
        }
    }

    /// Projections from a snapshot, over the workflow definitions loaded now. The caller makes
    /// sure the snapshot was taken with the same definitions (they shape how events apply).
    pub fn from_snapshot(workflows: Workflows, snapshot: ProjectionsSnapshot) -> Projections {
        let mut views = ViewCache::default();
        for plan in &snapshot.plans {
            views.forget(&plan.id);
        }
        Projections {
            workflows,
            organisation: snapshot.organisation,
            shared: snapshot
                .shared
                .into_iter()
                .map(|s| ((s.group.clone(), s.section.clone()), s))
                .collect(),
            plans: snapshot
                .plans
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect(),
            plan_order: snapshot.plan_order,
            by_council: snapshot.by_council.into_iter().collect(),
            changes: Changes::known_after(snapshot.last_position),
            last_position: snapshot.last_position,
            views,
        }
    }

    /// Rebuilds from a full history.
    pub fn rebuild<'a>(
        workflows: Workflows,
        events: impl IntoIterator<Item = (&'a EventMeta, &'a DomainEvent)>,
    ) -> Projections {
        let mut p = Projections::new(workflows);
        for (meta, event) in events {
            p.apply(meta, event);
        }
        p
    }

    /// Applies one committed event. Events at or before the last applied position are skipped
    /// (returns `false`), so replaying an overlap after a restart is harmless.
    pub fn apply(&mut self, meta: &EventMeta, event: &DomainEvent) -> bool {
        if self.last_position.is_some_and(|last| meta.position <= last) {
            return false;
        }
        self.last_position = Some(meta.position);
        match event {
            DomainEvent::Org(e) => {
                self.organisation.apply(e);
                self.views.forget_all();
                self.changes.context(meta.position);
            }
            DomainEvent::SharedSection(e) => {
                self.views.forget_all();
                self.changes.context(meta.position);
                let (group, section) = e.key();
                let key = (group.clone(), section.clone());
                let state = self.shared.remove(&key);
                if let Some(next) = SharedSection::apply(state, e) {
                    self.shared.insert(key, next);
                }
            }
            DomainEvent::Plan(e) => {
                let id = e.plan_id();
                if let PlanEvent::PlanStarted(started) = e {
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
                self.views.forget(id);
                self.changes.plan(id, meta.position);
                let state = self.plans.remove(id);
                if let Some(plan) = Plan::apply(state, e) {
                    self.plans.insert(id.clone(), plan);
                }
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
        self.plans.get(id)
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

    /// The plans with an event after ledger position `position`, or `None` when every plan must be
    /// looked at again (the organisation or a shared section changed since, or `position` is
    /// from before these projections were restored from a snapshot).
    pub fn plans_changed_after(&self, position: u64) -> Option<Vec<&PlanId>> {
        Some(self.changes.plans_after(position)?.collect())
    }

    /// Everything the API shows about a plan now: computed on the first read after the plan (or
    /// the organisation, or a shared section) last changed, and shared by every read until then.
    pub fn plan_view(&self, id: &PlanId) -> Option<Arc<PlanView>> {
        let plan = self.plan(id)?;
        let workflow = self.workflows.get(&plan.workflow)?;
        Some(
            self.views
                .get_or(id, || PlanView::of(plan, workflow, &self.context())),
        )
    }
}
