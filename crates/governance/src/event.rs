//! Every domain event, its stable `kind` name, the stream it is appended to, and its JSON payload.
//!
//! The ledger stores `kind: String` and a JSON payload per event. `Event::kind()` and
//! `Event::payload()` produce them; `Event::from_parts(kind, payload)` reads them back. Kinds are
//! past tense and never renamed: a stored kind must always parse.
//!
//! Streams: `org` for organisation events, `plan-<plan id>` for a plan, and
//! `shared-<group id>.<section id>` for a group's shared section. Ids never contain a dot, so the
//! shared stream name is unambiguous.

use serde::{Deserialize, Serialize};

use crate::ids::{GroupId, PlanId, SectionId};
use crate::organisation::{CouncilRecorded, GroupRecorded, PersonRecorded, RoleChanged};
use crate::plan::{
    CommitteeDecisionRecorded, DeadlineSet, KeyDateSet, MeetingScheduled, PlanPublished,
    PlanStarted, PlanSubmitted, SectionEdited, SharedSectionAdopted, SignOffWithdrawn, SignedOff,
};
use crate::shared_section::{SharedSectionAgreed, SharedSectionProposed};

/// Stream naming helpers.
pub mod streams {
    use super::*;

    /// The organisation stream.
    pub const ORG: &str = "org";

    /// A plan's stream: `plan-<id>`.
    pub fn plan(id: &PlanId) -> String {
        format!("plan-{id}")
    }

    /// A shared section's stream: `shared-<group>.<section>`.
    pub fn shared(group: &GroupId, section: &SectionId) -> String {
        format!("shared-{group}.{section}")
    }
}

/// A governance event. Serialized adjacently tagged (`{"kind": ..., "payload": ...}`); use
/// [`Event::kind`] and [`Event::payload`] for the ledger's two columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum Event {
    /// A council was recorded for the first time.
    CouncilRegistered(CouncilRecorded),
    /// A council's name or route changed.
    CouncilUpdated(CouncilRecorded),
    /// A group was recorded for the first time.
    GroupRegistered(GroupRecorded),
    /// A group's name, members or supplied sections changed.
    GroupUpdated(GroupRecorded),
    /// A person was recorded for the first time.
    PersonRegistered(PersonRecorded),
    /// A person's name or e-mail changed.
    PersonUpdated(PersonRecorded),
    /// A person was given a role.
    RoleAssigned(RoleChanged),
    /// A person lost a role.
    RoleRevoked(RoleChanged),
    /// A group proposed a (new revision of a) shared section.
    SharedSectionProposed(SharedSectionProposed),
    /// A member council agreed a revision of a shared section.
    SharedSectionAgreed(SharedSectionAgreed),
    /// A plan started.
    PlanStarted(PlanStarted),
    /// A section's text changed.
    SectionEdited(SectionEdited),
    /// A plan adopted a group's agreed text.
    SharedSectionAdopted(SharedSectionAdopted),
    /// Someone signed a stage.
    SignedOff(SignedOff),
    /// A sign-off was withdrawn.
    SignOffWithdrawn(SignOffWithdrawn),
    /// A committee meeting was scheduled or moved.
    MeetingScheduled(MeetingScheduled),
    /// A committee decision was recorded.
    CommitteeDecisionRecorded(CommitteeDecisionRecorded),
    /// A deadline was set or moved.
    DeadlineSet(DeadlineSet),
    /// A key date was set or moved.
    KeyDateSet(KeyDateSet),
    /// The plan was submitted.
    PlanSubmitted(PlanSubmitted),
    /// The plan was published.
    PlanPublished(PlanPublished),
}

/// Why stored parts do not make an event.
#[derive(Debug, thiserror::Error)]
#[error("cannot read a '{kind}' event: {source}")]
pub struct EventDecodeError {
    /// The stored kind.
    pub kind: String,
    /// What serde said.
    #[source]
    pub source: serde_json::Error,
}

impl Event {
    /// Every kind, for documentation and tests.
    pub const KINDS: [&'static str; 21] = [
        "CouncilRegistered",
        "CouncilUpdated",
        "GroupRegistered",
        "GroupUpdated",
        "PersonRegistered",
        "PersonUpdated",
        "RoleAssigned",
        "RoleRevoked",
        "SharedSectionProposed",
        "SharedSectionAgreed",
        "PlanStarted",
        "SectionEdited",
        "SharedSectionAdopted",
        "SignedOff",
        "SignOffWithdrawn",
        "MeetingScheduled",
        "CommitteeDecisionRecorded",
        "DeadlineSet",
        "KeyDateSet",
        "PlanSubmitted",
        "PlanPublished",
    ];

    /// The stable kind name stored by the ledger.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::CouncilRegistered(_) => "CouncilRegistered",
            Event::CouncilUpdated(_) => "CouncilUpdated",
            Event::GroupRegistered(_) => "GroupRegistered",
            Event::GroupUpdated(_) => "GroupUpdated",
            Event::PersonRegistered(_) => "PersonRegistered",
            Event::PersonUpdated(_) => "PersonUpdated",
            Event::RoleAssigned(_) => "RoleAssigned",
            Event::RoleRevoked(_) => "RoleRevoked",
            Event::SharedSectionProposed(_) => "SharedSectionProposed",
            Event::SharedSectionAgreed(_) => "SharedSectionAgreed",
            Event::PlanStarted(_) => "PlanStarted",
            Event::SectionEdited(_) => "SectionEdited",
            Event::SharedSectionAdopted(_) => "SharedSectionAdopted",
            Event::SignedOff(_) => "SignedOff",
            Event::SignOffWithdrawn(_) => "SignOffWithdrawn",
            Event::MeetingScheduled(_) => "MeetingScheduled",
            Event::CommitteeDecisionRecorded(_) => "CommitteeDecisionRecorded",
            Event::DeadlineSet(_) => "DeadlineSet",
            Event::KeyDateSet(_) => "KeyDateSet",
            Event::PlanSubmitted(_) => "PlanSubmitted",
            Event::PlanPublished(_) => "PlanPublished",
        }
    }

    /// The JSON payload stored by the ledger (the event's fields, without the kind).
    pub fn payload(&self) -> serde_json::Value {
        let mut tagged = serde_json::to_value(self).expect("events serialize to JSON");
        tagged
            .get_mut("payload")
            .map(serde_json::Value::take)
            .unwrap_or(serde_json::Value::Null)
    }

    /// Reads an event back from the ledger's kind and payload.
    pub fn from_parts(kind: &str, payload: &serde_json::Value) -> Result<Event, EventDecodeError> {
        let tagged = serde_json::json!({ "kind": kind, "payload": payload });
        serde_json::from_value(tagged).map_err(|source| EventDecodeError {
            kind: kind.to_owned(),
            source,
        })
    }

    /// The stream this event is appended to.
    pub fn stream(&self) -> String {
        match self {
            Event::CouncilRegistered(_)
            | Event::CouncilUpdated(_)
            | Event::GroupRegistered(_)
            | Event::GroupUpdated(_)
            | Event::PersonRegistered(_)
            | Event::PersonUpdated(_)
            | Event::RoleAssigned(_)
            | Event::RoleRevoked(_) => streams::ORG.to_owned(),
            Event::SharedSectionProposed(e) => streams::shared(&e.group, &e.section),
            Event::SharedSectionAgreed(e) => streams::shared(&e.group, &e.section),
            _ => streams::plan(self.plan_id().expect("every other event belongs to a plan")),
        }
    }

    /// The plan an event belongs to, if it is a plan event.
    pub fn plan_id(&self) -> Option<&PlanId> {
        match self {
            Event::PlanStarted(e) => Some(&e.plan),
            Event::SectionEdited(e) => Some(&e.plan),
            Event::SharedSectionAdopted(e) => Some(&e.plan),
            Event::SignedOff(e) => Some(&e.plan),
            Event::SignOffWithdrawn(e) => Some(&e.plan),
            Event::MeetingScheduled(e) => Some(&e.plan),
            Event::CommitteeDecisionRecorded(e) => Some(&e.plan),
            Event::DeadlineSet(e) => Some(&e.plan),
            Event::KeyDateSet(e) => Some(&e.plan),
            Event::PlanSubmitted(e) => Some(&e.plan),
            Event::PlanPublished(e) => Some(&e.plan),
            _ => None,
        }
    }

    /// The (group, section) a shared-section event belongs to.
    pub fn shared_key(&self) -> Option<(&GroupId, &SectionId)> {
        match self {
            Event::SharedSectionProposed(e) => Some((&e.group, &e.section)),
            Event::SharedSectionAgreed(e) => Some((&e.group, &e.section)),
            _ => None,
        }
    }
}
