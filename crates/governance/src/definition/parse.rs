//! Reading a workflow file: the raw TOML shapes (with spans, for messages that point at a line)
//! and the checks that turn them into a [`Workflow`].

use std::collections::BTreeSet;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::*;
use crate::deadlines::{Anchor, DueRule};
use crate::error::DefinitionError;
use crate::ids::{KeyDateId, Role, RouteId, SectionId, StageId, WorkflowId};

/// Parses and checks one workflow file.
pub(super) fn workflow(file_name: &str, text: &str) -> Result<Workflow, DefinitionError> {
    let raw: RawWorkflow =
        toml::from_str(text).map_err(|e| DefinitionError::from_toml(file_name, text, &e))?;
    Checker {
        file: file_name,
        text,
    }
    .workflow(raw)
}

// ---- raw TOML shapes (spans kept for messages) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflow {
    id: Spanned<String>,
    title: String,
    description: Option<String>,
    default_route: Spanned<String>,
    submission_due: Option<Spanned<String>>,
    submission_due_set_by: Option<Spanned<String>>,
    #[serde(default)]
    dates: Vec<RawKeyDate>,
    reminders: RawReminders,
    sections: Vec<RawSection>,
    stages: Vec<RawStage>,
    routes: Vec<RawRoute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyDate {
    id: Spanned<String>,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReminders {
    days_before: Spanned<Vec<u32>>,
    hour: Spanned<u32>,
    overdue_every_days: Spanned<u32>,
    escalate_after_days_overdue: u32,
    escalate_to: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    title: String,
    theme: Option<String>,
    #[serde(default)]
    shared: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    id: Spanned<String>,
    title: String,
    kind: Spanned<String>,
    #[serde(default)]
    roles: Vec<Spanned<String>>,
    covers: Option<Vec<Spanned<String>>>,
    due: Option<Spanned<String>>,
    papers_clear_days: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    id: Spanned<String>,
    title: String,
    stages: Vec<Spanned<String>>,
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
}

impl Checker<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> DefinitionError {
        DefinitionError::at(self.file, self.text, span.start, message)
    }

    fn id<T>(
        &self,
        raw: &Spanned<String>,
        parse: impl Fn(&str) -> Result<T, crate::ids::IdError>,
    ) -> Result<T, DefinitionError> {
        parse(raw.get_ref()).map_err(|e| self.err(raw.span(), e.0))
    }

    fn due(
        &self,
        raw: &Spanned<String>,
        keys: &BTreeSet<KeyDateId>,
        allow_submission: bool,
    ) -> Result<DueRule, DefinitionError> {
        let rule = DueRule::parse(raw.get_ref()).map_err(|e| self.err(raw.span(), e))?;
        match rule.anchor() {
            Some(Anchor::KeyDate(k)) if !keys.contains(k) => Err(self.err(
                raw.span(),
                format!("'{}' counts from '{k}', which is not a declared date ([[dates]]) nor 'submission' or 'start'", raw.get_ref()),
            )),
            Some(Anchor::Submission) if !allow_submission => Err(self.err(
                raw.span(),
                "the submission deadline cannot count from itself",
            )),
            _ => Ok(rule),
        }
    }

    fn workflow(&self, raw: RawWorkflow) -> Result<Workflow, DefinitionError> {
        let id = self.id(&raw.id, WorkflowId::parse)?;

        let mut key_dates = Vec::new();
        let mut keys = BTreeSet::new();
        for d in &raw.dates {
            let key = self.id(&d.id, KeyDateId::parse)?;
            if ["submission", "start"].contains(&key.as_str()) {
                return Err(self.err(
                    d.id.span(),
                    format!("'{key}' is reserved: choose another date id"),
                ));
            }
            if !keys.insert(key.clone()) {
                return Err(self.err(d.id.span(), format!("duplicate date id '{key}'")));
            }
            key_dates.push(KeyDateDefinition {
                id: key,
                title: d.title.clone(),
            });
        }

        let reminders = self.reminders(&raw.reminders)?;

        let mut sections = Vec::new();
        for s in &raw.sections {
            let sid = self.id(&s.id, SectionId::parse)?;
            if sections.iter().any(|x: &SectionDefinition| x.id == sid) {
                return Err(self.err(s.id.span(), format!("duplicate section id '{sid}'")));
            }
            sections.push(SectionDefinition {
                id: sid,
                title: s.title.clone(),
                theme: s.theme.clone(),
                shared: s.shared,
            });
        }
        if sections.is_empty() {
            return Err(DefinitionError::whole(
                self.file,
                "a workflow needs at least one [[sections]] entry",
            ));
        }

        let mut stages: Vec<StageDefinition> = Vec::new();
        for s in &raw.stages {
            let sid = self.id(&s.id, StageId::parse)?;
            if stages.iter().any(|x| x.id == sid) {
                return Err(self.err(s.id.span(), format!("duplicate stage id '{sid}'")));
            }
            let kind =
                StageKind::parse(s.kind.get_ref()).map_err(|e| self.err(s.kind.span(), e))?;
            let mut roles = Vec::new();
            for r in &s.roles {
                let role = self.id(r, Role::parse)?;
                if roles.contains(&role) {
                    return Err(self.err(r.span(), format!("role '{role}' is listed twice")));
                }
                roles.push(role);
            }
            if roles.is_empty() {
                match kind.default_role() {
                    Some(role) => roles.push(role),
                    None => {
                        return Err(self.err(
                            s.id.span(),
                            format!(
                                "sign-off stage '{sid}' needs at least one role in roles = [...]"
                            ),
                        ))
                    }
                }
            }
            let covers = match &s.covers {
                None => None,
                Some(list) => {
                    let mut out = Vec::new();
                    for c in list {
                        let section = self.id(c, SectionId::parse)?;
                        if !sections.iter().any(|x| x.id == section) {
                            return Err(self.err(
                                c.span(),
                                format!("stage '{sid}' covers section '{section}', which the workflow does not define"),
                            ));
                        }
                        out.push(section);
                    }
                    Some(out)
                }
            };
            let due = s
                .due
                .as_ref()
                .map(|d| self.due(d, &keys, true))
                .transpose()?;
            let papers_clear_days = match &s.papers_clear_days {
                Some(p) if kind != StageKind::Committee => {
                    return Err(self.err(
                        p.span(),
                        "papers_clear_days only applies to committee stages",
                    ))
                }
                Some(p) if *p.get_ref() > 30 => {
                    return Err(self.err(p.span(), "papers_clear_days must be 30 or fewer"))
                }
                Some(p) => *p.get_ref(),
                None => 5,
            };
            stages.push(StageDefinition {
                id: sid,
                title: s.title.clone(),
                kind,
                roles,
                covers,
                due,
                papers_clear_days,
            });
        }

        let mut routes: Vec<RouteDefinition> = Vec::new();
        for r in &raw.routes {
            let rid = self.id(&r.id, RouteId::parse)?;
            if routes.iter().any(|x| x.id == rid) {
                return Err(self.err(r.id.span(), format!("duplicate route id '{rid}'")));
            }
            if r.stages.is_empty() {
                return Err(self.err(r.id.span(), format!("route '{rid}' has no stages")));
            }
            let mut ids: Vec<StageId> = Vec::new();
            let mut seen_submission = false;
            for s in &r.stages {
                let sid = self.id(s, StageId::parse)?;
                let Some(stage) = stages.iter().find(|x| x.id == sid) else {
                    return Err(self.err(
                        s.span(),
                        format!(
                            "route '{rid}' names stage '{sid}', which the workflow does not define"
                        ),
                    ));
                };
                if ids.contains(&sid) {
                    return Err(
                        self.err(s.span(), format!("route '{rid}' lists stage '{sid}' twice"))
                    );
                }
                match stage.kind {
                    StageKind::Submission if seen_submission => {
                        return Err(self.err(
                            s.span(),
                            format!("route '{rid}' has more than one submission stage"),
                        ))
                    }
                    StageKind::Submission => seen_submission = true,
                    StageKind::Publication
                        if !seen_submission
                            && r.stages.iter().any(|x| {
                                stages.iter().any(|st| {
                                    st.id.as_str() == x.get_ref()
                                        && st.kind == StageKind::Submission
                                })
                            }) =>
                    {
                        return Err(self.err(
                            s.span(),
                            format!("route '{rid}' publishes before it submits"),
                        ))
                    }
                    _ => {}
                }
                ids.push(sid);
            }
            routes.push(RouteDefinition {
                id: rid,
                title: r.title.clone(),
                stages: ids,
            });
        }
        let default_route = self.id(&raw.default_route, RouteId::parse)?;
        if !routes.iter().any(|r| r.id == default_route) {
            return Err(self.err(
                raw.default_route.span(),
                format!("default_route '{default_route}' is not one of the workflow's [[routes]]"),
            ));
        }
        let submission_due = raw
            .submission_due
            .as_ref()
            .map(|d| self.due(d, &keys, false))
            .transpose()?;
        let submission_due_set_by = match &raw.submission_due_set_by {
            Some(by) if raw.submission_due.is_none() => {
                return Err(self.err(
                    by.span(),
                    "submission_due_set_by names who sets submission_due, which is missing",
                ))
            }
            Some(by) if by.get_ref().trim().is_empty() => {
                return Err(self.err(by.span(), "submission_due_set_by is empty"))
            }
            Some(by) => Some(by.get_ref().trim().to_owned()),
            None => None,
        };

        Ok(Workflow {
            id,
            title: raw.title,
            description: raw.description,
            file: self.file.to_owned(),
            sections,
            stages,
            routes,
            default_route,
            submission_due,
            submission_due_set_by,
            key_dates,
            reminders,
        })
    }

    fn reminders(&self, raw: &RawReminders) -> Result<ReminderPolicy, DefinitionError> {
        let days = raw.days_before.get_ref().clone();
        if days.is_empty() || days.contains(&0) || days.windows(2).any(|w| w[0] <= w[1]) {
            return Err(self.err(
                raw.days_before.span(),
                "days_before must list whole days greater than zero, largest first, without repeats (e.g. [28, 14, 7, 2])",
            ));
        }
        if *raw.hour.get_ref() > 23 {
            return Err(self.err(raw.hour.span(), "hour must be 0 to 23 (London time)"));
        }
        if *raw.overdue_every_days.get_ref() == 0 {
            return Err(self.err(
                raw.overdue_every_days.span(),
                "overdue_every_days must be at least 1",
            ));
        }
        Ok(ReminderPolicy {
            days_before: days,
            hour: *raw.hour.get_ref(),
            overdue_every_days: *raw.overdue_every_days.get_ref(),
            escalate_after_days_overdue: raw.escalate_after_days_overdue,
            escalate_to: self.id(&raw.escalate_to, Role::parse)?,
        })
    }
}
