//! Mutations: each becomes one governance command, answered once its events are durable and the
//! projections show them.

use std::collections::BTreeMap;

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};
use councilflow_governance::{
    CouncilId, GovernanceError, GroupId, KeyDateId, PersonId, Plan, PlanCommand, PlanId, Role,
    RouteId, SectionId, SharedSectionCommand, StageId, WorkflowId,
};

use super::objects::{
    DecisionEnum, EventObject, PlanObject, PlanPayload, SharedSectionObject, SharedSectionPayload,
};
use super::query::{parse_id, parse_opt_id};
use super::scalars::Date;
use super::{bad_input, limits, service, service_error, viewer};
use crate::service::{ServiceError, Written};

pub struct MutationRoot;

#[derive(InputObject)]
pub struct KeyDateInput {
    /// A key date the workflow declares (e.g. `challenge` for a peer challenge).
    id: ID,
    date: Date,
}

#[derive(InputObject)]
pub struct StartPlanInput {
    workflow: ID,
    councils: Vec<ID>,
    /// A route id of the workflow; the councils' default route when omitted.
    route: Option<ID>,
    title: Option<String>,
    /// The plan's id; one is made from the council and workflow when omitted.
    id: Option<ID>,
    /// Key dates the workflow declares (deadlines may be computed from them).
    key_dates: Option<Vec<KeyDateInput>>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct EditSectionInput {
    plan_id: ID,
    section_id: ID,
    text: String,
    /// The section revision this edit is based on; CONFLICT when another edit came first.
    expected_revision: Option<i32>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct SignOffInput {
    plan_id: ID,
    stage_id: ID,
    role: String,
    /// Required when the signer holds the role at more than one owning council.
    council: Option<ID>,
    comment: Option<String>,
    /// The plan's revision the person read (in the committee's papers, for a decision): the act
    /// is refused with CONFLICT, saying what changed, if the plan changed since.
    expected_revision: i32,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct WithdrawSignOffInput {
    plan_id: ID,
    stage_id: ID,
    role: String,
    council: Option<ID>,
    reason: String,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct RecordCommitteeDecisionInput {
    plan_id: ID,
    council: ID,
    committee: String,
    meeting_date: Date,
    decision: DecisionEnum,
    minute_reference: Option<String>,
    /// For APPROVED_WITH_DELEGATED_AMENDMENTS: who may amend afterwards.
    delegated_to: Option<ID>,
    /// The committee stage; the first one not complete when omitted.
    stage_id: Option<ID>,
    /// The plan's revision the person read (in the committee's papers, for a decision): the act
    /// is refused with CONFLICT, saying what changed, if the plan changed since.
    expected_revision: i32,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ScheduleMeetingInput {
    plan_id: ID,
    council: ID,
    committee: String,
    meeting_date: Date,
    /// The committee stage; the first one not complete when omitted.
    stage_id: Option<ID>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct SubmitPlanInput {
    plan_id: ID,
    reference: Option<String>,
    /// The plan's revision the person read (in the committee's papers, for a decision): the act
    /// is refused with CONFLICT, saying what changed, if the plan changed since.
    expected_revision: i32,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct PublishPlanInput {
    plan_id: ID,
    url: String,
    /// The plan's revision the person read (in the committee's papers, for a decision): the act
    /// is refused with CONFLICT, saying what changed, if the plan changed since.
    expected_revision: i32,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct SetDeadlineInput {
    plan_id: ID,
    /// A stage id; the submission deadline when omitted.
    stage_id: Option<ID>,
    due: DateTime<Utc>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct SetKeyDateInput {
    plan_id: ID,
    key_date: ID,
    date: Date,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ProposeSharedSectionInput {
    group_id: ID,
    section_id: ID,
    text: String,
    expected_revision: Option<i32>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AgreeSharedSectionInput {
    group_id: ID,
    section_id: ID,
    revision: i32,
    council: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AdoptSharedSectionInput {
    plan_id: ID,
    section_id: ID,
    /// The plan's revision the person read: refused with CONFLICT if it changed since.
    expected_revision: i32,
    idempotency_key: Option<String>,
}

fn short_text(what: &str, text: &str) -> Result<()> {
    let chars = text.chars().count();
    if chars > limits::SHORT_TEXT_CHARS {
        return Err(bad_input(format!(
            "{what} is {chars} characters; the limit is {}",
            limits::SHORT_TEXT_CHARS
        )));
    }
    Ok(())
}

fn section_text(text: &str) -> Result<()> {
    if text.len() > limits::SECTION_TEXT_BYTES {
        return Err(bad_input(format!(
            "the section text is {} bytes; the limit is {} bytes (about {} pages)",
            text.len(),
            limits::SECTION_TEXT_BYTES,
            limits::SECTION_TEXT_BYTES / 3_000
        )));
    }
    Ok(())
}

fn revision(n: Option<i32>) -> Result<Option<u64>> {
    n.map(read_revision).transpose()
}

/// The revision a person read, which an approving act requires.
fn read_revision(n: i32) -> Result<u64> {
    u64::try_from(n).map_err(|_| bad_input(format!("revision {n} is negative")))
}

fn role(text: &str) -> Result<Role> {
    Role::parse(text).map_err(|e| bad_input(format!("role {text:?}: {e}")))
}

fn events(written: Written) -> Vec<EventObject> {
    written.events.into_iter().map(EventObject).collect()
}

/// Runs a plan command for the viewer and answers with the plan as it now is.
async fn plan_mutation(
    ctx: &Context<'_>,
    plan: PlanId,
    command: PlanCommand,
    key: Option<&str>,
) -> Result<PlanPayload> {
    let actor = viewer(ctx)?;
    let service = service(ctx);
    let written = service
        .execute::<Plan>(&actor, &plan, command, key)
        .await
        .map_err(service_error)?;
    plan_payload(ctx, &plan, written)
}

fn plan_payload(ctx: &Context<'_>, plan: &PlanId, written: Written) -> Result<PlanPayload> {
    let state = service(ctx).read();
    let object = PlanObject::now(&state.projections, plan).ok_or_else(|| {
        service_error(GovernanceError::NotFound(format!("there is no plan {plan}")).into())
    })?;
    Ok(PlanPayload {
        plan: object,
        events: events(written),
    })
}

async fn shared_mutation(
    ctx: &Context<'_>,
    command: SharedSectionCommand,
    key: Option<&str>,
) -> Result<SharedSectionPayload> {
    let actor = viewer(ctx)?;
    let service = service(ctx);
    let (group, section) = command.key();
    let shared = (group.clone(), section.clone());
    let written = service
        .execute::<councilflow_governance::SharedSection>(&actor, &shared, command, key)
        .await
        .map_err(service_error)?;
    let shared = service
        .read()
        .projections
        .shared_section(&group, &section)
        .cloned()
        .ok_or_else(|| service_error(ServiceError::Internal))?;
    Ok(SharedSectionPayload {
        shared_section: SharedSectionObject(shared),
        events: events(written),
    })
}

/// A plan id for a new plan: the first council, the workflow and a random suffix.
fn new_plan_id(council: &CouncilId, workflow: &WorkflowId) -> PlanId {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let mut base = format!("{council}-{workflow}");
    base.truncate(90);
    PlanId::parse(&format!("{}-{suffix}", base.trim_end_matches('-')))
        .expect("slugs joined by hyphens with a hex suffix are a slug")
}

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Starts a plan of a workflow for one or more owning councils, on their route (or the one
    /// named). Only a drafter of an owning council may.
    async fn start_plan(&self, ctx: &Context<'_>, input: StartPlanInput) -> Result<PlanPayload> {
        let actor = viewer(ctx)?;
        let workflow = parse_id("workflow", &input.workflow, WorkflowId::parse)?;
        let councils = input
            .councils
            .iter()
            .map(|c| parse_id("council", c, CouncilId::parse))
            .collect::<Result<Vec<_>>>()?;
        let first = councils
            .first()
            .ok_or_else(|| bad_input("a plan needs at least one owning council"))?;
        if let Some(title) = &input.title {
            short_text("the title", title)?;
        }
        let plan = match &input.id {
            Some(id) => parse_id("plan", id, PlanId::parse)?,
            None => new_plan_id(first, &workflow),
        };
        let key_dates = input
            .key_dates
            .unwrap_or_default()
            .into_iter()
            .map(|k| Ok((parse_id("key date", &k.id, KeyDateId::parse)?, k.date.0)))
            .collect::<Result<BTreeMap<_, _>>>()?;
        let command = PlanCommand::Start {
            plan: plan.clone(),
            workflow,
            councils,
            route: parse_opt_id("route", input.route, RouteId::parse)?,
            title: input.title,
            key_dates,
        };
        let service = service(ctx);
        let written = service
            .execute::<Plan>(&actor, &plan, command, input.idempotency_key.as_deref())
            .await
            .map_err(service_error)?;
        // A repeated key answers with the plan the first call started, whatever id this call made.
        let started = written
            .committed
            .first()
            .and_then(|e| e.stream.strip_prefix("plan-"))
            .and_then(|id| PlanId::parse(id).ok())
            .unwrap_or(plan);
        plan_payload(ctx, &started, written)
    }

    /// Replaces a section's text. With `expectedRevision`, refused with CONFLICT if the section changed
    /// since; any sign-off or committee decision it covers becomes stale.
    async fn edit_section(
        &self,
        ctx: &Context<'_>,
        input: EditSectionInput,
    ) -> Result<PlanPayload> {
        section_text(&input.text)?;
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::EditSection {
            section: parse_id("section", &input.section_id, SectionId::parse)?,
            text: input.text,
            expected_revision: revision(input.expected_revision)?,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Signs a sign-off stage in a role, for an owning council: the revision read and the hash
    /// of its content are recorded. Refused until the earlier stages are complete, and with
    /// CONFLICT if the plan changed since the revision read.
    async fn sign_off(&self, ctx: &Context<'_>, input: SignOffInput) -> Result<PlanPayload> {
        if let Some(comment) = &input.comment {
            short_text("the comment", comment)?;
        }
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::SignOff {
            stage: parse_id("stage", &input.stage_id, StageId::parse)?,
            role: role(&input.role)?,
            council: parse_opt_id("council", input.council, CouncilId::parse)?,
            comment: input.comment,
            expected_revision: read_revision(input.expected_revision)?,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Withdraws one's own sign-off, with a reason; the stage reopens.
    async fn withdraw_sign_off(
        &self,
        ctx: &Context<'_>,
        input: WithdrawSignOffInput,
    ) -> Result<PlanPayload> {
        short_text("the reason", &input.reason)?;
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::WithdrawSignOff {
            stage: parse_id("stage", &input.stage_id, StageId::parse)?,
            role: role(&input.role)?,
            council: parse_opt_id("council", input.council, CouncilId::parse)?,
            reason: input.reason,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Records a committee's decision for one owning council, on the revision in its papers
    /// (with that content's hash); refused with CONFLICT if the plan changed since.
    /// Approved with delegated amendments names the officer whose later edits keep it.
    async fn record_committee_decision(
        &self,
        ctx: &Context<'_>,
        input: RecordCommitteeDecisionInput,
    ) -> Result<PlanPayload> {
        short_text("the committee name", &input.committee)?;
        if let Some(minute) = &input.minute_reference {
            short_text("the minute reference", minute)?;
        }
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::RecordCommitteeDecision {
            stage: parse_opt_id("stage", input.stage_id, StageId::parse)?,
            council: parse_id("council", &input.council, CouncilId::parse)?,
            committee: input.committee,
            meeting_date: input.meeting_date.0,
            decision: input.decision.into(),
            minute_reference: input.minute_reference,
            delegated_to: parse_opt_id("person", input.delegated_to, PersonId::parse)?,
            expected_revision: read_revision(input.expected_revision)?,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Schedules (or moves) a committee meeting; its papers deadline follows the date.
    async fn schedule_meeting(
        &self,
        ctx: &Context<'_>,
        input: ScheduleMeetingInput,
    ) -> Result<PlanPayload> {
        short_text("the committee name", &input.committee)?;
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::ScheduleMeeting {
            stage: parse_opt_id("stage", input.stage_id, StageId::parse)?,
            council: parse_id("council", &input.council, CouncilId::parse)?,
            committee: input.committee,
            meeting_date: input.meeting_date.0,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Submits the approved plan, recording its content hash and whether it was late. Refused until
    /// every stage before submission is complete and current.
    async fn submit_plan(&self, ctx: &Context<'_>, input: SubmitPlanInput) -> Result<PlanPayload> {
        if let Some(reference) = &input.reference {
            short_text("the reference", reference)?;
        }
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::Submit {
            reference: input.reference,
            expected_revision: read_revision(input.expected_revision)?,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Records where the submitted plan was published.
    async fn publish_plan(
        &self,
        ctx: &Context<'_>,
        input: PublishPlanInput,
    ) -> Result<PlanPayload> {
        short_text("the URL", &input.url)?;
        if !(input.url.starts_with("https://") || input.url.starts_with("http://")) {
            return Err(bad_input(format!(
                "{:?} is not a web address (http:// or https://)",
                input.url
            )));
        }
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::Publish {
            url: input.url,
            expected_revision: read_revision(input.expected_revision)?,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Sets or moves a stage's deadline, or the submission deadline when `stageId` is omitted.
    async fn set_deadline(
        &self,
        ctx: &Context<'_>,
        input: SetDeadlineInput,
    ) -> Result<PlanPayload> {
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::SetDeadline {
            stage: parse_opt_id("stage", input.stage_id, StageId::parse)?,
            due: input.due,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Sets or moves a key date the workflow declares; deadlines computed from it move too.
    async fn set_key_date(&self, ctx: &Context<'_>, input: SetKeyDateInput) -> Result<PlanPayload> {
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::SetKeyDate {
            date: parse_id("key date", &input.key_date, KeyDateId::parse)?,
            on: input.date.0,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Proposes a group's shared text, or a new revision of it; every member council must agree it
    /// again.
    async fn propose_shared_section(
        &self,
        ctx: &Context<'_>,
        input: ProposeSharedSectionInput,
    ) -> Result<SharedSectionPayload> {
        section_text(&input.text)?;
        let command = SharedSectionCommand::Propose {
            group: parse_id("group", &input.group_id, GroupId::parse)?,
            section: parse_id("section", &input.section_id, SectionId::parse)?,
            text: input.text,
            expected_revision: revision(input.expected_revision)?,
        };
        shared_mutation(ctx, command, input.idempotency_key.as_deref()).await
    }

    /// Agrees a revision of a shared text for one member council (its chief executive or deputy).
    async fn agree_shared_section(
        &self,
        ctx: &Context<'_>,
        input: AgreeSharedSectionInput,
    ) -> Result<SharedSectionPayload> {
        let command = SharedSectionCommand::Agree {
            group: parse_id("group", &input.group_id, GroupId::parse)?,
            section: parse_id("section", &input.section_id, SectionId::parse)?,
            revision: revision(Some(input.revision))?.unwrap_or(0),
            council: parse_id("council", &input.council, CouncilId::parse)?,
        };
        shared_mutation(ctx, command, input.idempotency_key.as_deref()).await
    }

    /// Takes the group's agreed text into a plan's shared section (an edit like any other).
    async fn adopt_shared_section(
        &self,
        ctx: &Context<'_>,
        input: AdoptSharedSectionInput,
    ) -> Result<PlanPayload> {
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::AdoptSharedSection {
            section: parse_id("section", &input.section_id, SectionId::parse)?,
            expected_revision: read_revision(input.expected_revision)?,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }
}
