//! Mutations: each becomes one governance command, answered once its events are durable and the
//! projections show them.

use std::collections::BTreeMap;

use async_graphql::{Context, Object, Result};
use councilflow_governance::{
    CouncilId, GovernanceError, GroupId, KeyDateId, PersonId, Plan, PlanCommand, PlanId, Role,
    RouteId, SectionId, SharedSectionCommand, StageId, WorkflowId,
};

use super::calendar_feeds::CalendarFeedMutations;
use super::inputs::*;
use super::objects::{
    EventObject, PlanObject, PlanPayload, SharedSectionObject, SharedSectionPayload,
};
use super::query::{parse_id, parse_opt_id};
use super::{bad_input, limits, read_scope, service, service_error, viewer};
use crate::service::{ServiceError, Written};

/// Every mutation: the governance acts (recorded in the ledger) and a person's calendar feeds
/// (which are not).
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(GovernanceMutations, CalendarFeedMutations);

#[derive(Default)]
pub struct GovernanceMutations;

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
    let scope = read_scope(ctx)?;
    let state = service(ctx).read();
    let object = PlanObject::now(&state.projections, plan, &scope).ok_or_else(|| {
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

#[Object]
impl GovernanceMutations {
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
            None => crate::service::new_plan_id(first, &workflow),
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
            .and_then(|e| councilflow_governance::streams::plan_of(&e.stream))
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

    /// Sets or moves a stage's deadline, or the submission deadline when `stageId` is omitted and
    /// the council sets it (where an outside body sets it, record the extension it grants).
    async fn set_deadline(
        &self,
        ctx: &Context<'_>,
        input: SetDeadlineInput,
    ) -> Result<PlanPayload> {
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::SetDeadline {
            stage: parse_opt_id("stage", input.stage_id, StageId::parse)?,
            due: input.due.0,
        };
        plan_mutation(ctx, plan, command, input.idempotency_key.as_deref()).await
    }

    /// Records an extension of the submission deadline granted by the body that sets it (the
    /// workflow's `submissionDueSetBy`), with its reference; lateness is then judged against
    /// it, and the original deadline stays on the record. A submitter or Chief Executive may.
    async fn record_extension(
        &self,
        ctx: &Context<'_>,
        input: RecordExtensionInput,
    ) -> Result<PlanPayload> {
        short_text("who granted it", &input.granted_by)?;
        short_text("the reference", &input.reference)?;
        let plan = parse_id("plan", &input.plan_id, PlanId::parse)?;
        let command = PlanCommand::RecordExtension {
            due: input.due.0,
            granted_by: input.granted_by,
            granted_on: input.granted_on.0,
            reference: input.reference,
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
