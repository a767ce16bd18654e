//! Workflow definitions (`workflows/*.toml`): sections, stages, routes, deadlines and the reminder
//! policy, parsed from text into checked types.
//!
//! Parsing takes the file name and its text and does no I/O, so the server decides where files
//! come from and tests can feed broken text. Every refusal names the file, the 1-based line and
//! column, and what is wrong. Nothing about productivity plans lives in Rust: a workflow is data.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::deadlines::{Anchor, DueRule};
use crate::error::DefinitionError;
use crate::ids::{KeyDateId, Role, RouteId, SectionId, StageId, WorkflowId};

/// What kind of governance step a stage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageKind {
    /// Each listed role signs, at each owning council.
    SignOff,
    /// Each owning council's committee decides; its committee clerk records the decision.
    Committee,
    /// The plan is submitted (once); records the content hash, time and lateness.
    Submission,
    /// The plan is published at a URL (once).
    Publication,
}

impl StageKind {
    /// Parses the TOML spelling (`sign-off`, `committee`, `submission`, `publication`).
    pub fn parse(text: &str) -> Result<StageKind, String> {
        match text {
            "sign-off" => Ok(StageKind::SignOff),
            "committee" => Ok(StageKind::Committee),
            "submission" => Ok(StageKind::Submission),
            "publication" => Ok(StageKind::Publication),
            other => Err(format!(
                "unknown stage kind '{other}': expected sign-off, committee, submission or publication"
            )),
        }
    }

    /// The contract's enum name (`SIGN_OFF`, ...).
    pub fn api_name(self) -> &'static str {
        match self {
            StageKind::SignOff => "SIGN_OFF",
            StageKind::Committee => "COMMITTEE",
            StageKind::Submission => "SUBMISSION",
            StageKind::Publication => "PUBLICATION",
        }
    }

    /// The role that acts on this kind of stage when the definition lists none.
    fn default_role(self) -> Option<Role> {
        match self {
            StageKind::SignOff => None,
            StageKind::Committee => Some(Role::CommitteeClerk),
            StageKind::Submission | StageKind::Publication => Some(Role::Submitter),
        }
    }
}

/// A section every plan of the workflow has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionDefinition {
    /// Stable id.
    pub id: SectionId,
    /// Heading.
    pub title: String,
    /// The theme the section answers, if any.
    pub theme: Option<String>,
    /// Whether a group may supply this section's text (then plans adopt the group's agreed text).
    pub shared: bool,
}

/// A governance step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageDefinition {
    /// Stable id.
    pub id: StageId,
    /// Title as officers say it ("Report authorisation").
    pub title: String,
    /// What kind of step it is.
    pub kind: StageKind,
    /// Roles that act: each signs (sign-off), or who records the act (other kinds).
    pub roles: Vec<Role>,
    /// The sections this stage approves; `None` means all of them. Only edits to these sections
    /// make the stage's approvals stale.
    pub covers: Option<Vec<SectionId>>,
    /// When the stage is due, if the workflow says.
    pub due: Option<DueRule>,
    /// Clear working days between committee papers and the meeting (committee stages).
    pub papers_clear_days: u32,
}

impl StageDefinition {
    /// Whether an edit to `section` affects this stage's approvals.
    pub fn covers(&self, section: &SectionId) -> bool {
        self.covers
            .as_ref()
            .map(|c| c.contains(section))
            .unwrap_or(true)
    }

    /// Title starting with a capital, for the start of a sentence.
    pub fn sentence_title(&self) -> String {
        let mut c = self.title.chars();
        match c.next() {
            Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
            None => String::new(),
        }
    }

    /// Title starting lower-case, for the middle of a sentence (unless it starts with a name).
    pub fn inline_title(&self) -> String {
        let mut c = self.title.chars();
        match c.next() {
            Some(first) if c.clone().next().is_some_and(|n| n.is_lowercase()) => {
                first.to_lowercase().collect::<String>() + c.as_str()
            }
            Some(first) => first.to_string() + c.as_str(),
            None => String::new(),
        }
    }
}

/// An ordered governance route through the workflow's stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteDefinition {
    /// Stable id; councils name the route they follow.
    pub id: RouteId,
    /// Title.
    pub title: String,
    /// Stage ids in the order they complete.
    pub stages: Vec<StageId>,
}

/// A date a plan supplies, that deadlines may count from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDateDefinition {
    /// Stable id, used in due rules (`challenge + 12 months`).
    pub id: KeyDateId,
    /// Title.
    pub title: String,
}

/// When reminders go out, as typed data for the reminders crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderPolicy {
    /// Days before each deadline a reminder goes out, largest first (e.g. 28, 14, 7, 2).
    pub days_before: Vec<u32>,
    /// Hour of day, London time, reminders are sent at.
    pub hour: u32,
    /// Once overdue, remind again every this many days.
    pub overdue_every_days: u32,
    /// After this many days overdue, also tell `escalate_to` at the same council.
    pub escalate_after_days_overdue: u32,
    /// Who hears about overdue acts (normally the council's chief executive).
    pub escalate_to: Role,
}

/// A checked workflow definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    /// Stable id.
    pub id: WorkflowId,
    /// Title.
    pub title: String,
    /// What the workflow is for.
    pub description: Option<String>,
    /// The file it was loaded from.
    pub file: String,
    /// Sections, in document order.
    pub sections: Vec<SectionDefinition>,
    /// Every stage any route uses.
    pub stages: Vec<StageDefinition>,
    /// Routes; councils name theirs.
    pub routes: Vec<RouteDefinition>,
    /// The route used when a council names none of this workflow's routes.
    pub default_route: RouteId,
    /// When plans are due for submission, if the workflow says.
    pub submission_due: Option<DueRule>,
    /// Dates plans supply.
    pub key_dates: Vec<KeyDateDefinition>,
    /// Reminder policy.
    pub reminders: ReminderPolicy,
}

impl Workflow {
    /// A section by id.
    pub fn section(&self, id: &SectionId) -> Option<&SectionDefinition> {
        self.sections.iter().find(|s| &s.id == id)
    }

    /// A stage by id.
    pub fn stage(&self, id: &StageId) -> Option<&StageDefinition> {
        self.stages.iter().find(|s| &s.id == id)
    }

    /// A route by id.
    pub fn route(&self, id: &RouteId) -> Option<&RouteDefinition> {
        self.routes.iter().find(|r| &r.id == id)
    }

    /// The stages of a route, in order (empty for an unknown route).
    pub fn route_stages(&self, route: &RouteId) -> Vec<&StageDefinition> {
        self.route(route)
            .map(|r| r.stages.iter().filter_map(|s| self.stage(s)).collect())
            .unwrap_or_default()
    }

    /// The stages of the default route (the contract's `Workflow.stages`).
    pub fn default_stages(&self) -> Vec<&StageDefinition> {
        self.route_stages(&self.default_route)
    }

    /// Parses and checks one workflow file.
    pub fn parse(file_name: &str, text: &str) -> Result<Workflow, DefinitionError> {
        let raw: RawWorkflow =
            toml::from_str(text).map_err(|e| DefinitionError::from_toml(file_name, text, &e))?;
        Checker {
            file: file_name,
            text,
        }
        .workflow(raw)
    }
}

/// Every loaded workflow, by id. Each is shared (`Arc`): workflows never change after loading,
/// and a reader (a GraphQL plan object) keeps its plan's workflow without holding a lock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workflows {
    by_id: BTreeMap<WorkflowId, Arc<Workflow>>,
}

impl Workflows {
    /// Parses many `(file name, text)` pairs, refusing the first bad file or a workflow id used
    /// twice.
    pub fn load<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Workflows, DefinitionError> {
        let mut by_id: BTreeMap<WorkflowId, Arc<Workflow>> = BTreeMap::new();
        for (file, text) in files {
            let workflow = Workflow::parse(file, text)?;
            if let Some(first) = by_id.get(&workflow.id) {
                let offset = text.find(workflow.id.as_str()).unwrap_or(0);
                return Err(DefinitionError::at(
                    file,
                    text,
                    offset,
                    format!(
                        "duplicate workflow id '{}': {} already defines it",
                        workflow.id, first.file
                    ),
                ));
            }
            by_id.insert(workflow.id.clone(), Arc::new(workflow));
        }
        Ok(Workflows { by_id })
    }

    /// Builds the set from already parsed workflows (later ones replace earlier ones).
    pub fn from_workflows(workflows: impl IntoIterator<Item = Workflow>) -> Workflows {
        Workflows {
            by_id: workflows
                .into_iter()
                .map(|w| (w.id.clone(), Arc::new(w)))
                .collect(),
        }
    }

    /// A workflow by id.
    pub fn get(&self, id: &WorkflowId) -> Option<&Workflow> {
        self.by_id.get(id).map(|w| &**w)
    }

    /// A workflow by id, shared: to keep after the projections' lock is released.
    pub fn shared(&self, id: &WorkflowId) -> Option<Arc<Workflow>> {
        self.by_id.get(id).cloned()
    }

    /// Every workflow, by id order.
    pub fn iter(&self) -> impl Iterator<Item = &Workflow> {
        self.by_id.values().map(|w| &**w)
    }

    /// How many workflows are loaded.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether none are loaded.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
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
