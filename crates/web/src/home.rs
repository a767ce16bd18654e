//! "Waiting on you": every act the signed-in person can take now, across their councils and
//! groups, overdue first; their groups' shared sections to propose or agree; then their plans by
//! status.
//!
//! With many plans the list is long, so it comes a page at a time. What waits on the person is
//! their worklist (`worklist.rs`), brought up to date with the plans changed since they last
//! looked; only the rows of the page shown are put into words. "Your plans" lists the latest few
//! of each status and counts the rest, which each council's page lists in full.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use serde_json::{json, Value};

use crate::auth::{signed_in, to_sign_in};
use crate::pages::{council_name, lateness, not_found, viewer, when};
use crate::paging::{PageQuery, Paging};
use crate::render::{page, Page};
use crate::Web;

/// Rows of "What you can do now" per page.
const ACTS_PER_PAGE: usize = 25;
/// Plans of each status listed by name; the rest are counted.
const PLANS_PER_STATUS: usize = 10;

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
    let worklist = web.worklists.of(&person);
    let mut worklist = worklist
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    worklist.refresh(projections, &person, now);
    let Some(paging) = Paging::of(&query, worklist.act_count(), ACTS_PER_PAGE) else {
        return not_found(me, "page");
    };
    let range = paging.range();
    let rows: Vec<Value> = worklist
        .acts()
        .skip(range.start)
        .take(range.len())
        .filter_map(|(id, candidate)| {
            let view = projections.plan_view(id)?;
            let due = candidate.due(&view);
            let (words, overdue) = due.map_or((String::new(), false), |d| lateness(d, now));
            Some(json!({
                "plan": id, "plan_title": view.plan.title,
                "act": candidate.label(projections, &view),
                "due": due.map(when), "lateness": words, "overdue": overdue,
            }))
        })
        .collect();
    let statuses: Vec<Value> = worklist
        .plans_by_status()
        .filter(|(_, count, _)| *count > 0)
        .map(|(status, count, latest)| {
            let listed: Vec<Value> = latest
                .take(PLANS_PER_STATUS)
                .filter_map(|id| projections.plan(id))
                .map(|plan| {
                    let councils: Vec<String> = plan
                        .councils
                        .iter()
                        .map(|c| council_name(projections, c))
                        .collect();
                    json!({ "id": plan.id, "title": plan.title, "councils": councils })
                })
                .collect();
            json!({
                "status": status, "count": count, "plans": listed,
                "more": count.saturating_sub(PLANS_PER_STATUS),
            })
        })
        .collect();
    drop(worklist);
    let group_acts = crate::shared_section::waiting_on(projections, &person, now);
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
            .with("group_acts", group_acts)
            .with("paging", paging.context("/"))
            .with("statuses", statuses),
    )
}
