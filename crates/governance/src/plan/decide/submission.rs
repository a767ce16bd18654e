//! Submitting the approved plan, and publishing it.

use super::Decider;
use crate::deadlines::{is_late, london_date};
use crate::definition::{StageDefinition, StageKind};
use crate::error::GovernanceError;
use crate::ids::Role;
use crate::plan::*;

impl Decider<'_> {
    pub(super) fn kind_stage(
        &self,
        kind: StageKind,
    ) -> Result<(usize, &StageDefinition), GovernanceError> {
        self.workflow
            .route_stages(&self.plan.route)
            .into_iter()
            .enumerate()
            .find(|(_, s)| s.kind == kind)
            .ok_or_else(|| {
                GovernanceError::BadInput(format!(
                    "the route '{}' of '{}' has no {} stage",
                    self.plan.route,
                    self.plan.title,
                    if kind == StageKind::Submission {
                        "submission"
                    } else {
                        "publication"
                    }
                ))
            })
    }

    pub(super) fn require_submitter(&self, verb: &str) -> Result<(), GovernanceError> {
        if self.holds_any(&[Role::Submitter]) {
            Ok(())
        } else {
            Err(GovernanceError::Forbidden(format!(
                "{} is not a submitter of {}: only a submitter of an owning council can {verb} this plan",
                self.name,
                self.council_names()
            )))
        }
    }

    pub(super) fn submit(
        &self,
        reference: Option<&str>,
        read: u64,
    ) -> Result<Vec<PlanEvent>, GovernanceError> {
        let (index, stage) = self.kind_stage(StageKind::Submission)?;
        if let Some(s) = &self.plan.submission {
            return Err(GovernanceError::Conflict(format!(
                "'{}' was already submitted on {}",
                self.plan.title,
                london_date(s.at).format("%-d %B %Y")
            )));
        }
        self.require_submitter("submit")?;
        self.open(index, stage)?;
        self.shared_ready(stage)?;
        self.unchanged_since(read, "submit it")?;
        let deadline = self.plan.submission_deadline(self.workflow);
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![PlanEvent::PlanSubmitted(PlanSubmitted {
            plan,
            stage: stage.id.clone(),
            plan_revision: self.plan.revision,
            content_hash: self.plan.content_hash(),
            deadline,
            late: deadline.is_some_and(|d| is_late(self.now, d)),
            reference: reference
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
            by,
            at,
        })])
    }

    pub(super) fn publish(&self, url: &str, read: u64) -> Result<Vec<PlanEvent>, GovernanceError> {
        let (index, stage) = self.kind_stage(StageKind::Publication)?;
        if let Some(p) = &self.plan.publication {
            return Err(GovernanceError::Conflict(format!(
                "'{}' is already published at {}",
                self.plan.title, p.url
            )));
        }
        self.require_submitter("publish")?;
        let url = url.trim();
        let valid = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > "https://".len()
            && url.len() <= 2000
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(GovernanceError::BadInput(format!(
                "'{url}' is not a web address (https://...)"
            )));
        }
        self.open(index, stage)?;
        self.unchanged_since(read, "publish it")?;
        let (plan, by, at) = self.plan_event_base();
        Ok(vec![PlanEvent::PlanPublished(PlanPublished {
            plan,
            stage: stage.id.clone(),
            url: url.to_owned(),
            content_hash: Some(self.plan.content_hash()),
            by,
            at,
        })])
    }
}
