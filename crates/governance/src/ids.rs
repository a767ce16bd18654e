//! Identifiers and small value types, parsed once at the edge ("parse, don't validate").
//!
//! Every id is a lowercase slug (`derbyshire-dales`, `report-authorisation`): letters, digits and
//! hyphens. Keeping dots, slashes and spaces out of ids lets stream names such as
//! `shared-<group>.<section>` stay unambiguous without escaping.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a piece of text is not a valid id, role or e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdError(pub String);

fn check_slug(kind: &str, text: &str) -> Result<(), IdError> {
    let ok = !text.is_empty()
        && text.len() <= 100
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(IdError(format!(
            "'{text}' is not a valid {kind} id: use 1 to 100 lowercase letters, digits and hyphens, \
             not starting or ending with a hyphen"
        )))
    }
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a slug id, refusing anything but lowercase letters, digits and hyphens.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                check_slug($kind, text)?;
                Ok(Self(text.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(text: String) -> Result<Self, IdError> {
                check_slug($kind, &text)?;
                Ok(Self(text))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::parse(text)
            }
        }
    };
}

slug_id!(
    /// A council (local authority), e.g. `derbyshire-dales`.
    CouncilId,
    "council"
);
slug_id!(
    /// A group of councils acting together, e.g. `derbyshire-chief-executives`.
    GroupId,
    "group"
);
slug_id!(
    /// A person who may hold roles.
    PersonId,
    "person"
);
slug_id!(
    /// One plan (one run of a workflow). The server chooses it (a slug or a UUID).
    PlanId,
    "plan"
);
slug_id!(
    /// A workflow definition, e.g. `productivity-plan-2024`.
    WorkflowId,
    "workflow"
);
slug_id!(
    /// A route of a workflow, e.g. `committee` or `portfolio-holder`.
    RouteId,
    "route"
);
slug_id!(
    /// A stage of a workflow, e.g. `report-authorisation`.
    StageId,
    "stage"
);
slug_id!(
    /// A section of a workflow, e.g. `barriers`.
    SectionId,
    "section"
);
slug_id!(
    /// A named date a plan supplies, e.g. the `challenge` date of a peer challenge.
    KeyDateId,
    "key date"
);

/// A role a person holds at a council or a group. The set is closed on purpose: the engine's
/// rules (who records a committee decision, who agrees a shared section) name these roles, and an
/// unknown role in a workflow file is a typo to refuse at load, not a role nobody can ever hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Role {
    /// Drafts sections, starts plans.
    Drafter,
    /// Head of paid service; agrees group texts for their council.
    ChiefExecutive,
    /// The chief finance officer (section 151 of the Local Government Act 1972).
    S151Officer,
    /// The statutory monitoring officer (legal and governance).
    MonitoringOfficer,
    /// The cabinet member holding the relevant portfolio.
    PortfolioHolder,
    /// Democratic services: records committee meetings and decisions.
    CommitteeClerk,
    /// Submits and publishes plans.
    Submitter,
    /// Member of a group (writes shared sections).
    GroupMember,
    /// Read-only access for integrators.
    Reader,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 9] = [
        Role::Drafter,
        Role::ChiefExecutive,
        Role::S151Officer,
        Role::MonitoringOfficer,
        Role::PortfolioHolder,
        Role::CommitteeClerk,
        Role::Submitter,
        Role::GroupMember,
        Role::Reader,
    ];

    /// Parses the role's id (`monitoring-officer`).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                IdError(format!(
                    "unknown role '{text}': expected one of {}",
                    known.join(", ")
                ))
            })
    }

    /// The role's id as used in TOML, GraphQL and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Drafter => "drafter",
            Role::ChiefExecutive => "chief-executive",
            Role::S151Officer => "s151-officer",
            Role::MonitoringOfficer => "monitoring-officer",
            Role::PortfolioHolder => "portfolio-holder",
            Role::CommitteeClerk => "committee-clerk",
            Role::Submitter => "submitter",
            Role::GroupMember => "group-member",
            Role::Reader => "reader",
        }
    }

    /// The role as a council officer writes it ("Monitoring Officer").
    pub fn title(self) -> &'static str {
        match self {
            Role::Drafter => "drafter",
            Role::ChiefExecutive => "Chief Executive",
            Role::S151Officer => "S151 Officer",
            Role::MonitoringOfficer => "Monitoring Officer",
            Role::PortfolioHolder => "Portfolio Holder",
            Role::CommitteeClerk => "committee clerk",
            Role::Submitter => "submitter",
            Role::GroupMember => "group member",
            Role::Reader => "reader",
        }
    }

    /// Statutory roles may be exercised by a named deputy.
    pub fn is_statutory(self) -> bool {
        matches!(
            self,
            Role::ChiefExecutive | Role::S151Officer | Role::MonitoringOfficer
        )
    }
}

impl TryFrom<String> for Role {
    type Error = IdError;
    fn try_from(text: String) -> Result<Self, IdError> {
        Role::parse(&text)
    }
}

impl From<Role> for String {
    fn from(role: Role) -> String {
        role.as_str().to_owned()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An e-mail address, checked for the shape mail servers accept (one `@`, a dotted domain, no
/// spaces). The domain is lower-cased so the same address always compares equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an address such as `alex.morgan@example.org`.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let bad = || IdError(format!("'{text}' is not an e-mail address"));
        let (local, domain) = text.split_once('@').ok_or_else(bad)?;
        let shape_ok = !local.is_empty()
            && local.len() <= 64
            && domain.len() <= 253
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if !shape_ok {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = IdError;
    fn try_from(text: String) -> Result<Self, IdError> {
        EmailAddress::parse(&text)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lowercase_slug_is_accepted_as_a_council_id() {
        assert_eq!(
            CouncilId::parse("derbyshire-dales").unwrap().as_str(),
            "derbyshire-dales"
        );
    }

    #[test]
    fn ids_with_spaces_capitals_dots_or_edge_hyphens_are_refused() {
        for bad in ["", "Derbyshire", "a b", "a.b", "-a", "a-", "a/b"] {
            assert!(CouncilId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_deserialize_only_when_valid() {
        assert!(serde_json::from_str::<StageId>("\"committee\"").is_ok());
        assert!(serde_json::from_str::<StageId>("\"Committee\"").is_err());
    }

    #[test]
    fn every_role_round_trips_through_its_id() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        let err = Role::parse("mayor").unwrap_err();
        assert!(err.0.contains("unknown role 'mayor'"));
    }

    #[test]
    fn an_email_address_is_accepted_and_its_domain_lower_cased() {
        let e = EmailAddress::parse("Alex.Morgan@Example.ORG").unwrap();
        assert_eq!(e.as_str(), "Alex.Morgan@example.org");
    }

    #[test]
    fn malformed_email_addresses_are_refused() {
        for bad in [
            "",
            "no-at",
            "a@b",
            "a@@b.org",
            "@b.org",
            "a b@c.org",
            "a@.org",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }
}
