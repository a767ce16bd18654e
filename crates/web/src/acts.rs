//! The acts a page offers, and the forms' handlers. No rule is written here: an act is offered
//! when the engine, asked to decide it now (without recording anything), would accept it; and a
//! form sent is executed through `Service::execute`, so every refusal is the engine's own.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;
use councilflow_api::graphql::Viewer;
use councilflow_api::ServiceError;
use councilflow_governance::{
    Aggregate, CouncilId, Decision, GovernanceError, PersonId, Plan, PlanCommand, PlanId, PlanView,
    Projections, ReadScope, Role, SectionId, StageId, StageKind, StageStatus, Workflow,
};
use serde_json::{json, Value};

use crate::auth::{signed_in, to_sign_in};
use crate::pages::plan_page;
use crate::Web;

/// An act the person may take on a plan now.
#[derive(Debug, Clone)]
pub(crate) enum Candidate {
    EditSection {
        section: SectionId,
    },
    Adopt {
        section: SectionId,
    },
    SignOff {
        stage: StageId,
        role: Role,
        council: CouncilId,
    },
    Withdraw {
        stage: StageId,
        role: Role,
        council: CouncilId,
    },
    Decision {
        stage: StageId,
        council: CouncilId,
    },
    Schedule {
        stage: StageId,
        council: CouncilId,
    },
    Submit,
    Publish,
    Extension,
}

fn council_name(projections: &Projections, id: &CouncilId) -> String {
    projections
        .organisation()
        .council(id)
        .map_or_else(|| id.to_string(), |c| c.name.clone())
}

fn stage_title(view: &PlanView, stage: &StageId) -> String {
    view.stages
        .iter()
        .find(|s| &s.id == stage)
        .map_or_else(|| stage.to_string(), |s| s.title.clone())
}

impl Candidate {
    /// The command to try: what the form would send, with placeholder values where the person
    /// types something (the engine's permission and state checks do not depend on them).
    fn trial(&self, plan: &Plan, now: DateTime<Utc>) -> PlanCommand {
        let today = now.with_timezone(&London).date_naive();
        match self {
            Candidate::EditSection { section } => PlanCommand::EditSection {
                section: section.clone(),
                text: format!("{} (trial)", plan_text(plan, section)),
                // An edit is checked against the section's own revision.
                expected_revision: plan
                    .sections
                    .iter()
                    .find(|s| &s.id == section)
                    .map(|s| s.revision),
            },
            Candidate::Adopt { section } => PlanCommand::AdoptSharedSection {
                section: section.clone(),
                expected_revision: plan.revision,
            },
            Candidate::SignOff {
                stage,
                role,
                council,
            } => PlanCommand::SignOff {
                stage: stage.clone(),
                role: *role,
                council: Some(council.clone()),
                comment: None,
                expected_revision: plan.revision,
            },
            Candidate::Withdraw {
                stage,
                role,
                council,
            } => PlanCommand::WithdrawSignOff {
                stage: stage.clone(),
                role: *role,
                council: Some(council.clone()),
                reason: "trial".into(),
            },
            Candidate::Decision { stage, council } => PlanCommand::RecordCommitteeDecision {
                stage: Some(stage.clone()),
                council: council.clone(),
                committee: "Committee".into(),
                meeting_date: today,
                decision: Decision::Approved,
                minute_reference: None,
                delegated_to: None,
                expected_revision: plan.revision,
            },
            Candidate::Schedule { stage, council } => PlanCommand::ScheduleMeeting {
                stage: Some(stage.clone()),
                council: council.clone(),
                committee: "Committee".into(),
                meeting_date: today + Duration::days(14),
            },
            Candidate::Submit => PlanCommand::Submit {
                reference: None,
                expected_revision: plan.revision,
            },
            Candidate::Publish => PlanCommand::Publish {
                url: "https://www.example.org/plan".into(),
                expected_revision: plan.revision,
            },
            Candidate::Extension => PlanCommand::RecordExtension {
                due: now + Duration::days(7),
                granted_by: "the department".into(),
                granted_on: today,
                reference: "trial".into(),
            },
        }
    }

    /// The deadline that bears on it.
    pub fn due(&self, view: &PlanView) -> Option<DateTime<Utc>> {
        let stage = match self {
            Candidate::SignOff { stage, .. } | Candidate::Decision { stage, .. } => Some(stage),
            _ => None,
        };
        stage
            .and_then(|s| view.stage_deadlines.get(s).copied())
            .or(view.submission_deadline)
    }

    /// In words, for "Waiting on you".
    pub fn label(&self, projections: &Projections, view: &PlanView) -> String {
        match self {
            Candidate::EditSection { section } => format!("Draft the section '{section}'"),
            Candidate::Adopt { section } => format!("Adopt the agreed '{section}' section"),
            Candidate::SignOff {
                stage,
                role,
                council,
            } => format!(
                "Sign off as {} of {} ({})",
                role.title(),
                council_name(projections, council),
                stage_title(view, stage)
            ),
            Candidate::Decision { stage, council } => format!(
                "Record the committee's decision for {} ({})",
                council_name(projections, council),
                stage_title(view, stage)
            ),
            Candidate::Submit => "Submit the plan".into(),
            Candidate::Publish => "Publish the plan".into(),
            Candidate::Withdraw { .. } => "Withdraw a sign-off".into(),
            Candidate::Schedule { .. } => "Schedule a committee meeting".into(),
            Candidate::Extension => "Record an extension".into(),
        }
    }

    /// What the plan page needs to draw its form.
    pub fn form(&self, projections: &Projections, view: &PlanView) -> Value {
        let plan = &view.plan;
        let base = json!({ "revision": plan.revision, "content_hash": plan.content_hash() });
        let mut form = match self {
            Candidate::EditSection { section } => {
                json!({ "kind": "edit-section", "section": section })
            }
            Candidate::Adopt { section } => json!({
                "kind": "adopt", "id": format!("adopt-{section}"), "section": section,
                "legend": format!("Adopt the agreed '{section}' section"),
            }),
            Candidate::SignOff {
                stage,
                role,
                council,
            } => json!({
                "kind": "sign-off", "id": format!("sign-off-{stage}-{role}-{council}"),
                "stage": stage, "role": role.to_string(), "council": council,
                "legend": format!("Sign off as {} of {}", role.title(), council_name(projections, council)),
                "stage_title": stage_title(view, stage),
            }),
            Candidate::Withdraw {
                stage,
                role,
                council,
            } => json!({
                "kind": "withdraw", "id": format!("withdraw-{stage}-{role}-{council}"),
                "stage": stage, "role": role.to_string(), "council": council,
                "legend": format!("Withdraw your sign-off as {} ({})", role.title(), stage_title(view, stage)),
            }),
            Candidate::Decision { stage, council } => json!({
                "kind": "decision", "id": format!("decision-{stage}-{council}"),
                "stage": stage, "council": council,
                "legend": format!("Record the committee's decision for {} ({})", council_name(projections, council), stage_title(view, stage)),
                "delegates": projections.organisation().people.values()
                    .filter(|p| p.roles.iter().any(|r| r.scope == councilflow_governance::Scope::Council(council.clone())))
                    .map(|p| json!({ "id": p.id, "name": p.name })).collect::<Vec<_>>(),
            }),
            Candidate::Schedule { stage, council } => json!({
                "kind": "schedule", "id": format!("schedule-{stage}-{council}"),
                "stage": stage, "council": council,
                "legend": format!("Schedule the committee meeting for {} ({})", council_name(projections, council), stage_title(view, stage)),
            }),
            Candidate::Submit => {
                json!({ "kind": "submit", "id": "submit", "legend": "Submit the plan" })
            }
            Candidate::Publish => {
                json!({ "kind": "publish", "id": "publish", "legend": "Publish the plan" })
            }
            Candidate::Extension => {
                json!({ "kind": "extension", "id": "extension", "legend": "Record an extension to the deadline" })
            }
        };
        if let (Some(form), Some(base)) = (form.as_object_mut(), base.as_object()) {
            form.extend(base.clone());
        }
        form
    }
}

fn plan_text(plan: &Plan, section: &SectionId) -> String {
    plan.sections
        .iter()
        .find(|s| &s.id == section)
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

/// Every act `person` may take on the plan now: each candidate the route suggests, kept when the
/// engine would accept it.
pub(crate) fn available(
    projections: &Projections,
    view: &PlanView,
    person: &PersonId,
    now: DateTime<Utc>,
) -> Vec<Candidate> {
    let plan = &view.plan;
    let workflow = projections.workflows().get(&plan.workflow);
    let mut candidates = Vec::new();
    for section in &plan.sections {
        candidates.push(if section.shared_from.is_some() {
            Candidate::Adopt {
                section: section.id.clone(),
            }
        } else {
            Candidate::EditSection {
                section: section.id.clone(),
            }
        });
    }
    for stage in &view.stages {
        let kind = workflow
            .and_then(|w| w.stages.iter().find(|s| s.id == stage.id))
            .map(|s| s.kind);
        for r in &stage.requirements {
            if kind == Some(StageKind::Committee) {
                continue;
            }
            if !r.satisfied {
                candidates.push(Candidate::SignOff {
                    stage: stage.id.clone(),
                    role: r.role,
                    council: r.council.clone(),
                });
            }
        }
        if kind == Some(StageKind::Committee) && stage.status != StageStatus::Waiting {
            for council in &plan.councils {
                candidates.push(Candidate::Decision {
                    stage: stage.id.clone(),
                    council: council.clone(),
                });
                candidates.push(Candidate::Schedule {
                    stage: stage.id.clone(),
                    council: council.clone(),
                });
            }
        }
    }
    for s in plan.sign_offs.iter().filter(|s| &s.by == person) {
        candidates.push(Candidate::Withdraw {
            stage: s.stage.clone(),
            role: s.role,
            council: s.council.clone(),
        });
    }
    candidates.extend([Candidate::Submit, Candidate::Publish, Candidate::Extension]);
    let ctx = projections.context();
    candidates
        .into_iter()
        .filter(|c| Plan::decide(&ctx, Some(plan), &c.trial(plan, now), person, now).is_ok())
        .collect()
}

/// The acts on the plan that wait on `person` now, for "Waiting on you": the same question as
/// [`available`], asked only of the candidates that wait on someone (a section not written yet,
/// a sign-off, a decision, adoption, submission, publication) and, for those tied to a role,
/// only where the person holds that role at that council. Across a thousand plans this asks the
/// engine a handful of questions per plan instead of every candidate's.
pub(crate) fn waiting_on(
    projections: &Projections,
    view: &PlanView,
    person: &PersonId,
    now: DateTime<Utc>,
) -> Vec<Candidate> {
    let plan = &view.plan;
    let org = projections.organisation();
    let holds = |role: Role, council: &CouncilId| {
        org.person(person).is_some_and(|p| {
            p.roles.iter().any(|a| {
                a.role == role && a.scope == councilflow_governance::Scope::Council(council.clone())
            })
        })
    };
    let holds_anywhere = |role: Role| plan.councils.iter().any(|c| holds(role, c));
    let workflow = projections.workflows().get(&plan.workflow);
    let mut candidates = Vec::new();
    if holds_anywhere(Role::Drafter) {
        for section in &plan.sections {
            if section.shared_from.is_some() {
                candidates.push(Candidate::Adopt {
                    section: section.id.clone(),
                });
            } else if section.text.is_empty() {
                candidates.push(Candidate::EditSection {
                    section: section.id.clone(),
                });
            }
        }
    }
    for stage in view
        .stages
        .iter()
        .filter(|s| s.status != StageStatus::Complete)
    {
        let committee = workflow
            .and_then(|w| w.stages.iter().find(|s| s.id == stage.id))
            .is_some_and(|s| s.kind == StageKind::Committee);
        if committee {
            for council in plan
                .councils
                .iter()
                .filter(|c| holds(Role::CommitteeClerk, c))
            {
                candidates.push(Candidate::Decision {
                    stage: stage.id.clone(),
                    council: council.clone(),
                });
            }
        } else {
            for r in stage
                .requirements
                .iter()
                .filter(|r| !r.satisfied && holds(r.role, &r.council))
            {
                candidates.push(Candidate::SignOff {
                    stage: stage.id.clone(),
                    role: r.role,
                    council: r.council.clone(),
                });
            }
        }
    }
    if holds_anywhere(Role::Submitter) {
        candidates.extend([Candidate::Submit, Candidate::Publish]);
    }
    let ctx = projections.context();
    candidates
        .into_iter()
        .filter(|c| Plan::decide(&ctx, Some(plan), &c.trial(plan, now), person, now).is_ok())
        .collect()
}

/// Whether `person` may start a plan of `workflow` for `council` (asked of the engine).
pub(crate) fn may_start(
    projections: &Projections,
    workflow: &Workflow,
    council: &CouncilId,
    person: &PersonId,
    now: DateTime<Utc>,
) -> bool {
    let Ok(id) = PlanId::parse("trial-plan") else {
        return false;
    };
    let command = PlanCommand::Start {
        plan: id,
        workflow: workflow.id.clone(),
        councils: vec![council.clone()],
        route: None,
        title: None,
        key_dates: BTreeMap::new(),
    };
    Plan::decide(&projections.context(), None, &command, person, now).is_ok()
}

/// The banner after an act.
pub(crate) fn done_message(act: &str) -> Option<&'static str> {
    Some(match act {
        "edit-section" => "Section saved",
        "adopt" => "Shared section adopted",
        "sign-off" => "Signed off",
        "withdraw" => "Sign-off withdrawn",
        "decision" => "Committee decision recorded",
        "schedule" => "Meeting scheduled",
        "submit" => "Plan submitted",
        "publish" => "Plan published",
        "extension" => "Extension recorded",
        _ => return None,
    })
}

/// An event in words, for the history.
pub(crate) fn describe(kind: &str, payload: &Value) -> String {
    let text = |key: &str| payload[key].as_str().unwrap_or_default().to_owned();
    let revision = payload["plan_revision"].as_u64();
    let at_revision = revision.map_or_else(String::new, |r| format!(" (revision {r})"));
    let role =
        || Role::parse(&text("role")).map_or_else(|_| text("role"), |r| r.title().to_owned());
    match kind {
        "PlanStarted" => "started the plan".to_owned(),
        "SectionEdited" => format!("edited the section '{}'{at_revision}", text("section")),
        "SharedSectionAdopted" => format!(
            "adopted the shared section '{}'{at_revision}",
            text("section")
        ),
        "SignedOff" => format!("signed off as {} ({}){at_revision}", role(), text("stage")),
        "SignOffWithdrawn" => format!("withdrew a sign-off as {}: {}", role(), text("reason")),
        "CommitteeDecisionRecorded" => format!(
            "recorded the decision of {} on {}: {}{at_revision}",
            text("committee"),
            text("meeting_date"),
            text("decision").to_lowercase().replace('_', " ")
        ),
        "MeetingScheduled" => format!(
            "scheduled {} for {}",
            text("committee"),
            text("meeting_date")
        ),
        "PlanSubmitted" => format!("submitted the plan{at_revision}"),
        "PlanPublished" => format!("published the plan at {}", text("url")),
        "DeadlineExtended" => format!("recorded an extension granted by {}", text("granted_by")),
        "DeadlineSet" => "set a deadline".to_owned(),
        "KeyDateSet" => "set a key date".to_owned(),
        other => other.to_owned(),
    }
}

/// What the page shows after a refusal: the engine's message, the form as typed, what changed.
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub errors: Vec<(String, String)>,
    pub typed: BTreeMap<String, String>,
    pub changed: Option<String>,
}

impl Refusal {
    pub fn none() -> Refusal {
        Refusal {
            status: StatusCode::OK,
            errors: Vec::new(),
            typed: BTreeMap::new(),
            changed: None,
        }
    }
}

type Fields = BTreeMap<String, String>;

fn field<'f>(fields: &'f Fields, name: &str) -> Result<&'f str, String> {
    fields
        .get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("Enter the {}", name.replace('_', " ")))
}

fn parse<T, E: std::fmt::Display>(
    fields: &Fields,
    name: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, String> {
    let text = field(fields, name)?;
    parse(text).map_err(|e| format!("The {} is not valid: {e}", name.replace('_', " ")))
}

fn date(fields: &Fields, name: &str) -> Result<NaiveDate, String> {
    parse(fields, name, |t| NaiveDate::parse_from_str(t, "%Y-%m-%d")).map_err(|_| {
        format!(
            "Enter the {} as a date, like 2024-07-18",
            name.replace('_', " ")
        )
    })
}

/// The form's fields as a command, or what is wrong with them (before the engine is asked).
fn command(act: &str, fields: &Fields) -> Result<PlanCommand, String> {
    let revision = || parse(fields, "expected_revision", str::parse::<u64>);
    let stage = || parse(fields, "stage", StageId::parse);
    let role = || parse(fields, "role", Role::parse);
    let council = || parse(fields, "council", CouncilId::parse);
    Ok(match act {
        "edit-section" => PlanCommand::EditSection {
            section: parse(fields, "section", SectionId::parse)?,
            text: fields.get("text").cloned().unwrap_or_default(),
            expected_revision: Some(revision()?),
        },
        "adopt" => PlanCommand::AdoptSharedSection {
            section: parse(fields, "section", SectionId::parse)?,
            expected_revision: revision()?,
        },
        "sign-off" => PlanCommand::SignOff {
            stage: stage()?,
            role: role()?,
            council: Some(council()?),
            comment: fields
                .get("comment")
                .filter(|c| !c.trim().is_empty())
                .cloned(),
            expected_revision: revision()?,
        },
        "withdraw" => PlanCommand::WithdrawSignOff {
            stage: stage()?,
            role: role()?,
            council: Some(council()?),
            reason: field(fields, "reason")?.to_owned(),
        },
        "decision" => PlanCommand::RecordCommitteeDecision {
            stage: Some(stage()?),
            council: council()?,
            committee: field(fields, "committee")?.to_owned(),
            meeting_date: date(fields, "meeting_date")?,
            decision: match field(fields, "decision")? {
                "APPROVED" => Decision::Approved,
                "APPROVED_WITH_DELEGATED_AMENDMENTS" => Decision::ApprovedWithDelegatedAmendments,
                "DEFERRED" => Decision::Deferred,
                "REJECTED" => Decision::Rejected,
                _ => return Err("Choose the committee's decision".into()),
            },
            minute_reference: fields
                .get("minute_reference")
                .filter(|m| !m.trim().is_empty())
                .cloned(),
            delegated_to: match fields
                .get("delegated_to")
                .map(|d| d.trim())
                .filter(|d| !d.is_empty())
            {
                Some(d) => Some(
                    PersonId::parse(d)
                        .map_err(|e| format!("The delegated officer is not valid: {e}"))?,
                ),
                None => None,
            },
            expected_revision: revision()?,
        },
        "schedule" => PlanCommand::ScheduleMeeting {
            stage: Some(stage()?),
            council: council()?,
            committee: field(fields, "committee")?.to_owned(),
            meeting_date: date(fields, "meeting_date")?,
        },
        "submit" => PlanCommand::Submit {
            reference: fields
                .get("reference")
                .filter(|r| !r.trim().is_empty())
                .cloned(),
            expected_revision: revision()?,
        },
        "publish" => PlanCommand::Publish {
            url: field(fields, "url")?.to_owned(),
            expected_revision: revision()?,
        },
        "extension" => {
            let day = date(fields, "due")?;
            let end = London
                .from_local_datetime(
                    &day.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("a time")),
                )
                .earliest()
                .ok_or("That date has no end of day in London")?;
            PlanCommand::RecordExtension {
                due: end.with_timezone(&Utc),
                granted_by: field(fields, "granted_by")?.to_owned(),
                granted_on: date(fields, "granted_on")?,
                reference: field(fields, "reference")?.to_owned(),
            }
        }
        _ => return Err("There is no such act".into()),
    })
}

/// `POST /plans/{id}/acts/{act}`: the act, through the engine; back to the plan page with a
/// banner, or the plan page again with the engine's refusal and the form as typed.
pub(crate) async fn act(
    State(web): State<Web>,
    Path((id, act)): Path<(String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in(&format!("/plans/{id}"));
    };
    let form_id = fields
        .get("form_id")
        .cloned()
        .unwrap_or_else(|| act.clone());
    let refused = |status: StatusCode, message: String, changed: Option<String>| {
        let refusal = Refusal {
            status,
            errors: vec![(form_id.clone(), message)],
            typed: fields.clone(),
            changed,
        };
        plan_page(&web, &id, &person, None, refusal)
    };
    let Ok(plan) = PlanId::parse(&id) else {
        return refused(StatusCode::NOT_FOUND, "There is no such plan".into(), None);
    };
    let command = match command(&act, &fields) {
        Ok(command) => command,
        Err(message) => return refused(StatusCode::UNPROCESSABLE_ENTITY, message, None),
    };
    match web
        .service
        .execute::<Plan>(&person, &plan, command, None)
        .await
    {
        Ok(_) => Redirect::to(&format!("/plans/{id}?done={act}")).into_response(),
        Err(ServiceError::Refused(GovernanceError::Conflict(message))) => refused(
            StatusCode::CONFLICT,
            format!("The plan changed after you loaded this page: {message}"),
            Some(message),
        ),
        Err(e) => {
            let status = match e.code() {
                "FORBIDDEN" => StatusCode::FORBIDDEN,
                "NOT_FOUND" => StatusCode::NOT_FOUND,
                "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL" => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            refused(status, e.to_string(), None)
        }
    }
}

/// `POST /councils/{id}/plans`: starts a plan of the chosen workflow.
pub(crate) async fn start_plan(
    State(web): State<Web>,
    Path(council): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in(&format!("/councils/{council}"));
    };
    let (Ok(council_id), Some(Ok(workflow))) = (
        CouncilId::parse(&council),
        fields
            .get("workflow")
            .map(|w| councilflow_governance::WorkflowId::parse(w)),
    ) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "Choose a workflow\n").into_response();
    };
    let plan = councilflow_api::service::new_plan_id(&council_id, &workflow);
    let command = PlanCommand::Start {
        plan: plan.clone(),
        workflow,
        councils: vec![council_id],
        route: None,
        title: fields
            .get("title")
            .filter(|t| !t.trim().is_empty())
            .cloned(),
        key_dates: BTreeMap::new(),
    };
    match web
        .service
        .execute::<Plan>(&person, &plan, command, None)
        .await
    {
        Ok(_) => Redirect::to(&format!("/plans/{plan}")).into_response(),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The plan was not started: {e}\n"),
        )
            .into_response(),
    }
}

/// `/plans/{id}` with a bearer token (integrators): the document, or the projection as JSON.
pub(crate) fn for_integrators(web: &Web, id: &str, headers: &HeaderMap) -> Response {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let person = match Viewer::from_header(&web.service, header) {
        Viewer::Person(person) => person,
        Viewer::Anonymous => {
            return (
                StatusCode::UNAUTHORIZED,
                "sign in: send `Authorization: Bearer <token>` (get a token with `councilflow token --person <your id>`)\n",
            )
                .into_response()
        }
        Viewer::Rejected(why) => return (StatusCode::UNAUTHORIZED, format!("{why}\n")).into_response(),
    };
    let (id, json) = match id.strip_suffix(".json") {
        Some(id) => (id, true),
        None => (id, false),
    };
    let Ok(id) = PlanId::parse(id) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a plan id\n"),
        )
            .into_response();
    };
    let state = web.service.read();
    let scope = ReadScope::of(state.projections.organisation(), &person);
    let readable = state
        .projections
        .plan(&id)
        .is_some_and(|p| scope.plan(p).is_some());
    match state.projections.plan_view(&id).filter(|_| readable) {
        Some(view) if json => axum::Json(view).into_response(),
        Some(view) => Html((web.settings.document)(&state.projections, &view)).into_response(),
        None => (StatusCode::NOT_FOUND, format!("there is no plan {id}\n")).into_response(),
    }
}
