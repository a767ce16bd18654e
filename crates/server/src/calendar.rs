//! A council's deadlines and committee meetings as iCalendar (RFC 5545), for calendar apps.
//!
//! Each entry has a UID that stays the same when its date moves (plan, what, stage, council), so
//! a calendar that subscribed updates the entry instead of adding a second one. Deadlines are
//! all-day entries on their London date; committee meetings on the meeting date.

use chrono::{DateTime, NaiveDate, Utc};
use councilflow_governance::{CouncilId, DeadlineKind, Projections};
use icalendar::{Calendar, Component, EventLike};

fn london_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&chrono_tz::Europe::London).date_naive()
}

/// The calendar of one council, or `None` if there is no such council.
pub fn council_calendar(projections: &Projections, council: &CouncilId) -> Option<String> {
    let org = projections.organisation();
    let name = &org.council(council)?.name;
    let mut calendar = Calendar::new();
    calendar.name(&format!("{name}: plan deadlines and committee dates"));
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
            calendar.push(
                icalendar::Event::new()
                    .uid(&format!("{uid}@councilflow"))
                    .summary(&summary)
                    .description(&format!(
                        "Due {} (UTC). Plan {}.",
                        deadline.due.format("%Y-%m-%d %H:%M"),
                        plan.id
                    ))
                    .all_day(london_date(deadline.due))
                    .done(),
            );
        }
        for meeting in plan.meetings.iter().filter(|m| &m.council == council) {
            calendar.push(
                icalendar::Event::new()
                    .uid(&format!(
                        "{}-meeting-{}-{}@councilflow",
                        plan.id, meeting.stage, meeting.council
                    ))
                    .summary(&format!("{}: {}", meeting.committee, plan.title))
                    .description(&format!(
                        "{} (plan {})",
                        stage_title(&meeting.stage),
                        plan.id
                    ))
                    .all_day(meeting.meeting_date)
                    .done(),
            );
        }
    }
    Some(calendar.done().to_string())
}
