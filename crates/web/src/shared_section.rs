//! A group's shared section as the group works on it: its text and revisions, the difference
//! between two revisions, agreement per member council in words, the acts (propose, revise,
//! agree) for those who may take them, and every member plan that uses it, soonest committee
//! first, with the days left before its papers are due.
//!
//! Read by those who read the group's shared sections, as in the API. The acts offered are the
//! ones the engine would accept now (decided without recording); a revision or an agreement
//! names the revision read, so a proposal in between is a conflict.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;
use councilflow_governance::{
    Aggregate, CouncilId, DeadlineKind, GroupId, PersonId, Projections, ReadScope, SectionId,
    SharedSection, SharedSectionCommand, SuppliedSection,
};
use serde::Deserialize;
use serde_json::{json, Value};
use similar::{ChangeTag, TextDiff};

use crate::acts::status_of;
use crate::auth::{signed_in, to_sign_in};
use crate::pages::{council_name, not_found, not_found_for, person_name, viewer, when};
use crate::render::{page, Page};
use crate::Web;

#[derive(Deserialize, Default)]
pub(crate) struct DiffQuery {
    from: Option<u64>,
    to: Option<u64>,
    done: Option<String>,
}

type Fields = BTreeMap<String, String>;

fn date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The difference between two texts, word by word: each part says in words whether it was
/// added or removed (never colour alone).
fn difference(from: &str, to: &str) -> Vec<Value> {
    TextDiff::from_words(from, to)
        .iter_all_changes()
        .map(|c| {
            let kind = match c.tag() {
                ChangeTag::Equal => "same",
                ChangeTag::Insert => "added",
                ChangeTag::Delete => "removed",
            };
            json!({ "kind": kind, "text": c.value() })
        })
        .collect()
}

/// A supplied section's title, as its workflow names it.
pub(crate) fn section_title(projections: &Projections, supplied: &SuppliedSection) -> String {
    projections
        .workflows()
        .get(&supplied.workflow)
        .and_then(|w| w.section(&supplied.section))
        .map_or_else(|| supplied.section.to_string(), |s| s.title.clone())
}

/// The shared-section acts waiting on `person` (for "Waiting on you"): in each group whose
/// sections they read, a first text to propose, and each current revision to agree for a council
/// they speak for. Only what the engine would accept now.
pub(crate) fn waiting_on(
    projections: &Projections,
    person: &PersonId,
    now: DateTime<Utc>,
) -> Vec<Value> {
    let org = projections.organisation();
    let scope = ReadScope::of(org, person);
    let ctx = projections.context();
    let mut rows = Vec::new();
    for group in org
        .groups
        .values()
        .filter(|g| scope.shared_sections(org, &g.id))
    {
        for supplied in &group.supplies {
            let section = &supplied.section;
            let title = section_title(projections, supplied);
            let state = projections.shared_section(&group.id, section);
            let accepts = |command: SharedSectionCommand| {
                SharedSection::decide(&ctx, state, &command, person, now).is_ok()
            };
            let href = format!("/groups/{}/sections/{section}", group.id);
            let mut row = |act: String| {
                rows.push(
                    json!({ "href": href, "group": group.name, "section": title, "act": act }),
                )
            };
            match state.map(|s| s.current()) {
                None => {
                    let propose = SharedSectionCommand::Propose {
                        group: group.id.clone(),
                        section: section.clone(),
                        text: "(trial)".to_owned(),
                        expected_revision: None,
                    };
                    if accepts(propose) {
                        row("Propose its first text".to_owned());
                    }
                }
                Some(current) => {
                    for member in current
                        .members
                        .iter()
                        .filter(|m| !current.agreements.contains_key(*m))
                    {
                        let agree = SharedSectionCommand::Agree {
                            group: group.id.clone(),
                            section: section.clone(),
                            revision: current.revision,
                            council: member.clone(),
                        };
                        if accepts(agree) {
                            row(format!(
                                "Agree revision {} for {}",
                                current.revision,
                                council_name(projections, member)
                            ));
                        }
                    }
                }
            }
        }
    }
    rows
}

/// Everything the page shows, read under one lock.
fn context(
    projections: &Projections,
    person: &PersonId,
    group: &GroupId,
    section: &SectionId,
    query: &DiffQuery,
    now: DateTime<Utc>,
) -> Option<(String, Value)> {
    let org = projections.organisation();
    let scope = ReadScope::of(org, person);
    let group = org
        .group(group)
        .filter(|g| scope.shared_sections(org, &g.id))?;
    let supplied = group.supplies.iter().find(|s| &s.section == section)?;
    let title = section_title(projections, supplied);
    let state = projections.shared_section(&group.id, section);
    let ctx = projections.context();
    let accepts = |command: SharedSectionCommand| {
        SharedSection::decide(&ctx, state, &command, person, now).is_ok()
    };
    let current = state.map(|s| s.current());
    let may_propose = accepts(SharedSectionCommand::Propose {
        group: group.id.clone(),
        section: section.clone(),
        text: format!("{} (trial)", current.map_or("", |c| c.text.as_str())),
        expected_revision: current.map(|c| c.revision),
    });
    // Agreement with the current revision, per member council, in words.
    let agreement = current.map(|c| {
        let agreed: Vec<Value> = c
            .members
            .iter()
            .filter_map(|m| c.agreements.get(m).map(|a| (m, a)))
            .map(|(m, a)| {
                json!({
                    "council": council_name(projections, m),
                    "by": person_name(projections, &a.by),
                    "deputy": a.deputy, "at": when(a.at),
                })
            })
            .collect();
        let waiting: Vec<String> = c
            .members
            .iter()
            .filter(|m| !c.agreements.contains_key(*m))
            .map(|m| council_name(projections, m))
            .collect();
        let may_agree: Vec<Value> = c
            .members
            .iter()
            .filter(|m| !c.agreements.contains_key(*m))
            .filter(|m| {
                accepts(SharedSectionCommand::Agree {
                    group: group.id.clone(),
                    section: section.clone(),
                    revision: c.revision,
                    council: (*m).clone(),
                })
            })
            .map(|m| json!({ "id": m, "name": council_name(projections, m) }))
            .collect();
        let summary = if waiting.is_empty() {
            format!(
                "All {} councils agreed revision {}.",
                c.members.len(),
                c.revision
            )
        } else {
            format!(
                "{} of {} councils agreed revision {}; waiting on {}.",
                agreed.len(),
                c.members.len(),
                c.revision,
                waiting.join(", ")
            )
        };
        json!({ "summary": summary, "agreed": agreed, "may_agree": may_agree })
    });
    let revisions: Vec<Value> = state
        .map(|s| s.revisions.as_slice())
        .unwrap_or_default()
        .iter()
        .rev()
        .map(|r| {
            json!({
                "revision": r.revision, "by": person_name(projections, &r.proposed_by),
                "at": when(r.proposed_at),
                "agreed": if r.is_agreed() { "Agreed by every member council".to_owned() }
                    else { format!("{} of {} councils agreed", r.agreements.len(), r.members.len()) },
            })
        })
        .collect();
    // The difference asked for; by default, from the latest agreed revision to the current one.
    let text_of = |n: u64| {
        state.and_then(|s| {
            s.revisions
                .iter()
                .find(|r| r.revision == n)
                .map(|r| r.text.as_str())
        })
    };
    let default_from = state
        .and_then(|s| s.agreed_revision())
        .filter(|a| Some(*a) != current.map(|c| c.revision));
    let diff = match (
        query.from.or(default_from),
        query.to.or(current.map(|c| c.revision)),
    ) {
        (Some(from), Some(to)) if from != to => match (text_of(from), text_of(to)) {
            (Some(a), Some(b)) => {
                Some(json!({ "from": from, "to": to, "parts": difference(a, b) }))
            }
            _ => None,
        },
        _ => None,
    };
    let agreed_revision = state.and_then(|s| s.agreed_revision());
    let plans = adopters(
        projections,
        &scope,
        group.members.as_slice(),
        &group.id,
        section,
        agreed_revision,
        now,
    );
    let heading = format!("{title}: {}", group.name);
    Some((
        heading,
        json!({
            "group": { "id": group.id, "name": group.name },
            "section": section, "title": title,
            "current": current.map(|c| json!({
                "revision": c.revision, "text": c.text,
                "by": person_name(projections, &c.proposed_by), "at": when(c.proposed_at),
            })),
            "agreed_revision": agreed_revision,
            "agreement": agreement, "revisions": revisions, "diff": diff,
            "may_propose": may_propose, "plans": plans,
            // What the comparison form starts with: the difference shown, or the last change.
            "compare": diff.as_ref().map_or_else(
                || json!({ "from": current.map(|c| c.revision.saturating_sub(1)), "to": current.map(|c| c.revision) }),
                |d| json!({ "from": d["from"], "to": d["to"] }),
            ),
        }),
    ))
}

/// Every member plan that uses the section: the revision it adopted, whether a newer agreed
/// one flags it, and each member council's committee date and papers deadline, soonest first.
fn adopters(
    projections: &Projections,
    scope: &ReadScope,
    members: &[CouncilId],
    group: &GroupId,
    section: &SectionId,
    agreed: Option<u64>,
    now: DateTime<Utc>,
) -> Vec<Value> {
    let today = now.with_timezone(&London).date_naive();
    let mut rows: Vec<(Option<NaiveDate>, Value)> = Vec::new();
    for council in members {
        for plan in projections.plans_of_council(council) {
            let Some(used) = plan
                .sections
                .iter()
                .find(|s| &s.id == section && s.shared_from.as_ref() == Some(group))
            else {
                continue;
            };
            let Some(view) = projections.plan_view(&plan.id) else {
                continue;
            };
            let papers = view
                .deadlines
                .iter()
                .filter_map(|d| match &d.kind {
                    DeadlineKind::Papers {
                        council: c,
                        meeting_date,
                        ..
                    } if c == council => Some((*meeting_date, d.due)),
                    _ => None,
                })
                .min();
            let adopted = used.adopted_revision;
            let state = match (agreed, adopted) {
                (None, _) => "still waiting on the agreed text".to_owned(),
                (Some(_), None) => "agreed text not adopted yet".to_owned(),
                (Some(a), Some(d)) if d < a => {
                    format!("adopted revision {d}; revision {a} is agreed since")
                }
                (Some(_), Some(d)) => format!("adopted revision {d}, the agreed text"),
            };
            let words = match papers {
                Some((meeting, due)) => {
                    let due_date = due.with_timezone(&London).date_naive();
                    let left = (due_date - today).num_days();
                    let left = match left {
                        n if n < 0 => format!("papers {} days overdue", -n),
                        0 => "papers due today".to_owned(),
                        1 => "1 day left".to_owned(),
                        n => format!("{n} days left"),
                    };
                    format!(
                        "{}: committee {}, papers due {}, {left}, {state}",
                        council_name(projections, council),
                        date(meeting),
                        date(due_date)
                    )
                }
                None => format!(
                    "{}: no committee date yet, {state}",
                    council_name(projections, council)
                ),
            };
            let flagged = matches!((agreed, adopted), (Some(a), Some(d)) if d < a);
            // The plan's page is linked only for those who may open it.
            let link = scope.plan(plan).is_some().then(|| plan.id.to_string());
            rows.push((
                papers.map(|(m, _)| m),
                json!({ "words": words, "plan": link, "title": plan.title, "flagged": flagged }),
            ));
        }
    }
    // Soonest committee first; those without a date last.
    rows.sort_by_key(|(meeting, _)| (meeting.is_none(), *meeting));
    rows.into_iter().map(|(_, v)| v).collect()
}

fn parse(group: &str, section: &str) -> Option<(GroupId, SectionId)> {
    Some((GroupId::parse(group).ok()?, SectionId::parse(section).ok()?))
}

/// The page, with a refusal's error and the text as typed when an act was refused.
fn section_page(
    web: &Web,
    person: &PersonId,
    group: &str,
    section: &str,
    query: &DiffQuery,
    refusal: Option<(StatusCode, String, Fields)>,
) -> Response {
    let state = web.service.read();
    let projections = &state.projections;
    let me = viewer(projections, person);
    let Some((group, heading, context)) = parse(group, section).and_then(|(group, section)| {
        let (heading, context) = context(projections, person, &group, &section, query, Utc::now())?;
        Some((group, heading, context))
    }) else {
        return not_found(me, "shared section");
    };
    let notice = match query.done.as_deref() {
        Some("propose") => Some("Revision proposed"),
        Some("agree") => Some("Agreement recorded"),
        _ => None,
    };
    let mut p = Page::new("shared_section.html", heading)
        .with("live", crate::live::group_stream(&group, state.position))
        .with("viewer", me)
        .with("s", context);
    if let Some(notice) = notice {
        p = p.with("notice", notice);
    }
    if let Some((status, message, typed)) = refusal {
        let field = typed
            .get("form_id")
            .cloned()
            .unwrap_or_else(|| "propose".into());
        p = p.status(status).error(field, message).with("typed", typed);
    }
    page(p)
}

/// `GET /groups/{group}/sections/{section}` (`?from=N&to=M` for a difference).
pub(crate) async fn show(
    State(web): State<Web>,
    Path((group, section)): Path<(String, String)>,
    Query(query): Query<DiffQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in(&format!("/groups/{group}/sections/{section}"));
    };
    section_page(&web, &person, &group, &section, &query, None)
}

/// `POST /groups/{group}/sections/{section}/{act}`: propose (or revise) and agree, through the
/// engine.
pub(crate) async fn act(
    State(web): State<Web>,
    Path((group, section, act)): Path<(String, String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    let here = format!("/groups/{group}/sections/{section}");
    let Some(person) = signed_in(&web, &headers) else {
        return to_sign_in(&here);
    };
    let Some(ids) = parse(&group, &section) else {
        return not_found_for(&web, &person, "shared section");
    };
    let revision = |key: &str| fields.get(key).and_then(|r| r.parse::<u64>().ok());
    let command = match act.as_str() {
        "propose" => SharedSectionCommand::Propose {
            group: ids.0.clone(),
            section: ids.1.clone(),
            text: fields.get("text").cloned().unwrap_or_default(),
            expected_revision: revision("expected_revision"),
        },
        "agree" => {
            let (Some(revision), Some(Ok(council))) = (
                revision("revision"),
                fields.get("council").map(|c| CouncilId::parse(c)),
            ) else {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Say which revision and council\n",
                )
                    .into_response();
            };
            SharedSectionCommand::Agree {
                group: ids.0.clone(),
                section: ids.1.clone(),
                revision,
                council,
            }
        }
        _ => return (StatusCode::NOT_FOUND, "No such act\n").into_response(),
    };
    match web
        .service
        .execute::<SharedSection>(&person, &ids, command, None)
        .await
    {
        Ok(_) => Redirect::to(&format!("{here}?done={act}")).into_response(),
        Err(e) => {
            let status = status_of(&e);
            let message = if status == StatusCode::CONFLICT {
                format!("The section changed after you loaded this page: {e}")
            } else {
                e.to_string()
            };
            section_page(
                &web,
                &person,
                &group,
                &section,
                &DiffQuery::default(),
                Some((status, message, fields)),
            )
        }
    }
}
