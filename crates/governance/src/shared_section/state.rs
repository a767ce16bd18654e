//! A shared section's revisions and who agreed each, and how each event changes them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::events::SharedSectionEvent;
use crate::ids::{CouncilId, GroupId, PersonId, SectionId};

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
    pub fn apply(
        state: Option<SharedSection>,
        event: &SharedSectionEvent,
    ) -> Option<SharedSection> {
        match event {
            SharedSectionEvent::SharedSectionProposed(e) => {
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
            SharedSectionEvent::SharedSectionAgreed(e) => {
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
        }
    }
}
