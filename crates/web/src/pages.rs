//! The pages: what is waiting on the signed-in person, a council's plans, and a plan with the
//! acts the person may take now. Everything shown is read through `ReadScope`, like the API: a
//! plan the person may not read is "not found", as if it did not exist.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::London;
use councilflow_governance::{
    CouncilId, Decision, PersonId, PlanId, PlanView, Projections, ReadScope, Scope, StageStatus,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::acts;
use crate::auth::{signed_in, to_sign_in};
use crate::candidates::{self, Candidate};
use crate::paging::{PageQuery, Paging};
use crate::render::{page, Page};
use crate::Web;

/// A moment as a council officer reads it: London time, "18 July 2024, 20:00".
pub(crate) fn when(at: DateTime<Utc>) -> String {
    at.with_timezone(&London)
        .format("%-d %B %Y, %H:%M")
        .to_string()
}

/// How far a deadline is, in words.
pub(crate) fn lateness(due: DateTime<Utc>, now: DateTime<Utc>) -> (String, bool) {
    let days = (due - now).num_days();
    let hours = (due - now).num_hours();
    if due < now {
        let late = (now - due).num_days();
        let words = match late {
            0 => "overdue by less than a day".to_owned(),
            1 => "1 day overdue".to_owned(),
            n => format!("{n} days overdue"),
        };
        (words, true)
    } else if hours < 24 {
        ("due within a day".to_owned(), false)
    } else {
        (format!("due in {days} days"), false)
    }
}

/// The signed-in person's name and councils, for the header.
pub(crate) fn viewer(projections: &Projections, person: &PersonId) -> Value {
    let org = projections.organisation();
    let Some(p) = org.person(person) else {
        return json!({ "name": person.as_str(), "councils": [] });
    };
    // Once per council, however many roles the person holds there.
    let councils: Vec<Value> = p
        .roles
        .iter()
        .filter_map(|r| match &r.scope {
            Scope::Council(c) => org.council(c),
            _ => None,
        })
        .map(|c| (c.id.clone(), json!({ "id": c.id, "name": c.name })))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect();
    let scope = ReadScope::of(org, person);
    let groups: Vec<Value> = crate::groups::groups_read(projections, &scope)
        .into_iter()
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    json!({ "id": p.id, "name": p.name, "councils": councils, "groups": groups })
}

/// A committee's decision in words.
pub(crate) fn decision_words(decision: Decision) -> &'static str {
    match decision {
        Decision::Approved => "approved",
        Decision::ApprovedWithDelegatedAmendments => "approved with delegated amendments",
        Decision::Deferred => "deferred",
        Decision::Rejected => "rejected",
    }
}

pub(crate) fn council_name(projections: &Projections, id: &CouncilId) -> String {
    projections.organisation().council_name(id)
}

pub(crate) fn person_name(projections: &Projections, id: &PersonId) -> String {
    projections.organisation().person_name(id)
}

/// "Not found" for `person`, taking the projections' read lock itself: call it only where the
/// request does not hold it already.
pub(crate) fn not_found_for(web: &Web, person: &PersonId, what: &str) -> Response {
    let state = web.service.read();
    not_found(viewer(&state.projections, person), what)
}

pub(crate) fn not_found(person_view: Value, what: &str) -> Response {
    page(
        Page::new("not_found.html", "Page not found")
            .status(StatusCode::NOT_FOUND)
            .with("viewer", person_view)
            .with(
                "message",
                format!("There is no {what} here, or it is not yours to see."),
            ),
    )
}

/// Plans listed on each page of a council's plans.
const PLANS_PER_PAGE: usize = 50;

/// `GET /councils/{id}`: the council's plans, and starting one.
pub(crate) async fn council(
    State(web): State<Web>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in(&format!("/councils/{id}"));
    };
    let state = web.service.read();
    let projections = &state.projections;
    let me = viewer(projections, &person);
    let scope = ReadScope::of(projections.organisation(), &person);
    let Some(council) = CouncilId::parse(&id)
        .ok()
        .and_then(|c| projections.organisation().council(&c).cloned())
        .filter(|c| scope.council(&c.id))
    else {
        return not_found(me, "council");
    };
    let now = Utc::now();
    // The latest started first, a page at a time.
    let mut all = projections.plans_of_council(&council.id);
    all.reverse();
    let Some(paging) = Paging::of(&query, all.len(), PLANS_PER_PAGE) else {
        return not_found(me, "page");
    };
    let plans: Vec<Value> = all[paging.range()]
        .iter()
        .filter_map(|p| projections.plan_view(&p.id))
        .map(|view| {
            let next = view
                .deadlines
                .iter()
                .filter(|d| d.due > now)
                .map(|d| d.due)
                .min();
            json!({
                "id": view.plan.id, "title": view.plan.title, "status": view.status,
                "stage": view.current_stage.as_ref().and_then(|s| view.stages.iter().find(|v| &v.id == s)).map(|s| s.title.clone()),
                "next_deadline": next.map(when), "late": view.late,
            })
        })
        .collect();
    let workflows: Vec<Value> = projections
        .workflows()
        .iter()
        .filter(|w| candidates::may_start(projections, w, &council.id, &person, now))
        .map(|w| json!({ "id": w.id, "title": w.title }))
        .collect();
    let mut title = format!("{} plans", council.name);
    if paging.pages() > 1 {
        title = format!("{title} (page {} of {})", paging.page(), paging.pages());
    }
    page(
        Page::new("council.html", title)
            .with(
                "paging",
                paging.context(&format!("/councils/{}", council.id)),
            )
            .with("viewer", me)
            .with("council", json!({ "id": council.id, "name": council.name }))
            .with("plans", plans)
            .with("workflows", workflows),
    )
}

#[derive(Deserialize)]
pub(crate) struct PlanQuery {
    /// What the person just did, for the banner.
    done: Option<String>,
    /// A bearer token in the address: refused, never used.
    token: Option<String>,
}

/// `GET /plans/{id}`: the plan page for a signed-in person; for a bearer token (integrators) the
/// plan's document, and `/plans/{id}.json` its projection.
pub(crate) async fn plan(
    State(web): State<Web>,
    Path(id): Path<String>,
    Query(query): Query<PlanQuery>,
    headers: HeaderMap,
) -> Response {
    if query.token.is_some() {
        return crate::token_in_address();
    }
    if headers.contains_key(header::AUTHORIZATION) || id.ends_with(".json") {
        return crate::integrators::plan(&web, &id, &headers);
    }
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in(&format!("/plans/{id}"));
    };
    let notice = query.done.as_deref().and_then(acts::done_message);
    plan_page(&web, &id, &person, notice, acts::Refusal::none())
}

/// The plan page, with a refusal's errors and the form kept as typed when an act was refused.
pub(crate) fn plan_page(
    web: &Web,
    id: &str,
    person: &PersonId,
    notice: Option<&str>,
    refusal: acts::Refusal,
) -> Response {
    let state = web.service.read();
    let projections = &state.projections;
    let me = viewer(projections, person);
    let scope = ReadScope::of(projections.organisation(), person);
    let Some(view) = PlanId::parse(id)
        .ok()
        .filter(|id| {
            projections
                .plan(id)
                .is_some_and(|p| scope.plan(p).is_some())
        })
        .and_then(|id| projections.plan_view(&id))
    else {
        return not_found(me, "plan");
    };
    let now = Utc::now();
    // A published plan read from outside its councils: the document and its record of
    // approvals, without acts or history (as in the API).
    let full = scope.plan_fully(&view.plan);
    let candidates = if full {
        candidates::available(projections, &view, person, now)
    } else {
        Vec::new()
    };
    let context = plan_context(projections, &view, &candidates);
    let history = if full {
        web.history.of(web.service.ledger(), projections, &view)
    } else {
        Default::default()
    };
    let mut page_ = Page::new("plan.html", view.plan.title.clone())
        .status(refusal.status)
        .with("viewer", me)
        .with("plan", context)
        .with("history", &*history)
        .with("history_kept", !full)
        .with("typed", refusal.typed.clone())
        .with("changed", refusal.changed.clone());
    if full {
        page_ = page_.with(
            "live",
            crate::live::plan_stream(&view.plan.id, state.position),
        );
    }
    if let Some(notice) = notice {
        page_ = page_.with("notice", notice);
    }
    for (field, message) in refusal.errors {
        page_ = page_.error(field, message);
    }
    page(page_)
}

fn plan_context(projections: &Projections, view: &PlanView, candidates: &[Candidate]) -> Value {
    let plan = &view.plan;
    let workflow = projections.workflows().get(&plan.workflow);
    let section_title = |id: &str| {
        workflow
            .and_then(|w| w.sections.iter().find(|s| s.id.as_str() == id))
            .map_or_else(|| id.to_owned(), |s| s.title.clone())
    };
    let stages: Vec<Value> = view
        .stages
        .iter()
        .map(|stage| {
            let requirements: Vec<Value> = stage
                .requirements
                .iter()
                .map(|r| {
                    let record = plan.sign_offs.iter().rev().find(|s| {
                        s.stage == stage.id && s.role == r.role && s.council == r.council
                    });
                    json!({
                        "who": format!("{} of {}", r.role.title(), council_name(projections, &r.council)),
                        "satisfied": r.satisfied, "stale": r.stale,
                        "record": record.map(|s| format!(
                            "signed revision {} on {} ({}){}",
                            s.plan_revision, when(s.at),
                            person_name(projections, &s.by),
                            if s.deputy { ", as deputy" } else { "" }
                        )),
                    })
                })
                .collect();
            let decisions: Vec<Value> = plan
                .decisions
                .iter()
                .filter(|d| d.stage == stage.id)
                .map(|d| json!({
                    "council": council_name(projections, &d.council), "committee": d.committee,
                    "date": d.meeting_date.format("%-d %B %Y").to_string(),
                    "decision": decision_words(d.decision), "minute": d.minute_reference,
                    "revision": d.plan_revision,
                }))
                .collect();
            json!({
                "id": stage.id, "title": stage.title, "status": stage.status,
                "open": stage.status == StageStatus::Open,
                "requirements": requirements, "decisions": decisions,
                "deadline": view.stage_deadlines.get(&stage.id).map(|d| when(*d)),
            })
        })
        .collect();
    let editable: Vec<&str> = candidates
        .iter()
        .filter_map(|c| match c {
            Candidate::EditSection { section } => Some(section.as_str()),
            _ => None,
        })
        .collect();
    let sections: Vec<Value> = plan
        .sections
        .iter()
        .map(|s| json!({
            "id": s.id, "title": section_title(s.id.as_str()), "revision": s.revision,
            "text": s.text, "shared": s.shared_from, "editable": editable.contains(&s.id.as_str()),
        }))
        .collect();
    let acts: Vec<Value> = candidates
        .iter()
        .filter(|c| !matches!(c, Candidate::EditSection { .. }))
        .map(|c| c.form(projections, view))
        .collect();
    json!({
        "id": plan.id, "title": plan.title, "status": view.status,
        "councils": plan.councils.iter().map(|c| council_name(projections, c)).collect::<Vec<_>>(),
        "revision": plan.revision, "content_hash": plan.content_hash(),
        "deadline": view.submission_deadline.map(when),
        "original_deadline": view.original_submission_deadline.map(when),
        "extensions": plan.extensions.iter().map(|e| json!({
            "due": when(e.due), "granted_by": e.granted_by,
            "granted_on": e.granted_on.format("%-d %B %Y").to_string(), "reference": e.reference,
        })).collect::<Vec<_>>(),
        "late": view.late,
        "blockers": view.blockers.iter().map(|b| b.message.clone()).collect::<Vec<_>>(),
        "stages": stages, "sections": sections, "acts": acts,
        "published_url": plan.publication.as_ref().map(|p| p.url.clone()),
    })
}

/// `GET /plans/{id}/print`: the document with its record of approvals, for printing.
pub(crate) async fn print(
    State(web): State<Web>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in(&format!("/plans/{id}/print"));
    };
    let state = web.service.read();
    let projections = &state.projections;
    let scope = ReadScope::of(projections.organisation(), &person);
    match PlanId::parse(&id)
        .ok()
        .filter(|id| {
            projections
                .plan(id)
                .is_some_and(|p| scope.plan(p).is_some())
        })
        .and_then(|id| projections.plan_view(&id))
    {
        Some(view) => Html((web.settings.document)(projections, &view)).into_response(),
        None => not_found(viewer(projections, &person), "plan"),
    }
}
