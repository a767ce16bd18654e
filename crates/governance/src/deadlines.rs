//! Time: deadlines in Europe/London, stored and compared in UTC.
//!
//! A deadline written as a date means the end of that day in London (23:59:59 local time, summer or
//! winter); a submission is late when it is recorded after that instant. Stage deadlines in a
//! workflow are rules such as `submission - 9 days` or `challenge + 12 months`, resolved when they
//! are read, so moving the date they hang on (a new submission deadline, a new challenge date, a
//! rescheduled meeting) moves them too.
//!
//! Committee papers: a committee meeting gets a papers deadline five *clear* days before it. We
//! count clear days as whole working days (Monday to Friday) strictly between the day the papers go
//! out and the meeting day: neither of those two days counts, and weekends do not count. Bank
//! holidays are not modelled. For a Thursday meeting on 18 July 2024 the clear days are 11, 12, 15,
//! 16 and 17 July, so the papers are due by the end of Wednesday 10 July. The number of clear days
//! is a setting of the committee stage (`papers_clear_days`, default 5).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};

use crate::definition::{StageKind, Workflow};
use crate::ids::{CouncilId, KeyDateId, StageId};
use crate::plan::Plan;

/// The instant a date-only deadline ends: 23:59:59 London time on that day, in UTC.
pub fn end_of_day_london(date: NaiveDate) -> DateTime<Utc> {
    let local = date
        .and_hms_opt(23, 59, 59)
        .expect("23:59:59 is a valid time");
    // 23:59:59 is never skipped or repeated by UK clock changes (they happen at 01:00 and 02:00),
    // but take the earliest reading rather than panic should the rules ever change.
    London
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// A time of day in London on a date, in UTC (reminders "at 09:00").
pub fn london_time(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    let local = date
        .and_hms_opt(hour.min(23), 0, 0)
        .expect("hour is clamped to a valid time");
    London
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// The London calendar date of an instant.
pub fn london_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

/// Whether something recorded at `at` missed `deadline`.
pub fn is_late(at: DateTime<Utc>, deadline: DateTime<Utc>) -> bool {
    at > deadline
}

fn is_working_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The last day committee papers may go out for a meeting, leaving `clear_days` whole working days
/// between that day and the meeting (see the module docs for how clear days are counted).
pub fn papers_day(meeting: NaiveDate, clear_days: u32) -> NaiveDate {
    let mut day = meeting;
    let mut counted = 0;
    while counted < clear_days {
        day = day
            .pred_opt()
            .expect("dates near the present have a previous day");
        if is_working_day(day) {
            counted += 1;
        }
    }
    // The papers go out on the working day before the earliest clear day.
    let mut papers = day.pred_opt().expect("previous day exists");
    while !is_working_day(papers) {
        papers = papers.pred_opt().expect("previous day exists");
    }
    papers
}

/// The date a relative rule counts from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Anchor {
    /// The plan's submission deadline.
    Submission,
    /// The day the plan was started.
    Start,
    /// A key date the plan supplies (declared in the workflow's `[[dates]]`).
    KeyDate(KeyDateId),
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anchor::Submission => f.write_str("submission"),
            Anchor::Start => f.write_str("start"),
            Anchor::KeyDate(id) => f.write_str(id.as_str()),
        }
    }
}

/// The unit of a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DurationUnit {
    /// Calendar days.
    Days,
    /// Weeks of seven days.
    Weeks,
    /// Calendar months (same day of month, clamped to the month's end).
    Months,
    /// Calendar years.
    Years,
}

/// When something is due: a fixed date, or a signed duration from an anchor date.
/// Written in TOML as `"2024-07-19"`, `"submission - 9 days"` or `"challenge + 12 months"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DueRule {
    /// The end of this day, London time.
    On(NaiveDate),
    /// `amount` units after (negative: before) the anchor's date.
    Relative {
        /// The date counted from.
        anchor: Anchor,
        /// Signed amount.
        amount: i32,
        /// Unit of the amount.
        unit: DurationUnit,
    },
}

impl DueRule {
    /// Parses a due rule. The error says what form was expected. Key dates are any slug that is
    /// not `submission` or `start`; the workflow loader checks that they are declared.
    pub fn parse(text: &str) -> Result<DueRule, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("a due date cannot be empty".into());
        }
        if text.starts_with(|c: char| c.is_ascii_digit()) {
            return NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(DueRule::On)
                .map_err(|_| format!("'{text}' is not a date: write it as YYYY-MM-DD"));
        }
        let mut parts = text.split_whitespace();
        let anchor_text = parts.next().unwrap_or_default();
        let anchor = match anchor_text {
            "submission" => Anchor::Submission,
            "start" => Anchor::Start,
            other => Anchor::KeyDate(KeyDateId::parse(other).map_err(|e| e.0)?),
        };
        let rest: Vec<&str> = parts.collect();
        if rest.is_empty() {
            return Ok(DueRule::Relative {
                anchor,
                amount: 0,
                unit: DurationUnit::Days,
            });
        }
        let malformed = || {
            format!(
                "'{text}' is not a due rule: write a date (2024-07-19) or an anchor with a \
                 duration such as 'submission - 9 days' or 'challenge + 12 months'"
            )
        };
        if rest.len() != 3 {
            return Err(malformed());
        }
        let sign = match rest[0] {
            "+" => 1,
            "-" => -1,
            _ => return Err(malformed()),
        };
        let amount: i32 = rest[1].parse().map_err(|_| {
            format!(
                "'{}' in '{text}' is not a whole number of days, weeks, months or years",
                rest[1]
            )
        })?;
        if !(0..=3660).contains(&amount) {
            return Err(format!("'{text}': the duration is out of range"));
        }
        let unit = match rest[2] {
            "day" | "days" => DurationUnit::Days,
            "week" | "weeks" => DurationUnit::Weeks,
            "month" | "months" => DurationUnit::Months,
            "year" | "years" => DurationUnit::Years,
            other => {
                return Err(format!(
                    "'{other}' in '{text}' is not a unit: use days, weeks, months or years"
                ))
            }
        };
        Ok(DueRule::Relative {
            anchor,
            amount: sign * amount,
            unit,
        })
    }

    /// The anchor this rule depends on, if any.
    pub fn anchor(&self) -> Option<&Anchor> {
        match self {
            DueRule::On(_) => None,
            DueRule::Relative { anchor, .. } => Some(anchor),
        }
    }

    /// The due date, given the anchor dates known so far; `None` when its anchor is unknown.
    pub fn resolve(&self, anchor_date: impl Fn(&Anchor) -> Option<NaiveDate>) -> Option<NaiveDate> {
        match self {
            DueRule::On(date) => Some(*date),
            DueRule::Relative {
                anchor,
                amount,
                unit,
            } => {
                let base = anchor_date(anchor)?;
                shift(base, *amount, *unit)
            }
        }
    }
}

fn shift(base: NaiveDate, amount: i32, unit: DurationUnit) -> Option<NaiveDate> {
    let magnitude = amount.unsigned_abs();
    match unit {
        DurationUnit::Days | DurationUnit::Weeks => {
            let days = if unit == DurationUnit::Weeks {
                u64::from(magnitude) * 7
            } else {
                u64::from(magnitude)
            };
            if amount >= 0 {
                base.checked_add_days(Days::new(days))
            } else {
                base.checked_sub_days(Days::new(days))
            }
        }
        DurationUnit::Months | DurationUnit::Years => {
            let months = if unit == DurationUnit::Years {
                magnitude.checked_mul(12)?
            } else {
                magnitude
            };
            if amount >= 0 {
                base.checked_add_months(Months::new(months))
            } else {
                base.checked_sub_months(Months::new(months))
            }
        }
    }
}

impl fmt::Display for DueRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DueRule::On(date) => write!(f, "{}", date.format("%Y-%m-%d")),
            DueRule::Relative { anchor, amount, .. } if *amount == 0 => write!(f, "{anchor}"),
            DueRule::Relative {
                anchor,
                amount,
                unit,
            } => {
                let sign = if *amount < 0 { '-' } else { '+' };
                let unit = match unit {
                    DurationUnit::Days => "days",
                    DurationUnit::Weeks => "weeks",
                    DurationUnit::Months => "months",
                    DurationUnit::Years => "years",
                };
                write!(f, "{anchor} {sign} {} {unit}", amount.unsigned_abs())
            }
        }
    }
}

impl TryFrom<String> for DueRule {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        DueRule::parse(&text)
    }
}

impl From<DueRule> for String {
    fn from(rule: DueRule) -> String {
        rule.to_string()
    }
}

/// What a deadline is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DeadlineKind {
    /// The plan's submission deadline.
    Submission,
    /// A stage's own deadline.
    Stage { stage: StageId },
    /// The papers deadline of one council's committee meeting for a committee stage.
    Papers {
        /// The committee stage.
        stage: StageId,
        /// Whose committee meets.
        council: CouncilId,
        /// The meeting the papers are for.
        meeting_date: NaiveDate,
    },
}

/// Where a deadline came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadlineSource {
    /// The workflow definition's rule.
    Workflow,
    /// Set on this plan (`DeadlineSet`).
    Set,
    /// An extension granted by the body that sets it (`DeadlineExtended`).
    Extension,
    /// Derived from a scheduled committee meeting.
    Meeting,
}

/// One deadline of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// What is due.
    pub kind: DeadlineKind,
    /// The instant it is due (UTC).
    pub due: DateTime<Utc>,
    /// Where it came from.
    pub source: DeadlineSource,
}

impl Deadline {
    /// The stage this deadline belongs to, if any.
    pub fn stage(&self) -> Option<&StageId> {
        match &self.kind {
            DeadlineKind::Submission => None,
            DeadlineKind::Stage { stage } | DeadlineKind::Papers { stage, .. } => Some(stage),
        }
    }
}

impl Plan {
    /// The plan's submission deadline, what lateness is judged against: the last extension
    /// granted, or else the deadline set on the plan (only where the council sets it; a plan
    /// recorded before deadlines an outside body sets were fixed keeps the one it set), or
    /// else the workflow's rule.
    pub fn submission_deadline(&self, workflow: &Workflow) -> Option<DateTime<Utc>> {
        if let Some(extension) = self.extensions.last() {
            return Some(extension.due);
        }
        if let Some(due) = self.submission_deadline_set {
            return Some(due);
        }
        self.original_submission_deadline(workflow)
    }

    /// The submission deadline the workflow gives, before any extension or change.
    pub fn original_submission_deadline(&self, workflow: &Workflow) -> Option<DateTime<Utc>> {
        let rule = workflow.submission_due.as_ref()?;
        let date = rule.resolve(|a| self.anchor_date(a, None))?;
        Some(end_of_day_london(date))
    }

    fn anchor_date(&self, anchor: &Anchor, submission: Option<NaiveDate>) -> Option<NaiveDate> {
        match anchor {
            Anchor::Submission => submission,
            Anchor::Start => Some(london_date(self.started_at)),
            Anchor::KeyDate(id) => self.key_dates.get(id).copied(),
        }
    }

    /// Every deadline of the plan, in route order: the submission deadline, each stage's deadline
    /// and each scheduled committee meeting's papers deadline. Computed on read, so moving a date
    /// moves everything that hangs on it.
    pub fn deadlines(&self, workflow: &Workflow) -> Vec<Deadline> {
        let mut out = Vec::new();
        let submission = self.submission_deadline(workflow);
        if let Some(due) = submission {
            out.push(Deadline {
                kind: DeadlineKind::Submission,
                due,
                source: if !self.extensions.is_empty() {
                    DeadlineSource::Extension
                } else if self.submission_deadline_set.is_some() {
                    DeadlineSource::Set
                } else {
                    DeadlineSource::Workflow
                },
            });
        }
        let submission_date = submission.map(london_date);
        for stage in workflow.route_stages(&self.route) {
            if let Some(due) = self.stage_deadlines_set.get(&stage.id) {
                out.push(Deadline {
                    kind: DeadlineKind::Stage {
                        stage: stage.id.clone(),
                    },
                    due: *due,
                    source: DeadlineSource::Set,
                });
            } else if let Some(rule) = &stage.due {
                if let Some(date) = rule.resolve(|a| self.anchor_date(a, submission_date)) {
                    out.push(Deadline {
                        kind: DeadlineKind::Stage {
                            stage: stage.id.clone(),
                        },
                        due: end_of_day_london(date),
                        source: DeadlineSource::Workflow,
                    });
                }
            }
            if stage.kind == StageKind::Committee {
                let meetings: BTreeMap<&CouncilId, NaiveDate> = self
                    .meetings
                    .iter()
                    .filter(|m| m.stage == stage.id)
                    .map(|m| (&m.council, m.meeting_date))
                    .collect();
                for (council, meeting_date) in meetings {
                    out.push(Deadline {
                        kind: DeadlineKind::Papers {
                            stage: stage.id.clone(),
                            council: council.clone(),
                            meeting_date,
                        },
                        due: end_of_day_london(papers_day(meeting_date, stage.papers_clear_days)),
                        source: DeadlineSource::Meeting,
                    });
                }
            }
        }
        out
    }
}

/// The deadline of one stage, among the plan's deadlines ([`Plan::deadlines`]): its own deadline
/// if it has one, otherwise the earliest papers deadline of its scheduled meetings.
pub fn stage_deadline_among(all: &[Deadline], stage: &StageId) -> Option<DateTime<Utc>> {
    all.iter()
        .find(|d| matches!(&d.kind, DeadlineKind::Stage { stage: s } if s == stage))
        .or_else(|| {
            all.iter()
                .filter(|d| matches!(&d.kind, DeadlineKind::Papers { stage: s, .. } if s == stage))
                .min_by_key(|d| d.due)
        })
        .map(|d| d.due)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_end_of_a_summer_day_in_london_is_an_hour_earlier_in_utc() {
        let t = end_of_day_london(date(2024, 7, 19));
        assert_eq!(t.to_rfc3339(), "2024-07-19T22:59:59+00:00");
    }

    #[test]
    fn the_end_of_a_winter_day_in_london_is_the_same_in_utc() {
        let t = end_of_day_london(date(2024, 12, 2));
        assert_eq!(t.to_rfc3339(), "2024-12-02T23:59:59+00:00");
    }

    #[test]
    fn nine_in_the_morning_london_time_follows_the_clocks() {
        assert_eq!(
            london_time(date(2024, 7, 12), 9).to_rfc3339(),
            "2024-07-12T08:00:00+00:00"
        );
        assert_eq!(
            london_time(date(2024, 1, 12), 9).to_rfc3339(),
            "2024-01-12T09:00:00+00:00"
        );
    }

    #[test]
    fn papers_for_a_thursday_meeting_are_due_the_wednesday_of_the_week_before() {
        assert_eq!(papers_day(date(2024, 7, 18), 5), date(2024, 7, 10));
    }

    #[test]
    fn papers_for_a_monday_meeting_skip_two_weekends() {
        // Counted back from Monday 8 July the clear days are Fri 5, Thu 4, Wed 3, Tue 2 and
        // Mon 1 July; the papers go out on the working day before: Friday 28 June.
        assert_eq!(papers_day(date(2024, 7, 8), 5), date(2024, 6, 28));
    }

    #[test]
    fn due_rules_parse_dates_and_relative_durations() {
        assert_eq!(
            DueRule::parse("2024-07-19").unwrap(),
            DueRule::On(date(2024, 7, 19))
        );
        let rule = DueRule::parse("submission - 9 days").unwrap();
        assert_eq!(
            rule.resolve(|_| Some(date(2024, 7, 19))),
            Some(date(2024, 7, 10))
        );
        let rule = DueRule::parse("challenge + 12 months").unwrap();
        assert_eq!(rule.to_string(), "challenge + 12 months");
        assert_eq!(
            rule.resolve(|_| Some(date(2024, 2, 22))),
            Some(date(2025, 2, 22))
        );
    }

    #[test]
    fn malformed_due_rules_are_refused_with_the_expected_form() {
        assert!(DueRule::parse("2024-13-40")
            .unwrap_err()
            .contains("YYYY-MM-DD"));
        assert!(DueRule::parse("submission - nine days")
            .unwrap_err()
            .contains("whole number"));
        assert!(DueRule::parse("submission - 9 fortnights")
            .unwrap_err()
            .contains("unit"));
        assert!(DueRule::parse("submission 9 days")
            .unwrap_err()
            .contains("due rule"));
        assert!(DueRule::parse("").is_err());
    }

    #[test]
    fn a_submission_one_second_after_the_deadline_is_late() {
        let deadline = end_of_day_london(date(2024, 7, 19));
        assert!(!is_late(deadline, deadline));
        assert!(is_late(deadline + chrono::Duration::seconds(1), deadline));
    }
}
