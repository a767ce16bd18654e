//! A group's board: every member council's plan in one table, for the group's chair and its
//! members, sortable, printable, and the same as CSV for the group's own spreadsheet.
//!
//! Who reads it: those who read the group's shared sections (a role at the group or at one of
//! its member councils), as `SharedSection.adoptions` in the API already shows them how far each
//! member's plan has got. The board shows status-level facts only: status, current stage, what
//! the engine says blocks it, the next deadline, lateness and each owning council's committee
//! decision. A plan's text, history and people's emails stay with its councils.

use std::cmp::Reverse;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use councilflow_governance::{Group, GroupId, Plan, PlanStatus, PlanView, Projections, ReadScope};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{signed_in, to_sign_in};
use crate::pages::{council_name, decision_words, not_found, viewer, when};
use crate::render::{page, Page};
use crate::Web;

#[derive(Deserialize)]
pub(crate) struct BoardQuery {
    sort: Option<String>,
}

/// The columns a board sorts by, with their headings.
const SORTS: [(&str, &str); 5] = [
    ("council", "Council"),
    ("status", "Status"),
    ("stage", "Current stage"),
    ("deadline", "Next deadline"),
    ("late", "Late"),
];

/// One row: a plan (or a member council with none yet).
struct Row {
    councils: String,
    title: Option<String>,
    plan: Option<String>,
    status: String,
    stage: String,
    waits_on: String,
    next_deadline: Option<DateTime<Utc>>,
    late: bool,
    decisions: String,
}

fn status_words(view: &PlanView) -> String {
    match view.status {
        PlanStatus::Drafting => "Drafting",
        PlanStatus::InApproval => "In approval",
        PlanStatus::Approved => "Approved",
        PlanStatus::Submitted => "Submitted",
        PlanStatus::Published => "Published",
    }
    .to_owned()
}

/// A plan's row; `linked` when the reader may open the plan's page.
fn row(
    projections: &Projections,
    plan: &Plan,
    view: &PlanView,
    linked: bool,
    now: DateTime<Utc>,
) -> Row {
    let councils = plan
        .councils
        .iter()
        .map(|c| council_name(projections, c))
        .collect::<Vec<_>>()
        .join(" and ");
    // Each owning council's latest committee decision, side by side.
    let decisions = plan
        .councils
        .iter()
        .map(|c| {
            let latest = plan.decisions.iter().rev().find(|d| &d.council == c);
            format!(
                "{}: {}",
                council_name(projections, c),
                latest.map_or("no decision yet".to_owned(), |d| format!(
                    "{} on {}",
                    decision_words(d.decision),
                    d.meeting_date.format("%-d %B %Y")
                ))
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Row {
        councils,
        title: Some(plan.title.clone()),
        plan: linked.then(|| plan.id.to_string()),
        status: status_words(view),
        stage: view
            .current_stage
            .as_ref()
            .and_then(|s| view.stages.iter().find(|v| &v.id == s))
            .map_or("None".to_owned(), |s| s.title.clone()),
        waits_on: if view.blockers.is_empty() {
            "Nothing".to_owned()
        } else {
            view.blockers
                .iter()
                .map(|b| b.message.clone())
                .collect::<Vec<_>>()
                .join(" ")
        },
        next_deadline: view
            .deadlines
            .iter()
            .map(|d| d.due)
            .filter(|d| *d > now)
            .min(),
        late: view.late,
        decisions,
    }
}

/// The board's rows, sorted by `sort`; `None` if there is no such group for this person.
fn board(
    projections: &Projections,
    scope: &ReadScope,
    group: &GroupId,
    sort: &str,
    now: DateTime<Utc>,
) -> Option<(Group, Vec<Row>)> {
    let org = projections.organisation();
    let group = org
        .group(group)
        .filter(|g| scope.shared_sections(org, &g.id))?
        .clone();
    let mut rows = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for member in &group.members {
        let plans = projections.plans_of_council(member);
        if plans.is_empty() {
            rows.push(Row {
                councils: council_name(projections, member),
                title: None,
                plan: None,
                status: "No plan yet".into(),
                stage: "None".into(),
                waits_on: "A plan to be started".into(),
                next_deadline: None,
                late: false,
                decisions: String::new(),
            });
        }
        for plan in plans {
            if !seen.insert(plan.id.clone()) {
                continue; // A joint plan, listed once.
            }
            if let Some(view) = projections.plan_view(&plan.id) {
                rows.push(row(
                    projections,
                    plan,
                    &view,
                    scope.plan(plan).is_some(),
                    now,
                ));
            }
        }
    }
    // Stable sorts: rows the column ranks equal stay in council order.
    rows.sort_by(|a, b| a.councils.cmp(&b.councils));
    match sort {
        "status" => rows.sort_by(|a, b| a.status.cmp(&b.status)),
        "stage" => rows.sort_by(|a, b| a.stage.cmp(&b.stage)),
        "deadline" => rows.sort_by_key(|r| (r.next_deadline.is_none(), r.next_deadline)),
        "late" => rows.sort_by_key(|r| Reverse(r.late)),
        _ => {}
    }
    Some((group, rows))
}

fn sort_of(query: &BoardQuery) -> &'static str {
    let asked = query.sort.as_deref().unwrap_or("council");
    SORTS
        .iter()
        .find(|(key, _)| *key == asked)
        .map_or("council", |(key, _)| key)
}

/// `GET /groups/{id}`: the board as a page.
pub(crate) async fn board_page(
    State(web): State<Web>,
    Path(id): Path<String>,
    Query(query): Query<BoardQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in(&format!("/groups/{id}"));
    };
    let state = web.service.read();
    let projections = &state.projections;
    let me = viewer(projections, &person);
    let scope = ReadScope::of(projections.organisation(), &person);
    let sort = sort_of(&query);
    let Some((group, rows)) = GroupId::parse(&id)
        .ok()
        .and_then(|g| board(projections, &scope, &g, sort, Utc::now()))
    else {
        return not_found(me, "group");
    };
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "councils": r.councils, "title": r.title, "plan": r.plan, "status": r.status,
                "stage": r.stage, "waits_on": r.waits_on, "late": r.late,
                "next_deadline": r.next_deadline.map(when), "decisions": r.decisions,
            })
        })
        .collect();
    let columns: Vec<Value> = SORTS
        .iter()
        .map(|(key, heading)| json!({ "key": key, "heading": heading, "sorted": *key == sort }))
        .collect();
    let sections: Vec<Value> = group
        .supplies
        .iter()
        .map(|s| {
            let title = crate::shared_section::section_title(projections, s);
            json!({ "id": s.section, "title": title })
        })
        .collect();
    page(
        Page::new(
            "group.html",
            format!("{}: plans of its members", group.name),
        )
        .with("sections", sections)
        .with("live", crate::live::group_stream(&group.id, state.position))
        .with("viewer", me)
        .with("group", json!({ "id": group.id, "name": group.name }))
        .with("columns", columns)
        .with("rows", rows),
    )
}

/// `GET /groups/{id}/board.csv`: the same rows, for a spreadsheet.
pub(crate) async fn board_csv(
    State(web): State<Web>,
    Path(id): Path<String>,
    Query(query): Query<BoardQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in(&format!("/groups/{id}"));
    };
    let state = web.service.read();
    let projections = &state.projections;
    let scope = ReadScope::of(projections.organisation(), &person);
    let Some((group, rows)) = GroupId::parse(&id)
        .ok()
        .and_then(|g| board(projections, &scope, &g, sort_of(&query), Utc::now()))
    else {
        return not_found(viewer(projections, &person), "group");
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let written = out
        .write_record([
            "Councils",
            "Plan",
            "Status",
            "Current stage",
            "Waits on",
            "Next deadline (UTC)",
            "Late",
            "Committee decisions",
        ])
        .and_then(|()| {
            rows.iter().try_for_each(|r| {
                out.write_record([
                    r.councils.as_str(),
                    r.title.as_deref().unwrap_or(""),
                    r.status.as_str(),
                    r.stage.as_str(),
                    r.waits_on.as_str(),
                    &r.next_deadline
                        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default(),
                    if r.late { "yes" } else { "no" },
                    r.decisions.as_str(),
                ])
            })
        });
    match written.and_then(|()| out.into_inner().map_err(|e| e.into_error().into())) {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}-board.csv\"", group.id),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "writing a board as CSV");
            crate::render::internal_error()
        }
    }
}

/// The groups whose boards `scope` reads, for the header.
pub(crate) fn groups_read(projections: &Projections, scope: &ReadScope) -> Vec<(GroupId, String)> {
    let org = projections.organisation();
    org.groups
        .values()
        .filter(|g| scope.shared_sections(org, &g.id))
        .map(|g| (g.id.clone(), g.name.clone()))
        .collect()
}
