//! The words refusals and blockers use for people and what they must do.

use chrono::{DateTime, Utc};

use crate::definition::StageKind;
use crate::organisation::Organisation;
use crate::plan::*;

pub(crate) fn and_list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// "the Monitoring Officer of Derbyshire Dales District Council".
pub(crate) fn describe_requirement(
    org: &Organisation,
    stage: StageKind,
    r: &Requirement,
) -> String {
    let council = org.council_name(&r.council);
    match stage {
        StageKind::SignOff => format!("the {} of {council}", r.role.title()),
        StageKind::Committee => format!("a decision of the committee of {council}"),
        StageKind::Submission => format!("submission by a submitter of {council}"),
        StageKind::Publication => format!("publication by a submitter of {council}"),
    }
}

/// What a stage still needs, in words: "the Monitoring Officer of X and the S151 Officer of X".
pub(crate) fn missing_words(org: &Organisation, stage: &StageView) -> String {
    let mut seen = Vec::new();
    for r in stage.requirements.iter().filter(|r| !r.satisfied) {
        let mut words = describe_requirement(org, stage.kind, r);
        if r.stale {
            words.push_str(" (to sign again: the plan changed since)");
        }
        if !seen.contains(&words) {
            seen.push(words);
        }
    }
    and_list(&seen)
}

/// "10:42 on 3 July 2024", London time.
pub(crate) fn london_moment(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London)
        .format("%H:%M on %-d %B %Y")
        .to_string()
}
