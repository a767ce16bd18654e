//! Shared sections: one text a group writes for its member councils' plans.
//!
//! Group members (a `group-member` of the group, or the chief executive of a member council)
//! propose and revise the text; each member council's chief executive (or their deputy) agrees a
//! revision for that council. A revision is agreed when every council that was a member when it
//! was proposed has agreed it: the member list is copied into the proposal so that replaying the
//! stream never depends on how the group looks today. Plans adopt the agreed text (see `plan`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::error::GovernanceError;
use crate::event::Event;
use crate::ids::{CouncilId, GroupId, PersonId, Role, SectionId};
use crate::organisation::Scope;

/// The longest text a section may hold (about 50 pages), so one request cannot bloat the log.
pub const MAX_TEXT_LEN: usize = 200_000;

/// `SharedSectionProposed`: a new revision of a group's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedSectionProposed {
    /// The group.
    pub group: GroupId,
    /// The section.
    pub section: SectionId,
    /// The new revision number (1 for the first text).
    pub revision: u64,
    /// The proposed text.
    pub text: String,
    /// The member councils that must agree this revision.
    pub members: Vec<CouncilId>,
    /// Who proposed it.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// `SharedSectionAgreed`: one member council agreed one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedSectionAgreed {
    /// The group.
    pub group: GroupId,
    /// The section.
    pub section: SectionId,
    /// The revision agreed.
    pub revision: u64,
    /// The council that agreed.
    pub council: CouncilId,
    /// Its chief executive (or deputy) who agreed.
    pub by: PersonId,
    /// Whether they acted as deputy.
    pub deputy: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// One council's agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    /// Who agreed.
    pub by: PersonId,
    /// As deputy?
    pub deputy: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// One revision of a shared text and who agreed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedRevision {
    /// Revision number.
    pub revision: u64,
    /// Text.
    pub text: String,
    /// Councils that must agree it.
    pub members: Vec<CouncilId>,
    /// Who proposed it.
    pub proposed_by: PersonId,
    /// When.
    pub proposed_at: DateTime<Utc>,
    /// Agreements so far, by council.
    pub agreements: BTreeMap<CouncilId, Agreement>,
}

impl SharedRevision {
    /// Whether every member council agreed.
    pub fn is_agreed(&self) -> bool {
        self.members.iter().all(|c| self.agreements.contains_key(c))
    }
}

/// The state of one shared section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedSection {
    /// The group that writes it.
    pub group: GroupId,
    /// The section.
    pub section: SectionId,
    /// Every revision, oldest first.
    pub revisions: Vec<SharedRevision>,
}

impl SharedSection {
    /// The latest revision.
    pub fn current(&self) -> &SharedRevision {
        self.revisions
            .last()
            .expect("a shared section starts with its first proposal")
    }

    /// The latest revision number.
    pub fn revision(&self) -> u64 {
        self.current().revision
    }

    /// The latest text.
    pub fn text(&self) -> &str {
        &self.current().text
    }

    /// The latest revision every member council agreed, if any.
    pub fn agreed(&self) -> Option<&SharedRevision> {
        self.revisions.iter().rev().find(|r| r.is_agreed())
    }

    /// The latest agreed revision number.
    pub fn agreed_revision(&self) -> Option<u64> {
        self.agreed().map(|r| r.revision)
    }

    /// Councils that agreed the latest revision, in member order.
    pub fn agreed_by(&self) -> Vec<CouncilId> {
        let cur = self.current();
        cur.members
            .iter()
            .filter(|c| cur.agreements.contains_key(*c))
            .cloned()
            .collect()
    }

    /// Councils that still have to agree the latest revision, in member order.
    pub fn waiting_on(&self) -> Vec<CouncilId> {
        let cur = self.current();
        cur.members
            .iter()
            .filter(|c| !cur.agreements.contains_key(*c))
            .cloned()
            .collect()
    }

    /// The section's state after one event (`None` before its first proposal).
    pub fn apply(state: Option<SharedSection>, event: &Event) -> Option<SharedSection> {
        match event {
            Event::SharedSectionProposed(e) => {
                let mut s = state.unwrap_or_else(|| SharedSection {
                    group: e.group.clone(),
                    section: e.section.clone(),
                    revisions: Vec::new(),
                });
                s.revisions.push(SharedRevision {
                    revision: e.revision,
                    text: e.text.clone(),
                    members: e.members.clone(),
                    proposed_by: e.by.clone(),
                    proposed_at: e.at,
                    agreements: BTreeMap::new(),
                });
                Some(s)
            }
            Event::SharedSectionAgreed(e) => {
                let mut s = state?;
                if let Some(r) = s.revisions.iter_mut().find(|r| r.revision == e.revision) {
                    r.agreements.insert(
                        e.council.clone(),
                        Agreement {
                            by: e.by.clone(),
                            deputy: e.deputy,
                            at: e.at,
                        },
                    );
                }
                Some(s)
            }
            _ => state,
        }
    }
}

/// A command on a shared section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum SharedSectionCommand {
    /// Propose the first text or a revision.
    Propose {
        /// The group.
        group: GroupId,
        /// The section.
        section: SectionId,
        /// The text.
        text: String,
        /// The revision this proposal is based on (`CONFLICT` if another came first).
        expected_revision: Option<u64>,
    },
    /// Agree a revision for one member council.
    Agree {
        /// The group.
        group: GroupId,
        /// The section.
        section: SectionId,
        /// The revision read and agreed.
        revision: u64,
        /// The council agreeing.
        council: CouncilId,
    },
}

/// Decides a shared-section command: the events that follow, or why not.
pub fn decide(
    ctx: &Context<'_>,
    state: Option<&SharedSection>,
    command: &SharedSectionCommand,
    actor: &PersonId,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, GovernanceError> {
    let org = ctx.organisation;
    let person = org
        .person(actor)
        .ok_or_else(|| GovernanceError::Forbidden(format!("unknown person '{actor}'")))?;
    match command {
        SharedSectionCommand::Propose {
            group,
            section,
            text,
            expected_revision,
        } => {
            let g = org
                .group(group)
                .ok_or_else(|| GovernanceError::NotFound(format!("no group '{group}'")))?;
            if !g.supplies.iter().any(|s| &s.section == section) {
                return Err(GovernanceError::BadInput(format!(
                    "{} does not write a shared section '{section}'",
                    g.name
                )));
            }
            let member = org
                .capacity(actor, Role::GroupMember, &Scope::Group(group.clone()))
                .is_some()
                || g.members.iter().any(|c| {
                    org.capacity(actor, Role::ChiefExecutive, &Scope::Council(c.clone()))
                        .is_some()
                });
            if !member {
                return Err(GovernanceError::Forbidden(format!(
                    "{} is not a member of {}: only its group members and the chief executives of its councils propose its shared texts",
                    person.name, g.name
                )));
            }
            let current = state.map(|s| s.revision()).unwrap_or(0);
            if let Some(expected) = expected_revision {
                if *expected != current {
                    return Err(GovernanceError::Conflict(format!(
                        "the shared section '{section}' of {} is at revision {current}, not {expected}: read the latest text and propose again",
                        g.name
                    )));
                }
            }
            if text.trim().is_empty() {
                return Err(GovernanceError::BadInput("the shared text is empty".into()));
            }
            if text.len() > MAX_TEXT_LEN {
                return Err(GovernanceError::BadInput(format!(
                    "the shared text is longer than {MAX_TEXT_LEN} bytes"
                )));
            }
            if state.is_some_and(|s| s.text() == text) {
                return Ok(Vec::new());
            }
            Ok(vec![Event::SharedSectionProposed(SharedSectionProposed {
                group: group.clone(),
                section: section.clone(),
                revision: current + 1,
                text: text.clone(),
                members: g.members.clone(),
                by: actor.clone(),
                at: now,
            })])
        }
        SharedSectionCommand::Agree {
            group,
            section,
            revision,
            council,
        } => {
            let gname = org.group_name(group);
            let s = state.ok_or_else(|| {
                GovernanceError::NotFound(format!(
                    "{gname} has not proposed a shared section '{section}'"
                ))
            })?;
            let cur = s.current();
            if !cur.members.contains(council) {
                return Err(GovernanceError::BadInput(format!(
                    "{} is not one of the councils that agree {gname}'s section '{section}'",
                    org.council_name(council)
                )));
            }
            let Some(deputy) = org.capacity(
                actor,
                Role::ChiefExecutive,
                &Scope::Council(council.clone()),
            ) else {
                return Err(GovernanceError::Forbidden(format!(
                    "{} is not the Chief Executive of {}: only its Chief Executive (or their deputy) agrees shared texts for it",
                    person.name,
                    org.council_name(council)
                )));
            };
            if *revision != cur.revision {
                return Err(GovernanceError::Conflict(format!(
                    "revision {revision} of '{section}' is not the latest: revision {} was proposed since; read it and agree that one",
                    cur.revision
                )));
            }
            if cur.agreements.contains_key(council) {
                return Err(GovernanceError::Conflict(format!(
                    "{} already agreed revision {revision} of '{section}'",
                    org.council_name(council)
                )));
            }
            Ok(vec![Event::SharedSectionAgreed(SharedSectionAgreed {
                group: group.clone(),
                section: section.clone(),
                revision: *revision,
                council: council.clone(),
                by: actor.clone(),
                deputy,
                at: now,
            })])
        }
    }
}
