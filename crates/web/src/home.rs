//! "Waiting on you": every act the signed-in person can take now, across their councils and
//! groups, overdue first; then their plans by status.
//!
//! With many plans the list is long, so it comes a page at a time: every plan in the person's
//! scope is asked what waits on them (the plan views are the projections' cached ones), the whole
//! list is sorted, and only the rows of the page shown are put into words. "Your plans" lists the
//! latest few of each status and counts the rest, which each council's page lists in full.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use councilflow_governance::{PlanStatus, PlanView, ReadScope};
use serde_json::{json, Value};

use crate::auth::{signed_in, to_sign_in};
use crate::candidates::{self, Candidate};
use crate::pages::{council_name, lateness, not_found, viewer, when};
use crate::paging::{PageQuery, Paging};
use crate::render::{page, Page};
use crate::Web;

/// Rows of "What you can do now" per page.
const ACTS_PER_PAGE: usize = 25;
/// Plans of each status listed by name; the rest are counted.
const PLANS_PER_STATUS: usize = 10;

const STATUSES: [PlanStatus; 5] = [
    PlanStatus::Drafting,
    PlanStatus::InApproval,
    PlanStatus::Approved,
    PlanStatus::Submitted,
    PlanStatus::Published,
];

/// `GET /`, `GET /?page=N`.
pub(crate) async fn home(
    State(web): State<Web>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in("/");
    };
    let now = Utc::now();
    let state = web.service.read();
    let projections = &state.projections;
    let me = viewer(projections, &person);
    let scope = ReadScope::of(projections.organisation(), &person);
    let held = candidates::Held::of(projections, &person);
    let mut waiting: Vec<(Arc<PlanView>, Candidate, Option<DateTime<Utc>>)> = Vec::new();
    let mut by_status: [Vec<Arc<PlanView>>; 5] = Default::default();
    for plan in projections.plans().filter(|p| scope.plan_fully(p)) {
        let Some(view) = projections.plan_view(&plan.id) else {
            continue;
        };
        for candidate in candidates::waiting_on(projections, &view, &person, &held, now) {
            let due = candidate.due(&view);
            waiting.push((view.clone(), candidate, due));
        }
        if let Some(i) = STATUSES.iter().position(|s| *s == view.status) {
            by_status[i].push(view);
        }
    }
    // Overdue first, then the soonest deadline; acts with no deadline last.
    // (Ascending deadlines put the overdue first.)
    waiting.sort_by_key(|(_, _, due)| (due.is_none(), *due));
    let Some(paging) = Paging::of(&query, waiting.len(), ACTS_PER_PAGE) else {
        return not_found(me, "page");
    };
    let rows: Vec<Value> = waiting[paging.range()]
        .iter()
        .map(|(view, candidate, due)| {
            let (words, overdue) = due.map_or((String::new(), false), |d| lateness(d, now));
            json!({
                "plan": view.plan.id, "plan_title": view.plan.title,
                "act": candidate.label(projections, view),
                "due": due.map(when), "lateness": words, "overdue": overdue,
            })
        })
        .collect();
    let statuses: Vec<Value> = STATUSES
        .iter()
        .zip(&by_status)
        .filter(|(_, views)| !views.is_empty())
        .map(|(status, views)| {
            // The latest started first.
            let listed: Vec<Value> = views
                .iter()
                .rev()
                .take(PLANS_PER_STATUS)
                .map(|view| {
                    let councils: Vec<String> = view
                        .plan
                        .councils
                        .iter()
                        .map(|c| council_name(projections, c))
                        .collect();
                    json!({ "id": view.plan.id, "title": view.plan.title, "councils": councils })
                })
                .collect();
            json!({
                "status": status, "count": views.len(), "plans": listed,
                "more": views.len().saturating_sub(PLANS_PER_STATUS),
            })
        })
        .collect();
    // Each page's title is its own.
    let title = if paging.pages() > 1 {
        format!(
            "Waiting on you (page {} of {})",
            paging.page(),
            paging.pages()
        )
    } else {
        "Waiting on you".to_owned()
    };
    page(
        Page::new("home.html", title)
            .with("viewer", me)
            .with("waiting", rows)
            .with("paging", paging.context("/"))
            .with("statuses", statuses),
    )
}
