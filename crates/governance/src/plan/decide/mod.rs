//! `decide` for plans: the events a command makes, or why not. Pure: the time is an argument.
//! [`decide`] checks who is acting and dispatches; each kind of act is decided in a file of its
//! own, as a method of [`Decider`], which holds what every act looks at.

mod committee;
mod dates;
mod sections;
mod sign_off;
mod start;
mod submission;

use chrono::{DateTime, Utc};

use crate::aggregate::Aggregate;
use crate::blockers::shared_section_blockers;
use crate::context::Context;
use crate::deadlines::london_date;
use crate::definition::{StageDefinition, Workflow};
use crate::error::GovernanceError;
use crate::event::streams;
use crate::ids::{CouncilId, PersonId, PlanId, Role, SectionId, StageId};
use crate::organisation::{Organisation, Scope};
use crate::plan::wording::*;
use crate::plan::*;
use crate::projection::Projections;
use crate::visibility::ReadScope;

/// Plans are decided here; `state.rs` applies their events.
impl Aggregate for Plan {
    type Id = PlanId;
    type Command = PlanCommand;
    type Event = PlanEvent;

    fn stream(id: &PlanId) -> String {
        streams::plan(id)
    }

    fn find<'p>(projections: &'p Projections, id: &PlanId) -> Option<&'p Plan> {
        projections.plan(id)
    }

    /// Decides a plan command: the events that follow, or why not. Pure: the time is an
    /// argument.
    fn decide(
        ctx: &Context<'_>,
        plan: Option<&Plan>,
        command: &PlanCommand,
        actor: &PersonId,
        now: DateTime<Utc>,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
        let org = ctx.organisation;
        let person = org
            .person(actor)
            .ok_or_else(|| GovernanceError::Forbidden(format!("unknown person '{actor}'")))?;
        if let PlanCommand::Start {
            plan: id,
            workflow,
            councils,
            route,
            title,
            key_dates,
        } = command
        {
            if plan.is_some() {
                return Err(GovernanceError::Conflict(format!(
                    "a plan with id '{id}' already exists"
                )));
            }
            return start::start(
                ctx,
                person.name.as_str(),
                actor,
                id,
                workflow,
                councils,
                route.as_ref(),
                title.as_deref(),
                key_dates,
                now,
            );
        }
        // A plan the actor may not read does not exist for them: the same refusal as no plan.
        let plan = plan
            .filter(|p| ReadScope::of(org, actor).plan(p).is_some())
            .ok_or_else(|| GovernanceError::NotFound("no such plan".into()))?;
        let workflow = ctx.workflows.get(&plan.workflow).ok_or_else(|| {
            GovernanceError::NotFound(format!(
                "the workflow '{}' of this plan is not loaded",
                plan.workflow
            ))
        })?;
        let d = Decider {
            ctx,
            org,
            plan,
            workflow,
            actor,
            name: &person.name,
            now,
        };
        match command {
            PlanCommand::Start { .. } => unreachable!("handled above"),
            PlanCommand::EditSection {
                section,
                text,
                expected_revision,
            } => d.edit(section, text, *expected_revision),
            PlanCommand::AdoptSharedSection {
                section,
                expected_revision,
            } => d.adopt(section, *expected_revision),
            PlanCommand::SignOff {
                stage,
                role,
                council,
                comment,
                expected_revision,
            } => d.sign_off(
                stage,
                *role,
                council.as_ref(),
                comment.as_deref(),
                *expected_revision,
            ),
            PlanCommand::WithdrawSignOff {
                stage,
                role,
                council,
                reason,
            } => d.withdraw(stage, *role, council.as_ref(), reason),
            PlanCommand::ScheduleMeeting {
                stage,
                council,
                committee,
                meeting_date,
            } => d.schedule(stage.as_ref(), council, committee, *meeting_date),
            PlanCommand::RecordCommitteeDecision {
                stage,
                council,
                committee,
                meeting_date,
                decision,
                minute_reference,
                delegated_to,
                expected_revision,
            } => d.committee_decision(
                stage.as_ref(),
                council,
                committee,
                *meeting_date,
                *decision,
                minute_reference.as_deref(),
                delegated_to.as_ref(),
                *expected_revision,
            ),
            PlanCommand::Submit {
                reference,
                expected_revision,
            } => d.submit(reference.as_deref(), *expected_revision),
            PlanCommand::Publish {
                url,
                expected_revision,
            } => d.publish(url, *expected_revision),
            PlanCommand::SetDeadline { stage, due } => d.set_deadline(stage.as_ref(), *due),
            PlanCommand::RecordExtension {
                due,
                granted_by,
                granted_on,
                reference,
            } => d.record_extension(*due, granted_by, *granted_on, reference),
            PlanCommand::SetKeyDate { date, on } => d.set_key_date(date, *on),
        }
    }

    fn apply(state: Option<Plan>, event: &PlanEvent) -> Option<Plan> {
        Plan::apply(state, event)
    }
}

pub(super) struct Decider<'a> {
    ctx: &'a Context<'a>,
    org: &'a Organisation,
    plan: &'a Plan,
    workflow: &'a Workflow,
    actor: &'a PersonId,
    name: &'a str,
    now: DateTime<Utc>,
}

impl Decider<'_> {
    fn holds(&self, role: Role, council: &CouncilId) -> Option<bool> {
        self.org
            .capacity(self.actor, role, &Scope::Council(council.clone()))
    }

    fn holds_any(&self, roles: &[Role]) -> bool {
        self.plan
            .councils
            .iter()
            .any(|c| roles.iter().any(|r| self.holds(*r, c).is_some()))
    }

    fn council_names(&self) -> String {
        let names: Vec<String> = self
            .plan
            .councils
            .iter()
            .map(|c| self.org.council_name(c))
            .collect();
        and_list(&names)
    }

    fn not_frozen(&self) -> Result<(), GovernanceError> {
        if let Some(s) = &self.plan.submission {
            return Err(GovernanceError::GovernanceViolation(format!(
                "'{}' was submitted on {} (revision {}): its text is frozen",
                self.plan.title,
                london_date(s.at).format("%-d %B %Y"),
                s.plan_revision
            )));
        }
        if let Some(p) = &self.plan.publication {
            return Err(GovernanceError::GovernanceViolation(format!(
                "'{}' was published on {}: its text is frozen",
                self.plan.title,
                london_date(p.at).format("%-d %B %Y")
            )));
        }
        Ok(())
    }

    fn stage(&self, id: &StageId) -> Result<(usize, &StageDefinition), GovernanceError> {
        self.workflow
            .route_stages(&self.plan.route)
            .into_iter()
            .enumerate()
            .find(|(_, s)| &s.id == id)
            .ok_or_else(|| {
                GovernanceError::NotFound(format!(
                    "'{id}' is not a stage of the route this plan follows ({})",
                    self.plan.route
                ))
            })
    }

    fn owning(&self, council: &CouncilId) -> Result<(), GovernanceError> {
        if self.plan.councils.contains(council) {
            Ok(())
        } else {
            Err(GovernanceError::BadInput(format!(
                "{} does not own '{}' (owned by {})",
                self.org.council_name(council),
                self.plan.title,
                self.council_names()
            )))
        }
    }

    /// Refuses an act on the stage at `index` while an earlier stage is not complete.
    fn open(&self, index: usize, stage: &StageDefinition) -> Result<(), GovernanceError> {
        let stages = self.plan.stages(self.workflow);
        if let Some(blocking) = stages[..index].iter().find(|s| !s.is_complete()) {
            return Err(GovernanceError::GovernanceViolation(format!(
                "{} is not open yet: {} still needs {}",
                stage.sentence_title(),
                self.workflow
                    .stage(&blocking.id)
                    .map(|s| s.inline_title())
                    .unwrap_or_default(),
                missing_words(self.org, blocking)
            )));
        }
        Ok(())
    }

    /// Refuses approvals while a shared section is unagreed, unadopted or outdated.
    fn shared_ready(&self, stage: &StageDefinition) -> Result<(), GovernanceError> {
        if self.plan.is_frozen() {
            return Ok(());
        }
        let blockers = shared_section_blockers(self.ctx, self.plan, Some(&stage.id));
        if let Some(first) = blockers.first() {
            return Err(GovernanceError::GovernanceViolation(format!(
                "{} cannot be recorded yet: {}",
                stage.sentence_title(),
                first.message
            )));
        }
        Ok(())
    }

    /// Refuses (CONFLICT) an act on a plan that changed since the revision the person read,
    /// saying what changed, by whom and when: an approval is of the text the person read, never
    /// of one saved a second before they clicked.
    fn unchanged_since(&self, read: u64, verb: &str) -> Result<(), GovernanceError> {
        let current = self.plan.revision;
        if read == current {
            return Ok(());
        }
        if read > current {
            return Err(GovernanceError::Conflict(format!(
                "the plan is at revision {current}, not {read}: reload it before you {verb}"
            )));
        }
        let mut changed: Vec<(&SectionId, &SectionEdit)> = self
            .plan
            .sections
            .iter()
            .filter_map(|s| Some((&s.id, s.last_edit.as_ref()?)))
            .filter(|(_, e)| e.plan_revision > read)
            .collect();
        changed.sort_by_key(|(_, e)| e.plan_revision);
        let words: Vec<String> = changed
            .iter()
            .map(|(id, e)| {
                let title = self.workflow.section(id).map_or(id.as_str(), |s| &s.title);
                format!(
                    "'{title}' was edited by {} at {}",
                    self.org.person_name(&e.by),
                    london_moment(e.at)
                )
            })
            .collect();
        let what = if words.is_empty() {
            "The plan was edited".to_owned()
        } else {
            format!("Section {}", and_list(&words))
        };
        Err(GovernanceError::Conflict(format!(
            "{what}, after the revision you read ({read}); it is now at revision {current}: read \
             it again before you {verb}"
        )))
    }

    fn plan_event_base(&self) -> (PlanId, PersonId, DateTime<Utc>) {
        (self.plan.id.clone(), self.actor.clone(), self.now)
    }
}
