//! The forms' handlers: a form sent becomes a command executed through `Service::execute`, so
//! every refusal is the engine's own; the page comes back with it, the form kept as typed.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;
use councilflow_api::ServiceError;
use councilflow_governance::{
    CouncilId, Decision, GovernanceError, PersonId, Plan, PlanCommand, PlanId, Role, SectionId,
    StageId,
};

use crate::auth::{signed_in, to_sign_in};
use crate::pages::plan_page;
use crate::Web;

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
        Err(e) => refused(status_of(&e), e.to_string(), None),
    }
}

/// The HTTP status of an act the service refused.
pub(crate) fn status_of(e: &ServiceError) -> StatusCode {
    match e.code() {
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "CONFLICT" => StatusCode::CONFLICT,
        "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        "INTERNAL" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
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
