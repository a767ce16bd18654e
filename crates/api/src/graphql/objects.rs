//! The output types. Each wraps an owned snapshot taken under the service's read lock, so no
//! resolver holds the lock across an `.await`; nested fields take it again briefly.
//!
//! A plan query is the hot read, so its objects share rather than copy: a plan object holds its
//! view and its workflow behind `Arc`s, its stages and sections are indexes into them (no lock,
//! no clone), and a council or person named in a record is looked up only when a field other
//! than its `id` is asked for (`council { id }` on every requirement costs nothing).

use std::sync::{Arc, OnceLock};

use async_graphql::{Context, Enum, Json, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use councilflow_governance::{
    self as gov, CouncilId, Decision as GovDecision, GroupId, PersonId, Plan, PlanId,
    PlanStatus as GovPlanStatus, PlanView, Projections, Scope, StageKind as GovStageKind,
    StageStatus as GovStageStatus,
};
use councilflow_ledger as ledger;

use super::scalars::Date;
use super::{bad_input, limits, service, service_error};
use crate::service::ServiceError;

pub(crate) fn int(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// `first` checked against the page limit.
pub(crate) fn page_size(first: Option<i32>, default: i32) -> Result<usize> {
    let first = first.unwrap_or(default);
    if !(0..=limits::PAGE).contains(&first) {
        return Err(bad_input(format!(
            "first must be between 0 and {} (the page size limit); it was {first}",
            limits::PAGE
        )));
    }
    Ok(first as usize)
}

/// An event cursor is the event's global position, as text.
pub(crate) fn parse_cursor(after: Option<&str>) -> Result<u64> {
    match after {
        None => Ok(0),
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| bad_input(format!("{text:?} is not an event cursor"))),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StageKind {
    SignOff,
    Committee,
    Submission,
    Publication,
}

impl From<GovStageKind> for StageKind {
    fn from(k: GovStageKind) -> Self {
        match k {
            GovStageKind::SignOff => StageKind::SignOff,
            GovStageKind::Committee => StageKind::Committee,
            GovStageKind::Submission => StageKind::Submission,
            GovStageKind::Publication => StageKind::Publication,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PlanStatus {
    Drafting,
    InApproval,
    Approved,
    Submitted,
    Published,
}

impl From<GovPlanStatus> for PlanStatus {
    fn from(s: GovPlanStatus) -> Self {
        match s {
            GovPlanStatus::Drafting => PlanStatus::Drafting,
            GovPlanStatus::InApproval => PlanStatus::InApproval,
            GovPlanStatus::Approved => PlanStatus::Approved,
            GovPlanStatus::Submitted => PlanStatus::Submitted,
            GovPlanStatus::Published => PlanStatus::Published,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StageStatus {
    /// Earlier stages are not complete yet.
    Waiting,
    /// Acts on this stage are accepted now.
    Open,
    Complete,
    /// It was complete, and a later edit made its approvals stale.
    Stale,
}

impl From<GovStageStatus> for StageStatus {
    fn from(s: GovStageStatus) -> Self {
        match s {
            GovStageStatus::Waiting => StageStatus::Waiting,
            GovStageStatus::Open => StageStatus::Open,
            GovStageStatus::Complete => StageStatus::Complete,
            GovStageStatus::Stale => StageStatus::Stale,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum Decision {
    Approved,
    ApprovedWithDelegatedAmendments,
    Deferred,
    Rejected,
}

impl From<GovDecision> for Decision {
    fn from(d: GovDecision) -> Self {
        match d {
            GovDecision::Approved => Decision::Approved,
            GovDecision::ApprovedWithDelegatedAmendments => {
                Decision::ApprovedWithDelegatedAmendments
            }
            GovDecision::Deferred => Decision::Deferred,
            GovDecision::Rejected => Decision::Rejected,
        }
    }
}

impl From<Decision> for GovDecision {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Approved => GovDecision::Approved,
            Decision::ApprovedWithDelegatedAmendments => {
                GovDecision::ApprovedWithDelegatedAmendments
            }
            Decision::Deferred => GovDecision::Deferred,
            Decision::Rejected => GovDecision::Rejected,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ReminderStatus {
    Scheduled,
    Sent,
    Failed,
    Cancelled,
}

// ---- organisation ----

/// A record of the organisation that a response names by id: a person or a council.
pub trait OrgRecord: Clone {
    type Id: Clone;
    fn id(&self) -> &Self::Id;
    fn find<'o>(org: &'o gov::Organisation, id: &Self::Id) -> Option<&'o Self>;
    /// What shows for one named in a record but no longer in the organisation: the record is
    /// what was signed, so it still shows, by id.
    fn placeholder(id: &Self::Id) -> Self;
}

impl OrgRecord for gov::Person {
    type Id = PersonId;
    fn id(&self) -> &PersonId {
        &self.id
    }
    fn find<'o>(org: &'o gov::Organisation, id: &PersonId) -> Option<&'o gov::Person> {
        org.person(id)
    }
    fn placeholder(id: &PersonId) -> gov::Person {
        gov::Person {
            id: id.clone(),
            name: id.to_string(),
            email: gov::EmailAddress::parse("unknown@example.org").expect("a valid address"),
            roles: Default::default(),
        }
    }
}

impl OrgRecord for gov::Council {
    type Id = CouncilId;
    fn id(&self) -> &CouncilId {
        &self.id
    }
    fn find<'o>(org: &'o gov::Organisation, id: &CouncilId) -> Option<&'o gov::Council> {
        org.council(id)
    }
    fn placeholder(id: &CouncilId) -> gov::Council {
        gov::Council {
            id: id.clone(),
            name: id.to_string(),
            route: None,
        }
    }
}

/// A council or person in a response: its id, and its record, looked up once when a field
/// beyond the id needs it.
pub struct OnDemand<R: OrgRecord> {
    id: R::Id,
    record: OnceLock<R>,
}

impl<R: OrgRecord> OnDemand<R> {
    /// One whose record is at hand.
    pub(crate) fn of(record: R) -> Self {
        OnDemand {
            id: record.id().clone(),
            record: OnceLock::from(record),
        }
    }

    /// One named in a record, looked up on first use.
    fn named(id: &R::Id) -> Self {
        OnDemand {
            id: id.clone(),
            record: OnceLock::new(),
        }
    }

    fn record(&self, ctx: &Context<'_>) -> &R {
        self.record.get_or_init(|| {
            let state = service(ctx).read();
            match R::find(state.projections.organisation(), &self.id) {
                Some(record) => record.clone(),
                None => R::placeholder(&self.id),
            }
        })
    }
}

/// A person in a response (see [`OnDemand`]).
pub type Person = OnDemand<gov::Person>;

#[Object(name = "Person", serial)]
impl OnDemand<gov::Person> {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }
    async fn name(&self, ctx: &Context<'_>) -> &str {
        &self.record(ctx).name
    }
    async fn email(&self, ctx: &Context<'_>) -> String {
        self.record(ctx).email.to_string()
    }
    async fn roles(&self, ctx: &Context<'_>) -> Vec<RoleAssignment> {
        self.record(ctx)
            .roles
            .iter()
            .map(|a| RoleAssignment(a.clone()))
            .collect()
    }
}

pub struct RoleAssignment(pub gov::RoleAssignment);

#[Object(serial)]
impl RoleAssignment {
    async fn role(&self) -> &str {
        self.0.role.as_str()
    }
    async fn council(&self, ctx: &Context<'_>) -> Option<Council> {
        match &self.0.scope {
            Scope::Council(id) => council(ctx, id),
            Scope::Group(_) => None,
        }
    }
    async fn group(&self, ctx: &Context<'_>) -> Option<Group> {
        match &self.0.scope {
            Scope::Group(id) => group(ctx, id),
            Scope::Council(_) => None,
        }
    }
    /// True when this person acts as a deputy for the role (recorded on every act).
    async fn deputy(&self) -> bool {
        self.0.deputy
    }
}

/// The council, if it is in the organisation.
pub(crate) fn council(ctx: &Context<'_>, id: &CouncilId) -> Option<Council> {
    let state = service(ctx).read();
    state
        .projections
        .organisation()
        .council(id)
        .cloned()
        .map(Council::of)
}

pub(crate) fn group(ctx: &Context<'_>, id: &GroupId) -> Option<Group> {
    let state = service(ctx).read();
    state
        .projections
        .organisation()
        .group(id)
        .cloned()
        .map(Group)
}

/// The person, if they are in the organisation.
pub(crate) fn person(ctx: &Context<'_>, id: &PersonId) -> Option<Person> {
    let state = service(ctx).read();
    state
        .projections
        .organisation()
        .person(id)
        .cloned()
        .map(Person::of)
}

/// A council in a response (see [`OnDemand`]).
pub type Council = OnDemand<gov::Council>;

#[Object(name = "Council", serial)]
impl OnDemand<gov::Council> {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }
    async fn name(&self, ctx: &Context<'_>) -> &str {
        &self.record(ctx).name
    }
    /// The governance route this council follows by default.
    async fn route(&self, ctx: &Context<'_>) -> Option<String> {
        self.record(ctx).route.as_ref().map(|r| r.to_string())
    }
    async fn groups(&self, ctx: &Context<'_>) -> Vec<Group> {
        let state = service(ctx).read();
        state
            .projections
            .organisation()
            .groups_of(&self.id)
            .into_iter()
            .cloned()
            .map(Group)
            .collect()
    }
    #[graphql(complexity = "super::page_complexity(first, 50, child_complexity)")]
    async fn plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<PlanConnection> {
        plan_connection(ctx, Some(&self.id), first, after)
    }
}

pub struct Group(pub gov::Group);

#[Object(serial)]
impl Group {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn members(&self) -> Vec<Council> {
        self.0.members.iter().map(Council::named).collect()
    }
    async fn shared_sections(&self, ctx: &Context<'_>) -> Vec<SharedSection> {
        let state = service(ctx).read();
        state
            .projections
            .shared_sections_of_group(&self.0.id)
            .into_iter()
            .cloned()
            .map(SharedSection)
            .collect()
    }
}

// ---- workflows ----

/// A workflow definition, shared with the loaded set (they never change after loading).
pub struct Workflow(pub Arc<gov::Workflow>);

#[Object(serial)]
impl Workflow {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn sections(&self) -> Vec<SectionDefinition> {
        self.0
            .sections
            .iter()
            .cloned()
            .map(SectionDefinition)
            .collect()
    }
    /// The default route; a council may follow another route of the same workflow.
    async fn stages(&self) -> Vec<StageDefinition> {
        self.0
            .default_stages()
            .into_iter()
            .cloned()
            .map(StageDefinition)
            .collect()
    }
    /// Every route of the workflow, each with its stages in order.
    async fn routes(&self) -> Vec<Route> {
        self.0
            .routes
            .iter()
            .map(|r| Route {
                id: ID(r.id.to_string()),
                title: r.title.clone(),
                stages: self
                    .0
                    .route_stages(&r.id)
                    .into_iter()
                    .cloned()
                    .map(StageDefinition)
                    .collect(),
            })
            .collect()
    }
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Route {
    id: ID,
    title: String,
    stages: Vec<StageDefinition>,
}

pub struct SectionDefinition(pub gov::SectionDefinition);

#[Object(serial)]
impl SectionDefinition {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn theme(&self) -> Option<&str> {
        self.0.theme.as_deref()
    }
    async fn shared(&self) -> bool {
        self.0.shared
    }
}

pub struct StageDefinition(pub gov::StageDefinition);

#[Object(serial)]
impl StageDefinition {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn kind(&self) -> StageKind {
        self.0.kind.into()
    }
    async fn required_roles(&self) -> Vec<String> {
        self.0.roles.iter().map(|r| r.as_str().to_owned()).collect()
    }
}

// ---- plans ----

/// A plan as it is now, or as it stood at `as_of`, with its workflow: both shared with the
/// plan's stages and sections, which need no lock of their own.
pub struct PlanObject {
    pub(crate) view: Arc<PlanView>,
    workflow: Arc<gov::Workflow>,
    as_of: Option<DateTime<Utc>>,
}

impl PlanObject {
    /// The object for `plan` (as it is now, or as it stood at `as_of`); `None` only if its
    /// workflow is not loaded, which the service never allows (a plan starts only under a
    /// loaded workflow).
    pub(crate) fn of(
        projections: &Projections,
        plan: &Plan,
        as_of: Option<DateTime<Utc>>,
    ) -> Option<PlanObject> {
        let workflow = projections.workflows().shared(&plan.workflow)?;
        let view = PlanView::of(plan, &workflow, &projections.context());
        Some(PlanObject {
            view: Arc::new(view),
            workflow,
            as_of,
        })
    }

    /// The plan `id` as it is now, if there is one.
    pub(crate) fn now(projections: &Projections, id: &PlanId) -> Option<PlanObject> {
        PlanObject::of(projections, projections.plan(id)?, None)
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
    async fn workflow(&self) -> Workflow {
        Workflow(Arc::clone(&self.workflow))
    }
    /// The route this plan follows.
    async fn route(&self) -> String {
        self.view.plan.route.to_string()
    }
    async fn councils(&self) -> Vec<Council> {
        self.view.plan.councils.iter().map(Council::named).collect()
    }
    async fn status(&self) -> PlanStatus {
        self.view.status.into()
    }
    /// Content revision: goes up by one on every section change; sign-offs bind to it.
    async fn revision(&self) -> i32 {
        int(self.view.plan.revision)
    }
    /// SHA-256 of the plan's content (what a submission records).
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
    async fn blockers(&self) -> Vec<Blocker> {
        self.view
            .blockers
            .iter()
            .map(|b| Blocker {
                stage: b.stage.as_ref().map(|s| ID(s.to_string())),
                code: b.code.as_str().to_owned(),
                message: b.message.clone(),
            })
            .collect()
    }
    async fn deadline(&self) -> Option<DateTime<Utc>> {
        self.view.submission_deadline
    }
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.view.submitted_at
    }
    async fn late(&self) -> bool {
        self.view.late
    }
    /// Where the plan is published, once it is.
    async fn published_url(&self) -> Option<&str> {
        self.view.plan.publication.as_ref().map(|p| p.url.as_str())
    }
    /// Reminders sent, failed and scheduled for this plan (those superseded by a later reminder
    /// for the same deadline, never sent, show as CANCELLED).
    async fn reminders(&self, ctx: &Context<'_>) -> Vec<Reminder> {
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
        out
    }
    /// The plan's events and its reminders' events, in commit order.
    #[graphql(complexity = "super::page_complexity(first, 100, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(default = 100)] first: Option<i32>,
    ) -> Result<EventConnection> {
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

/// A stage of a plan's route: an index into the plan's view. Sign-offs and decisions are worked
/// out only when asked for.
pub struct Stage {
    plan: Arc<PlanView>,
    workflow: Arc<gov::Workflow>,
    /// Safe to index with: it comes from enumerating `plan.stages`, which never changes.
    index: usize,
}

impl Stage {
    fn view(&self) -> &gov::StageView {
        &self.plan.stages[self.index]
    }
}

#[Object(serial)]
impl Stage {
    async fn id(&self) -> ID {
        ID(self.view().id.to_string())
    }
    async fn title(&self) -> &str {
        &self.view().title
    }
    async fn kind(&self) -> StageKind {
        self.view().kind.into()
    }
    async fn status(&self) -> StageStatus {
        self.view().status.into()
    }
    /// Who must act on this stage, per owning council, and whether they have.
    async fn requirements(&self) -> Vec<Requirement> {
        self.view()
            .requirements
            .iter()
            .map(|r| Requirement {
                role: r.role.as_str().to_owned(),
                council: Council::named(&r.council),
                satisfied: r.satisfied,
            })
            .collect()
    }
    async fn sign_offs(&self) -> Vec<SignOff> {
        self.plan
            .plan
            .sign_offs_for(&self.workflow, &self.view().id)
            .into_iter()
            .map(SignOff)
            .collect()
    }
    async fn decisions(&self) -> Vec<CommitteeDecision> {
        self.plan
            .plan
            .decisions_for(&self.workflow, &self.view().id)
            .into_iter()
            .map(CommitteeDecision)
            .collect()
    }
    async fn deadline(&self) -> Option<DateTime<Utc>> {
        self.plan.stage_deadlines.get(&self.view().id).copied()
    }
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Requirement {
    role: String,
    council: Council,
    satisfied: bool,
}

pub struct SignOff(gov::SignOffView);

#[Object(serial)]
impl SignOff {
    async fn role(&self) -> &str {
        self.0.record.role.as_str()
    }
    async fn council(&self) -> Council {
        Council::named(&self.0.record.council)
    }
    async fn person(&self) -> Person {
        Person::named(&self.0.record.by)
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.record.at
    }
    async fn plan_revision(&self) -> i32 {
        int(self.0.record.plan_revision)
    }
    async fn stale(&self) -> bool {
        self.0.stale
    }
    async fn comment(&self) -> Option<&str> {
        self.0.record.comment.as_deref()
    }
    /// True when a deputy signed for the role.
    async fn deputy(&self) -> bool {
        self.0.record.deputy
    }
}

pub struct CommitteeDecision(gov::DecisionView);

#[Object(serial)]
impl CommitteeDecision {
    async fn council(&self) -> Council {
        Council::named(&self.0.record.council)
    }
    async fn committee(&self) -> &str {
        &self.0.record.committee
    }
    async fn meeting_date(&self) -> Date {
        Date(self.0.record.meeting_date)
    }
    async fn decision(&self) -> Decision {
        self.0.record.decision.into()
    }
    async fn minute_reference(&self) -> Option<&str> {
        self.0.record.minute_reference.as_deref()
    }
    async fn plan_revision(&self) -> i32 {
        int(self.0.record.plan_revision)
    }
    async fn stale(&self) -> bool {
        self.0.stale
    }
    /// For delegated amendments: who may amend afterwards.
    async fn delegated_to(&self) -> Option<Person> {
        self.0.record.delegated_to.as_ref().map(Person::named)
    }
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Blocker {
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
    async fn recipient(&self) -> Person {
        Person::named(&self.recipient)
    }
    async fn stage(&self) -> Option<&ID> {
        self.stage.as_ref()
    }
    async fn due(&self) -> DateTime<Utc> {
        self.due
    }
    async fn status(&self) -> ReminderStatus {
        self.status
    }
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.sent_at
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
    async fn shared_from(&self, ctx: &Context<'_>) -> Option<Group> {
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

pub struct SharedSection(pub gov::SharedSection);

#[Object(serial)]
impl SharedSection {
    async fn id(&self) -> ID {
        ID(self.0.section.to_string())
    }
    async fn group(&self, ctx: &Context<'_>) -> Result<Group> {
        group(ctx, &self.0.group).ok_or_else(|| service_error(ServiceError::Internal))
    }
    async fn text(&self) -> &str {
        self.0.text()
    }
    async fn revision(&self) -> i32 {
        int(self.0.revision())
    }
    /// The revision every member council agreed, if any.
    async fn agreed_revision(&self) -> Option<i32> {
        self.0.agreed_revision().map(int)
    }
    /// Member councils that agreed the current revision.
    async fn agreed_by(&self) -> Vec<Council> {
        self.0.agreed_by().iter().map(Council::named).collect()
    }
    /// Member councils whose chief executive has not agreed the current revision.
    async fn waiting_on(&self) -> Vec<Council> {
        self.0.waiting_on().iter().map(Council::named).collect()
    }
}

// ---- events and pages ----

pub struct Event(pub ledger::StoredEvent);

#[Object(serial)]
impl Event {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn cursor(&self) -> String {
        self.0.position.to_string()
    }
    async fn position(&self) -> i32 {
        int(self.0.position)
    }
    async fn stream(&self) -> &str {
        &self.0.stream
    }
    async fn version(&self) -> i32 {
        int(self.0.version)
    }
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn actor(&self, ctx: &Context<'_>) -> Option<Person> {
        PersonId::parse(&self.0.actor)
            .ok()
            .and_then(|p| person(ctx, &p))
    }
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.0.payload_json())
    }
    /// SHA-256 over the previous event's hash and this event's canonical bytes (hex).
    async fn hash(&self) -> String {
        self.0.hash.to_hex()
    }
    /// The previous event's hash (hex), to check the chain.
    async fn prev_hash(&self) -> String {
        self.0.prev_hash.to_hex()
    }
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct EventEdge {
    cursor: String,
    node: Event,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct EventConnection {
    edges: Vec<EventEdge>,
    page_info: PageInfo,
}

impl EventConnection {
    pub(crate) fn new(events: Vec<ledger::StoredEvent>, has_next_page: bool) -> EventConnection {
        let end_cursor = events.last().map(|e| e.position.to_string());
        EventConnection {
            edges: events
                .into_iter()
                .map(|e| EventEdge {
                    cursor: e.position.to_string(),
                    node: Event(e),
                })
                .collect(),
            page_info: PageInfo {
                has_next_page,
                end_cursor,
            },
        }
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

/// Plans (of one council, or all) in start order; the cursor is the plan id.
pub(crate) fn plan_connection(
    ctx: &Context<'_>,
    council: Option<&CouncilId>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<PlanConnection> {
    let first = page_size(first, 50)?;
    let state = service(ctx).read();
    let projections = &state.projections;
    let mut plans: Vec<&Plan> = match council {
        Some(c) => projections.plans_of_council(c),
        None => {
            let mut all: Vec<&Plan> = projections.plans().collect();
            all.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
            all
        }
    };
    if let Some(after) = &after {
        let at = plans
            .iter()
            .position(|p| p.id.as_str() == after)
            .ok_or_else(|| bad_input(format!("{after:?} is not a plan cursor")))?;
        plans.drain(..=at);
    }
    let has_next_page = plans.len() > first;
    let edges: Vec<PlanEdge> = plans
        .into_iter()
        .take(first)
        .filter_map(|p| PlanObject::of(projections, p, None))
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

/// What a mutation on a plan returns.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PlanPayload {
    pub plan: PlanObject,
    /// Events this mutation appended (empty when an idempotency key repeated an earlier call).
    pub events: Vec<Event>,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct SharedSectionPayload {
    pub shared_section: SharedSection,
    pub events: Vec<Event>,
}
