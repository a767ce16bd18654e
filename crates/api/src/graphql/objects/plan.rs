//! Plans: the plan object, its reminders and sections, and the plan connection. A plan object
//! knows how much of the plan its viewer reads ([`PlanAccess`]): a published plan read from
//! outside its councils shows as published, and its history, earlier states and reminders are
//! refused with `FORBIDDEN`.

use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use councilflow_governance::{
    self as gov, CouncilId, PersonId, Plan, PlanAccess, PlanId, PlanView, Projections, ReadScope,
};
use councilflow_ledger as ledger;

use super::super::scalars::Date;
use super::super::{bad_input, forbidden, read_scope, service, service_error};
use super::*;
use crate::graphql::scalars::Moment;

// ---- plans ----

/// A plan as it is now, or as it stood at `as_of`, with its workflow: both shared with the
/// plan's stages and sections, which need no lock of their own.
pub struct PlanObject {
    pub(crate) view: Arc<PlanView>,
    workflow: Arc<gov::Workflow>,
    as_of: Option<DateTime<Utc>>,
    access: PlanAccess,
}

impl PlanObject {
    /// The object for `plan` (the projections' own when `as_of` is `None`, or as it stood at
    /// `as_of`) as read with `access`; `None` only if its workflow is not loaded, which the
    /// service never allows (a plan starts only under a loaded workflow).
    pub(crate) fn of(
        projections: &Projections,
        plan: &Plan,
        as_of: Option<DateTime<Utc>>,
        access: PlanAccess,
    ) -> Option<PlanObject> {
        let workflow = projections.workflows().shared(&plan.workflow)?;
        let view = match as_of {
            // The plan as it is now: the projections' view, computed once per change.
            None => projections.plan_view(&plan.id)?,
            Some(_) => Arc::new(PlanView::of(plan, &workflow, &projections.context())),
        };
        Some(PlanObject {
            view,
            workflow,
            as_of,
            access,
        })
    }

    /// The plan `id` as it is now, if there is one that `scope` reads.
    pub(crate) fn now(
        projections: &Projections,
        id: &PlanId,
        scope: &ReadScope,
    ) -> Option<PlanObject> {
        let plan = projections.plan(id)?;
        PlanObject::of(projections, plan, None, scope.plan(plan)?)
    }

    /// Refuses a part of the plan that only its councils read.
    fn councils_only(&self, what: &str) -> Result<()> {
        match self.access {
            PlanAccess::Full => Ok(()),
            PlanAccess::Published => Err(forbidden(format!(
                "{what} of '{}' is read only by its councils; the published plan and its record \
                 of approvals are public",
                self.view.plan.title
            ))),
        }
    }

    fn stage(&self, index: usize) -> Stage {
        Stage {
            plan: Arc::clone(&self.view),
            workflow: Arc::clone(&self.workflow),
            index,
        }
    }
}

#[Object(name = "Plan", serial)]
impl PlanObject {
    async fn id(&self) -> ID {
        ID(self.view.plan.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.view.plan.title
    }
    async fn workflow(&self) -> WorkflowObject {
        WorkflowObject(Arc::clone(&self.workflow))
    }
    /// The route this plan follows.
    async fn route(&self) -> String {
        self.view.plan.route.to_string()
    }
    async fn councils(&self) -> Vec<CouncilObject> {
        self.view
            .plan
            .councils
            .iter()
            .map(CouncilObject::named)
            .collect()
    }
    async fn status(&self) -> PlanStatusEnum {
        self.view.status.into()
    }
    /// Content revision: goes up by one on every section change; sign-offs bind to it.
    async fn revision(&self) -> i32 {
        int(self.view.plan.revision)
    }
    /// SHA-256 of the plan's content now: every section's id, revision and text, in order (what
    /// a sign-off, a committee decision, a submission and a publication record).
    async fn content_hash(&self) -> String {
        self.view.plan.content_hash()
    }
    async fn sections(&self) -> Vec<Section> {
        (0..self.view.plan.sections.len())
            .map(|index| Section {
                plan: Arc::clone(&self.view),
                workflow: Arc::clone(&self.workflow),
                index,
            })
            .collect()
    }
    async fn stages(&self) -> Vec<Stage> {
        (0..self.view.stages.len())
            .map(|index| self.stage(index))
            .collect()
    }
    /// The first stage that is not complete; null when every stage is complete.
    async fn current_stage(&self) -> Option<Stage> {
        let id = self.view.current_stage.as_ref()?;
        let index = self.view.stages.iter().position(|s| &s.id == id)?;
        Some(self.stage(index))
    }
    async fn blockers(&self) -> Vec<BlockerObject> {
        self.view
            .blockers
            .iter()
            .map(|b| BlockerObject {
                stage: b.stage.as_ref().map(|s| ID(s.to_string())),
                code: b.code.as_str().to_owned(),
                message: b.message.clone(),
            })
            .collect()
    }
    /// The submission deadline lateness is judged against: the last extension granted, where
    /// there is one.
    async fn deadline(&self) -> Option<Moment> {
        self.view.submission_deadline.map(Moment)
    }
    /// The submission deadline the workflow gives, before any extension.
    async fn original_deadline(&self) -> Option<Moment> {
        self.view.original_submission_deadline.map(Moment)
    }
    /// Extensions of the submission deadline granted by the body that sets it, oldest first;
    /// the last one stands.
    async fn extensions(&self) -> Vec<ExtensionObject> {
        self.view
            .plan
            .extensions
            .iter()
            .cloned()
            .map(ExtensionObject)
            .collect()
    }
    async fn submitted_at(&self) -> Option<Moment> {
        self.view.submitted_at.map(Moment)
    }
    async fn late(&self) -> bool {
        self.view.late
    }
    /// Where the plan is published, once it is.
    async fn published_url(&self) -> Option<&str> {
        self.view.plan.publication.as_ref().map(|p| p.url.as_str())
    }
    /// Reminders sent, failed and scheduled for this plan (those superseded by a later reminder
    /// for the same deadline, never sent, show as CANCELLED). Read only by the plan's councils.
    async fn reminders(&self, ctx: &Context<'_>) -> Result<Vec<Reminder>> {
        self.councils_only("The reminders")?;
        use councilflow_reminders::schedule::{unrecorded_status, UnrecordedStatus};
        use councilflow_reminders::Status;
        let now = Utc::now();
        let state = service(ctx).read();
        let projections = &state.projections;
        // A plan read as of an earlier time shows what was recorded then, with no schedule.
        let planned = match self.as_of {
            None => councilflow_reminders::plan_schedule(
                &self.view,
                &self.workflow,
                projections.organisation(),
                now,
            ),
            Some(_) => Vec::new(),
        };
        let subject = gov::streams::plan(&self.view.plan.id);
        let mut out: Vec<Reminder> = Vec::new();
        let mut recorded = std::collections::HashSet::new();
        for record in state.reminders.of_subject(&subject) {
            recorded.insert(record.due.key.clone());
            let (status, sent_at) = match &record.status {
                Status::Claimed => (ReminderStatus::Scheduled, None),
                Status::Sent { at, .. } => (ReminderStatus::Sent, Some(*at)),
                Status::Failed { .. } => (ReminderStatus::Failed, None),
                Status::Cancelled { .. } => (ReminderStatus::Cancelled, None),
            };
            out.push(Reminder {
                recipient: record.due.recipient.clone(),
                stage: record.due.stage.as_ref().map(|s| ID(s.to_string())),
                due: record.due.due,
                status,
                sent_at,
                attempts: i32::try_from(record.attempts).unwrap_or(i32::MAX),
                key: record.due.key.clone(),
            });
        }
        for p in planned.iter().filter(|p| !recorded.contains(&p.key)) {
            let status = match unrecorded_status(p, &planned, now) {
                UnrecordedStatus::Scheduled | UnrecordedStatus::DueNow => ReminderStatus::Scheduled,
                UnrecordedStatus::Superseded => ReminderStatus::Cancelled,
            };
            out.push(Reminder {
                recipient: p.recipient.clone(),
                stage: p.stage.as_ref().map(|s| ID(s.to_string())),
                due: p.due,
                status,
                sent_at: None,
                attempts: 0,
                key: p.key.clone(),
            });
        }
        out.sort_by(|a, b| (a.due, &a.key).cmp(&(b.due, &b.key)));
        Ok(out)
    }
    /// The plan's events and its reminders' events, in commit order. Read only by the plan's
    /// councils: the drafts before publication are theirs.
    #[graphql(complexity = "crate::graphql::page_complexity(first, 100, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(default = 100)] first: Option<i32>,
    ) -> Result<EventConnection> {
        self.councils_only("The history")?;
        let first = page_size(first, 100)?;
        let after = parse_cursor(after.as_deref())?;
        // The plan's own stream and its reminders' stream, merged in commit order.
        let stream = gov::streams::plan(&self.view.plan.id);
        let ledger = service(ctx).ledger();
        let mut events = Vec::new();
        for name in [stream.clone(), councilflow_reminders::log::stream(&stream)] {
            events.extend(
                ledger
                    .read_stream(&name, 1, usize::MAX)
                    .map_err(|e| service_error(e.into()))?,
            );
        }
        events.sort_by_key(|e| e.position);
        let mut events: Vec<ledger::StoredEvent> = events
            .into_iter()
            .filter(|e| e.position > after)
            .filter(|e| self.as_of.is_none_or(|t| e.at <= t))
            .collect();
        let has_next = events.len() > first;
        events.truncate(first);
        Ok(EventConnection::new(events, has_next))
    }
}

/// An extension of the submission deadline, as granted and as recorded.
pub struct ExtensionObject(gov::plan::DeadlineExtended);

#[Object(name = "Extension", serial)]
impl ExtensionObject {
    /// The new submission deadline.
    async fn due(&self) -> Moment {
        Moment(self.0.due)
    }
    /// Who granted it.
    async fn granted_by(&self) -> &str {
        &self.0.granted_by
    }
    async fn granted_on(&self) -> Date {
        Date(self.0.granted_on)
    }
    /// The letter or email that granted it.
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    /// Who recorded it, and when.
    async fn recorded_by(&self) -> PersonObject {
        PersonObject::named(&self.0.by)
    }
    async fn recorded_at(&self) -> Moment {
        Moment(self.0.at)
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Blocker", serial)]
pub struct BlockerObject {
    stage: Option<ID>,
    code: String,
    message: String,
}

pub struct Reminder {
    recipient: PersonId,
    stage: Option<ID>,
    due: DateTime<Utc>,
    status: ReminderStatus,
    sent_at: Option<DateTime<Utc>>,
    attempts: i32,
    key: String,
}

#[Object(serial)]
impl Reminder {
    async fn recipient(&self) -> PersonObject {
        PersonObject::named(&self.recipient)
    }
    async fn stage(&self) -> Option<&ID> {
        self.stage.as_ref()
    }
    async fn due(&self) -> Moment {
        Moment(self.due)
    }
    async fn status(&self) -> ReminderStatus {
        self.status
    }
    async fn sent_at(&self) -> Option<Moment> {
        self.sent_at.map(Moment)
    }
    async fn attempts(&self) -> i32 {
        self.attempts
    }
    /// The reminder's key: plan, deadline, offset and recipient (one email per key, ever).
    async fn key(&self) -> &str {
        &self.key
    }
}

/// A section of a plan: an index into the plan's view.
pub struct Section {
    plan: Arc<PlanView>,
    workflow: Arc<gov::Workflow>,
    /// Safe to index with: it comes from enumerating `plan.plan.sections`, which never changes.
    index: usize,
}

impl Section {
    fn state(&self) -> &gov::plan::SectionState {
        &self.plan.plan.sections[self.index]
    }
}

#[Object(serial)]
impl Section {
    async fn id(&self) -> ID {
        ID(self.state().id.to_string())
    }
    async fn title(&self) -> &str {
        // The title lives in the workflow; a section of a plan always has one.
        let id = &self.state().id;
        match self.workflow.section(id) {
            Some(definition) => &definition.title,
            None => id.as_str(),
        }
    }
    async fn text(&self) -> &str {
        &self.state().text
    }
    async fn revision(&self) -> i32 {
        int(self.state().revision)
    }
    /// The group whose agreed text this section adopted, if it is shared.
    async fn shared_from(&self, ctx: &Context<'_>) -> Option<GroupObject> {
        self.state()
            .shared_from
            .as_ref()
            .and_then(|g| group(ctx, g))
    }
    /// The group revision adopted, if any.
    async fn adopted_revision(&self) -> Option<i32> {
        self.state().adopted_revision.map(int)
    }
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PlanEdge {
    cursor: String,
    node: PlanObject,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PlanConnection {
    edges: Vec<PlanEdge>,
    page_info: PageInfo,
}

/// Plans (of one council, or all) that the viewer reads, in start order; the cursor is the plan
/// id.
pub(crate) fn plan_connection(
    ctx: &Context<'_>,
    council: Option<&CouncilId>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<PlanConnection> {
    let first = page_size(first, 50)?;
    let scope = read_scope(ctx)?;
    let state = service(ctx).read();
    let projections = &state.projections;
    let mut plans: Vec<(&Plan, PlanAccess)> = match council {
        Some(c) => projections.plans_of_council(c),
        None => {
            let mut all: Vec<&Plan> = projections.plans().collect();
            all.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
            all
        }
    }
    .into_iter()
    .filter_map(|p| Some((p, scope.plan(p)?)))
    .collect();
    if let Some(after) = &after {
        let at = plans
            .iter()
            .position(|(p, _)| p.id.as_str() == after)
            .ok_or_else(|| bad_input(format!("{after:?} is not a plan cursor")))?;
        plans.drain(..=at);
    }
    let has_next_page = plans.len() > first;
    let edges: Vec<PlanEdge> = plans
        .into_iter()
        .take(first)
        .filter_map(|(p, access)| PlanObject::of(projections, p, None, access))
        .map(|node| PlanEdge {
            cursor: node.view.plan.id.to_string(),
            node,
        })
        .collect();
    let end_cursor = edges.last().map(|e| e.cursor.clone());
    Ok(PlanConnection {
        edges,
        page_info: PageInfo {
            has_next_page,
            end_cursor,
        },
    })
}
