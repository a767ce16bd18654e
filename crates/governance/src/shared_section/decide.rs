//! What a person asks of a shared section, and the section as an aggregate: its `decide`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::events::{SharedSectionAgreed, SharedSectionEvent, SharedSectionProposed};
use super::state::SharedSection;
use super::MAX_TEXT_LEN;
use crate::aggregate::Aggregate;
use crate::context::Context;
use crate::error::GovernanceError;
use crate::event::streams;
use crate::ids::{CouncilId, GroupId, PersonId, Role, SectionId};
use crate::organisation::Scope;
use crate::projection::Projections;

impl SharedSectionCommand {
    /// The shared section it is about.
    pub fn key(&self) -> (GroupId, SectionId) {
        match self {
            SharedSectionCommand::Propose { group, section, .. }
            | SharedSectionCommand::Agree { group, section, .. } => {
                (group.clone(), section.clone())
            }
        }
    }
}

/// A command on a shared section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum SharedSectionCommand {
    /// Propose the first text or a revision.
    Propose {
        group: GroupId,
        section: SectionId,
        text: String,
        /// The revision this proposal is based on (`CONFLICT` if another came first).
        expected_revision: Option<u64>,
    },
    /// Agree a revision for one member council.
    Agree {
        group: GroupId,
        section: SectionId,
        /// The revision read and agreed.
        revision: u64,
        /// The council agreeing.
        council: CouncilId,
    },
}

impl Aggregate for SharedSection {
    type Id = (GroupId, SectionId);
    type Command = SharedSectionCommand;
    type Event = SharedSectionEvent;

    fn stream((group, section): &(GroupId, SectionId)) -> String {
        streams::shared(group, section)
    }

    fn find<'p>(
        projections: &'p Projections,
        (group, section): &(GroupId, SectionId),
    ) -> Option<&'p SharedSection> {
        projections.shared_section(group, section)
    }

    /// Decides a shared-section command: the events that follow, or why not.
    fn decide(
        ctx: &Context<'_>,
        state: Option<&SharedSection>,
        command: &SharedSectionCommand,
        actor: &PersonId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SharedSectionEvent>, GovernanceError> {
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
                Ok(vec![SharedSectionEvent::SharedSectionProposed(
                    SharedSectionProposed {
                        group: group.clone(),
                        section: section.clone(),
                        revision: current + 1,
                        text: text.clone(),
                        members: g.members.clone(),
                        by: actor.clone(),
                        at: now,
                    },
                )])
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
                        "revision {} of '{section}' was proposed by {} at {}, after the revision \
                         you read ({revision}): read it and agree that one",
                        cur.revision,
                        org.person_name(&cur.proposed_by),
                        crate::plan::wording::london_moment(cur.proposed_at)
                    )));
                }
                if cur.agreements.contains_key(council) {
                    return Err(GovernanceError::Conflict(format!(
                        "{} already agreed revision {revision} of '{section}'",
                        org.council_name(council)
                    )));
                }
                Ok(vec![SharedSectionEvent::SharedSectionAgreed(
                    SharedSectionAgreed {
                        group: group.clone(),
                        section: section.clone(),
                        revision: *revision,
                        council: council.clone(),
                        by: actor.clone(),
                        deputy,
                        at: now,
                    },
                )])
            }
        }
    }

    fn apply(state: Option<SharedSection>, event: &SharedSectionEvent) -> Option<SharedSection> {
        SharedSection::apply(state, event)
    }
}
