//! What the organisation records, on the `org` stream: [`OrgEvent`] and its payloads.

use serde::{Deserialize, Serialize};

use super::{Council, Group, RoleAssignment};
use crate::event::event_enum;
use crate::ids::{EmailAddress, PersonId};

event_enum! {
    /// What the organisation records. Registered and updated share a payload: the whole record.
    OrgEvent {
        CouncilRegistered(CouncilRecorded),
        CouncilUpdated(CouncilRecorded),
        GroupRegistered(GroupRecorded),
        GroupUpdated(GroupRecorded),
        PersonRegistered(PersonRecorded),
        PersonUpdated(PersonRecorded),
        RoleAssigned(RoleChanged),
        RoleRevoked(RoleChanged),
    }
}

/// `CouncilRegistered` / `CouncilUpdated` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouncilRecorded {
    /// The council as it now stands.
    pub council: Council,
}

/// `GroupRegistered` / `GroupUpdated` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecorded {
    /// The group as it now stands.
    pub group: Group,
}

/// `PersonRegistered` / `PersonUpdated` payload (roles travel in their own events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecorded {
    /// Who.
    pub person: PersonId,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: EmailAddress,
}

/// `RoleAssigned` / `RoleRevoked` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChanged {
    /// Who.
    pub person: PersonId,
    /// Which role where.
    pub assignment: RoleAssignment,
}
