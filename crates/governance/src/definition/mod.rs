//! Workflow definitions (`workflows/*.toml`): sections, stages, routes, deadlines and the reminder
//! policy, parsed from text into checked types.
//!
//! Parsing takes the file name and its text and does no I/O, so the server decides where files
//! come from and tests can feed broken text. Every refusal names the file, the 1-based line and
//! column, and what is wrong. Nothing about productivity plans lives in Rust: a workflow is data.
//! `parse.rs` holds the TOML shapes and the checks; this file, what they produce.

mod parse;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::deadlines::DueRule;
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
    pub title: String,
    /// Stage ids in the order they complete.
    pub stages: Vec<StageId>,
}

/// A date a plan supplies, that deadlines may count from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDateDefinition {
    /// Stable id, used in due rules (`challenge + 12 months`).
    pub id: KeyDateId,
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
    /// Who sets that deadline, when an outside body does (the department): a plan cannot move
    /// it, only record an extension that body granted.
    #[serde(default)]
    pub submission_due_set_by: Option<String>,
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
        parse::workflow(file_name, text)
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
