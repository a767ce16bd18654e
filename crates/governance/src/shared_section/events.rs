//! What a shared section records, in its own stream (`shared-<group>.<section>`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::event_enum;
use crate::ids::{CouncilId, GroupId, PersonId, SectionId};

event_enum! {
    /// What a shared section records.
    SharedSectionEvent {
        SharedSectionProposed(SharedSectionProposed),
        SharedSectionAgreed(SharedSectionAgreed),
    }
}

impl SharedSectionEvent {
    /// The (group, section) it belongs to.
    pub fn key(&self) -> (&GroupId, &SectionId) {
        match self {
            SharedSectionEvent::SharedSectionProposed(e) => (&e.group, &e.section),
            SharedSectionEvent::SharedSectionAgreed(e) => (&e.group, &e.section),
        }
    }
}

/// `SharedSectionProposed`: a new revision of a group's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedSectionProposed {
    pub group: GroupId,
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
    pub group: GroupId,
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
