//! Moving the plan's deadlines and key dates.

use chrono::{DateTime, NaiveDate, Utc};

use super::Decider;
use crate::deadlines::london_date;
use crate::error::GovernanceError;
use crate::ids::{KeyDateId, Role, StageId};
use crate::plan::wording::london_moment;
use crate::plan::*;

impl Decider<'_> {
    pub(super) fn may_set_dates(&self) -> Result<(), GovernanceError> {
        if self.holds_any(&[Role::Drafter, Role::Submitter, Role::ChiefExecutive]) {
            Ok(())
        } else {
            Err(GovernanceError::Forbidden(format!(
                "{} cannot move this plan's dates: a drafter, submitter or the Chief Executive of {} can",
                self.name,
                self.council_names()
            )))
        }
    }

    pub(super) fn set_deadline(
        &self,
        stage: Option<&StageId>,
        due: DateTime<Utc>,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
        if let Some(s) = stage {
            self.stage(s)?;
        }
        self.may_set_dates()?;
        if let (None, Some(setter)) = (stage, &self.workflow.submission_due_set_by) {
            return Err(GovernanceError::GovernanceViolation(format!(
                "the submission deadline of {} is set by {setter}, not by the council: only an \
                 extension they grant moves it (record it with its reference)",
                self.workflow.title
            )));
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![PlanEvent::DeadlineSet(DeadlineSet {
            plan,
            stage: stage.cloned(),
            due,
            by,
            at,
        })])
    }

    pub(super) fn set_key_date(
        &self,
        date: &KeyDateId,
        on: NaiveDate,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
        if !self.workflow.key_dates.iter().any(|d| &d.id == date) {
            return Err(GovernanceError::NotFound(format!(
                "{} has no key date '{date}'",
                self.workflow.title
            )));
        }
        self.may_set_dates()?;
        if self.plan.key_dates.get(date) == Some(&on) {
            return Ok(Vec::new());
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![PlanEvent::KeyDateSet(KeyDateSet {
            plan,
            date: date.clone(),
            on,
            by,
            at,
        })])
    }

    /// Records an extension of the submission deadline granted by the body that sets it. Who
    /// deals with that body may: a submitter or the Chief Executive of an owning council.
    pub(super) fn record_extension(
        &self,
        due: DateTime<Utc>,
        granted_by: &str,
        granted_on: NaiveDate,
        reference: &str,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
        if !self.holds_any(&[Role::Submitter, Role::ChiefExecutive]) {
            return Err(GovernanceError::Forbidden(format!(
                "{} cannot record an extension: a submitter or the Chief Executive of {} can",
                self.name,
                self.council_names()
            )));
        }
        let Some(setter) = &self.workflow.submission_due_set_by else {
            return Err(GovernanceError::BadInput(format!(
                "the council sets the submission deadline of {} itself: move it with \
                 setDeadline rather than recording an extension",
                self.workflow.title
            )));
        };
        if let Some(s) = &self.plan.submission {
            return Err(GovernanceError::GovernanceViolation(format!(
                "'{}' was submitted on {}: its deadline no longer moves",
                self.plan.title,
                london_date(s.at).format("%-d %B %Y")
            )));
        }
        let (granted_by, reference) = (granted_by.trim(), reference.trim());
        if granted_by.is_empty() || reference.is_empty() {
            return Err(GovernanceError::BadInput(format!(
                "an extension says who granted it ({setter} sets this deadline) and its \
                 reference (the letter or email)"
            )));
        }
        // Later than the deadline the body set, not necessarily than the last extension: a
        // later record supersedes an earlier one, which corrects a mistyped date too.
        let original = self.plan.original_submission_deadline(self.workflow);
        if original.is_some_and(|o| due <= o) {
            return Err(GovernanceError::BadInput(format!(
                "an extension moves the deadline later than the one {setter} set ({})",
                original.map(london_moment).unwrap_or_default()
            )));
        }
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![PlanEvent::DeadlineExtended(DeadlineExtended {
            plan,
            due,
            granted_by: granted_by.to_owned(),
            granted_on,
            reference: reference.to_owned(),
            by,
            at,
        })])
    }
}
