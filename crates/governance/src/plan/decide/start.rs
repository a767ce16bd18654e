//! Starting a plan: the workflow, the owning councils, the route, the title.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::context::Context;
use crate::error::GovernanceError;
use crate::ids::{CouncilId, KeyDateId, PersonId, PlanId, Role, RouteId, WorkflowId};
use crate::organisation::Scope;
use crate::plan::wording::*;
use crate::plan::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn start(
    ctx: &Context<'_>,
    name: &str,
    actor: &PersonId,
    id: &PlanId,
    workflow_id: &WorkflowId,
    councils: &[CouncilId],
    route: Option<&RouteId>,
    title: Option<&str>,
    key_dates: &BTreeMap<KeyDateId, NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Vec<PlanEvent>, GovernanceError> {
    let org = ctx.organisation;
    let workflow = ctx
        .workflows
        .get(workflow_id)
        .ok_or_else(|| GovernanceError::NotFound(format!("no workflow '{workflow_id}'")))?;
    if councils.is_empty() {
        return Err(GovernanceError::BadInput(
            "a plan needs at least one owning council".into(),
        ));
    }
    for (i, c) in councils.iter().enumerate() {
        if councils[..i].contains(c) {
            return Err(GovernanceError::BadInput(format!(
                "council '{c}' is listed twice"
            )));
        }
        if org.council(c).is_none() {
            return Err(GovernanceError::NotFound(format!("no council '{c}'")));
        }
    }
    if !councils.iter().any(|c| {
        org.capacity(actor, Role::Drafter, &Scope::Council(c.clone()))
            .is_some()
    }) {
        let names: Vec<String> = councils.iter().map(|c| org.council_name(c)).collect();
        return Err(GovernanceError::Forbidden(format!(
            "{name} is not a drafter of {}: only a drafter of an owning council starts a plan",
            and_list(&names)
        )));
    }
    let route = match route {
        Some(r) => {
            if workflow.route(r).is_none() {
                let known: Vec<String> = workflow.routes.iter().map(|r| r.id.to_string()).collect();
                return Err(GovernanceError::NotFound(format!(
                    "{} has no route '{r}': choose one of {}",
                    workflow.title,
                    known.join(", ")
                )));
            }
            r.clone()
        }
        None => {
            let mut chosen: Vec<RouteId> = councils
                .iter()
                .map(|c| {
                    org.council(c)
                        .and_then(|c| c.route.clone())
                        .filter(|r| workflow.route(r).is_some())
                        .unwrap_or_else(|| workflow.default_route.clone())
                })
                .collect();
            chosen.dedup();
            if chosen.len() > 1 {
                return Err(GovernanceError::BadInput(format!(
                    "the owning councils follow different routes ({}): say which route this joint plan follows",
                    chosen.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
                )));
            }
            chosen.remove(0)
        }
    };
    for k in key_dates.keys() {
        if !workflow.key_dates.iter().any(|d| &d.id == k) {
            return Err(GovernanceError::BadInput(format!(
                "{} has no key date '{k}'",
                workflow.title
            )));
        }
    }
    let title = match title.map(str::trim) {
        Some("") => return Err(GovernanceError::BadInput("the title is empty".into())),
        Some(t) => t.to_owned(),
        None => {
            let names: Vec<String> = councils.iter().map(|c| org.council_name(c)).collect();
            format!("{}: {}", workflow.title, and_list(&names))
        }
    };
    let shared = workflow
        .sections
        .iter()
        .filter(|s| s.shared)
        .filter_map(|s| {
            org.supplier_of(&workflow.id, &s.id, councils)
                .map(|g| (s.id.clone(), g.id.clone()))
        })
        .collect();
    Ok(vec![PlanEvent::PlanStarted(PlanStarted {
        plan: id.clone(),
        workflow: workflow.id.clone(),
        route,
        title,
        councils: councils.to_vec(),
        sections: workflow.sections.iter().map(|s| s.id.clone()).collect(),
        shared,
        key_dates: key_dates.clone(),
        by: actor.clone(),
        at: now,
    })])
}
