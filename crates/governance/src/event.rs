//! The stored form of every domain event: its stable `kind` name, the stream it is appended to,
//! and its JSON payload.
//!
//! Each aggregate has its own event enum ([`OrgEvent`], [`SharedSectionEvent`], [`PlanEvent`]);
//! [`DomainEvent`] wraps them for the ledger, which stores `kind: String` and a JSON payload per
//! event. `DomainEvent::kind()` and `DomainEvent::payload()` produce them;
//! `DomainEvent::from_parts(kind, payload)` reads them back. Kinds are past tense and never
//! renamed: a stored kind must always parse.
//!
//! Streams: `org` for organisation events, `plan-<plan id>` for a plan, and
//! `shared-<group id>.<section id>` for a group's shared section. Ids never contain a dot, so the
//! shared stream name is unambiguous.

use crate::ids::{GroupId, PlanId, SectionId};
use crate::organisation::OrgEvent;
use crate::plan::PlanEvent;
use crate::shared_section::SharedSectionEvent;

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

    /// The plan whose stream `stream` is, if it is a plan's.
    pub fn plan_of(stream: &str) -> Option<PlanId> {
        PlanId::parse(stream.strip_prefix("plan-")?).ok()
    }

    /// The group whose shared section `stream` is, if it is a shared section's.
    pub fn group_of(stream: &str) -> Option<GroupId> {
        let (group, _section) = stream.strip_prefix("shared-")?.split_once('.')?;
        GroupId::parse(group).ok()
    }
}

/// Declares an aggregate's event enum: one variant per stored kind, named as the kind, holding
/// its payload struct. It derives the serde form every stored payload was written in
/// (adjacently tagged, `{"kind": ..., "payload": ...}`; the ledger keeps the two apart) and
/// gives `KINDS` and `kind()`, so a kind's name is written once.
macro_rules! event_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident($payload:ty),)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind", content = "payload")]
        pub enum $name {
            $($(#[$vmeta])* $variant($payload),)*
        }

        impl $name {
            /// The stored kind of every variant.
            pub const KINDS: &'static [&'static str] = &[$(stringify!($variant)),*];

            /// The stable kind name the ledger stores.
            pub fn kind(&self) -> &'static str {
                match self {
                    $($name::$variant(_) => stringify!($variant),)*
                }
            }
        }
    };
}
pub(crate) use event_enum;

/// Every event the governance engine records: one aggregate's event, wrapped. The ledger keeps
/// [`DomainEvent::kind`] and [`DomainEvent::payload`]; [`DomainEvent::from_parts`] reads them
/// back. Kinds are past tense, never renamed, and unique across aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    Org(OrgEvent),
    SharedSection(SharedSectionEvent),
    Plan(PlanEvent),
}

impl From<OrgEvent> for DomainEvent {
    fn from(e: OrgEvent) -> Self {
        DomainEvent::Org(e)
    }
}

impl From<SharedSectionEvent> for DomainEvent {
    fn from(e: SharedSectionEvent) -> Self {
        DomainEvent::SharedSection(e)
    }
}

impl From<PlanEvent> for DomainEvent {
    fn from(e: PlanEvent) -> Self {
        DomainEvent::Plan(e)
    }
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

impl DomainEvent {
    /// Every stored kind, for documentation and tests.
    pub fn kinds() -> impl Iterator<Item = &'static str> {
        OrgEvent::KINDS
            .iter()
            .chain(SharedSectionEvent::KINDS)
            .chain(PlanEvent::KINDS)
            .copied()
    }

    /// The stable kind name stored by the ledger.
    pub fn kind(&self) -> &'static str {
        match self {
            DomainEvent::Org(e) => e.kind(),
            DomainEvent::SharedSection(e) => e.kind(),
            DomainEvent::Plan(e) => e.kind(),
        }
    }

    /// The JSON payload stored by the ledger: the event's fields, without the kind. Built as a
    /// `serde_json::Value`, whose object keys are sorted, so the stored bytes (and so every hash)
    /// do not depend on the order of a struct's fields.
    pub fn payload(&self) -> serde_json::Value {
        let tagged = match self {
            DomainEvent::Org(e) => serde_json::to_value(e),
            DomainEvent::SharedSection(e) => serde_json::to_value(e),
            DomainEvent::Plan(e) => serde_json::to_value(e),
        };
        let mut tagged = tagged.expect("events serialize to JSON");
        tagged
            .get_mut("payload")
            .map(serde_json::Value::take)
            .unwrap_or(serde_json::Value::Null)
    }

    /// Reads an event back from the ledger's kind and payload.
    pub fn from_parts(
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<DomainEvent, EventDecodeError> {
        fn read<E: serde::de::DeserializeOwned>(
            kind: &str,
            payload: &serde_json::Value,
        ) -> Result<E, EventDecodeError> {
            let tagged = serde_json::json!({ "kind": kind, "payload": payload });
            serde_json::from_value(tagged).map_err(|source| EventDecodeError {
                kind: kind.to_owned(),
                source,
            })
        }
        if OrgEvent::KINDS.contains(&kind) {
            read(kind, payload).map(DomainEvent::Org)
        } else if SharedSectionEvent::KINDS.contains(&kind) {
            read(kind, payload).map(DomainEvent::SharedSection)
        } else {
            // An unknown kind is refused here too, by the plan enum's deserializer.
            read(kind, payload).map(DomainEvent::Plan)
        }
    }

    /// The plan's event, if this is one.
    pub fn plan_event(&self) -> Option<&PlanEvent> {
        match self {
            DomainEvent::Plan(e) => Some(e),
            _ => None,
        }
    }

    /// The stream this event is appended to.
    pub fn stream(&self) -> String {
        match self {
            DomainEvent::Org(_) => streams::ORG.to_owned(),
            DomainEvent::SharedSection(e) => {
                let (group, section) = e.key();
                streams::shared(group, section)
            }
            DomainEvent::Plan(e) => streams::plan(e.plan_id()),
        }
    }
}

#[cfg(test)]
mod stream_name_tests {
    use super::streams;
    use crate::ids::{GroupId, PlanId, SectionId};

    #[test]
    fn a_stream_name_is_read_back_as_the_plan_or_group_it_was_made_for() {
        let plan = PlanId::parse("stockport-2024").unwrap();
        let group = GroupId::parse("derbyshire-chief-executives").unwrap();
        let section = SectionId::parse("barriers").unwrap();
        assert_eq!(streams::plan_of(&streams::plan(&plan)), Some(plan.clone()));
        assert_eq!(
            streams::group_of(&streams::shared(&group, &section)),
            Some(group)
        );
        assert_eq!(streams::plan_of(streams::ORG), None);
        assert_eq!(streams::group_of(&streams::plan(&plan)), None);
    }
}
