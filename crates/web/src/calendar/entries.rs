//! What a council's calendar holds, and the same as iCalendar (RFC 5545) for calendar apps.
//!
//! Each entry has a UID that stays the same when its date moves (plan, what, stage, council), so
//! a calendar that subscribed updates the entry instead of adding a second one. Deadlines are
//! all-day entries on their London date; committee meetings on the meeting date. Each entry links
//! to its plan's page.

use chrono::{DateTime, NaiveDate, Utc};
use councilflow_governance::{CouncilId, DeadlineKind, PlanId, Projections};
use icalendar::{Calendar, Component, EventLike};

fn london_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&chrono_tz::Europe::London).date_naive()
}

/// One entry of a council's calendar.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Stable across date changes (without the `@councilflow` suffix).
    pub uid: String,
    pub date: NaiveDate,
    pub summary: String,
    pub description: String,
    pub plan: PlanId,
}

/// The council's name and its calendar's entries in date order, or `None` if there is no such
/// council.
pub(crate) fn entries(
    projections: &Projections,
    council: &CouncilId,
) -> Option<(String, Vec<Entry>)> {
    let org = projections.organisation();
    let name = org.council(council)?.name.clone();
    let mut entries = Vec::new();
    for plan in projections.plans_of_council(council) {
        let Some(view) = projections.plan_view(&plan.id) else {
            continue;
        };
        let workflow = projections.workflows().get(&plan.workflow);
        let stage_title = |stage: &councilflow_governance::StageId| {
            workflow
                .and_then(|w| w.stage(stage))
                .map(|s| s.title.clone())
                .unwrap_or_else(|| stage.to_string())
        };
        for deadline in &view.deadlines {
            let (uid, summary) = match &deadline.kind {
                DeadlineKind::Submission => (
                    format!("{}-submission", plan.id),
                    format!("Submission deadline: {}", plan.title),
                ),
                DeadlineKind::Stage { stage } => (
                    format!("{}-stage-{stage}", plan.id),
                    format!("{} due: {}", stage_title(stage), plan.title),
                ),
                DeadlineKind::Papers {
                    stage, council: c, ..
                } if c == council => (
                    format!("{}-papers-{stage}-{c}", plan.id),
                    format!(
                        "Committee papers due ({}): {}",
                        stage_title(stage),
                        plan.title
                    ),
                ),
                DeadlineKind::Papers { .. } => continue,
            };
            entries.push(Entry {
                uid,
                date: london_date(deadline.due),
                summary,
                description: format!(
                    "Due {} (UTC). Plan {}.",
                    deadline.due.format("%Y-%m-%d %H:%M"),
                    plan.id
                ),
                plan: plan.id.clone(),
            });
        }
        for meeting in plan.meetings.iter().filter(|m| &m.council == council) {
            entries.push(Entry {
                uid: format!("{}-meeting-{}-{}", plan.id, meeting.stage, meeting.council),
                date: meeting.meeting_date,
                summary: format!("{}: {}", meeting.committee, plan.title),
                description: format!("{} (plan {})", stage_title(&meeting.stage), plan.id),
                plan: plan.id.clone(),
            });
        }
    }
    entries.sort_by(|a, b| (a.date, &a.uid).cmp(&(b.date, &b.uid)));
    Some((name, entries))
}

/// The calendar as iCalendar text; each entry's URL is its plan's page under `public_url`.
pub(crate) fn ics(name: &str, entries: &[Entry], public_url: &str) -> String {
    let public_url = public_url.trim_end_matches('/');
    let mut calendar = Calendar::new();
    calendar.name(&format!("{name}: plan deadlines and committee dates"));
    for entry in entries {
        calendar.push(
            icalendar::Event::new()
                .uid(&format!("{}@councilflow", entry.uid))
                .summary(&entry.summary)
                .description(&entry.description)
                .url(&format!("{public_url}/plans/{}", entry.plan))
                .all_day(entry.date)
                .done(),
        );
    }
    calendar.done().to_string()
}
