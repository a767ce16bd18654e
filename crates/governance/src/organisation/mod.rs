//! The organisation: councils, groups, people and the roles they hold, loaded from `seeds/*.toml`
//! and kept up to date by organisation events on the `org` stream.
//!
//! Seeds describe the wanted state; `sync_events` compares it with the recorded state and returns
//! the events that close the gap, so loading the same seeds twice records nothing and a changed
//! seed records exactly its changes. Nothing is deleted: a person dropped from the seeds keeps
//! their history and loses their roles (`RoleRevoked`).
//!
//! `events.rs` holds [`OrgEvent`] and its payloads; `seeds.rs` reads seed files and works out
//! [`sync_events`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{
    CouncilId, EmailAddress, GroupId, PersonId, Role, RouteId, SectionId, WorkflowId,
};

mod events;
mod seeds;

pub use events::{CouncilRecorded, GroupRecorded, OrgEvent, PersonRecorded, RoleChanged};
pub use seeds::{load_seeds, sync_events};

/// A local authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Council {
    /// Stable id.
    pub id: CouncilId,
    /// Display name ("Derbyshire Dales District Council").
    pub name: String,
    /// The governance route the council follows, when a workflow offers a route of that id.
    pub route: Option<RouteId>,
}

/// A section a group writes for its member councils' plans.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SuppliedSection {
    /// The workflow whose plans adopt it.
    pub workflow: WorkflowId,
    /// The section (must be declared `shared` in the workflow).
    pub section: SectionId,
}

/// Councils acting together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Stable id.
    pub id: GroupId,
    /// Display name.
    pub name: String,
    /// Member councils, in a stable order.
    pub members: Vec<CouncilId>,
    /// Sections the group writes for its members' plans.
    pub supplies: Vec<SuppliedSection>,
}

/// Where a role is held.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// At a council.
    Council(CouncilId),
    /// At a group.
    Group(GroupId),
    /// Across every council: only a `reader` (a regional body), and only when assigned
    /// explicitly; it reads every council's plans, drafts included.
    AllCouncils,
}

/// One role held by one person somewhere.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub role: Role,
    /// Where it is held.
    pub scope: Scope,
    /// Whether the person acts as the named deputy for a statutory role (their acts are recorded
    /// as a deputy's).
    #[serde(default)]
    pub deputy: bool,
}

/// A person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Stable id.
    pub id: PersonId,
    /// Display name.
    pub name: String,
    /// Where reminders go.
    pub email: EmailAddress,
    /// Roles held, in a stable order.
    pub roles: BTreeSet<RoleAssignment>,
}

/// Councils, groups and people as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Councils by id.
    pub councils: BTreeMap<CouncilId, Council>,
    /// Groups by id.
    pub groups: BTreeMap<GroupId, Group>,
    /// People by id.
    pub people: BTreeMap<PersonId, Person>,
}

impl Organisation {
    /// A council by id.
    pub fn council(&self, id: &CouncilId) -> Option<&Council> {
        self.councils.get(id)
    }

    /// A group by id.
    pub fn group(&self, id: &GroupId) -> Option<&Group> {
        self.groups.get(id)
    }

    /// A person by id.
    pub fn person(&self, id: &PersonId) -> Option<&Person> {
        self.people.get(id)
    }

    /// The council's display name, or its id when unknown.
    pub fn council_name(&self, id: &CouncilId) -> String {
        self.council(id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The group's display name, or its id when unknown.
    pub fn group_name(&self, id: &GroupId) -> String {
        self.group(id)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The person's display name, or their id when unknown.
    pub fn person_name(&self, id: &PersonId) -> String {
        self.person(id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// Whether `person` holds `role` at `scope`: `Some(false)` as the holder, `Some(true)` as a
    /// deputy, `None` not at all. A holder's own assignment wins over a deputy one.
    pub fn capacity(&self, person: &PersonId, role: Role, scope: &Scope) -> Option<bool> {
        capacity_of(self.person(person)?, role, scope)
    }

    /// Everyone holding `role` at `scope`, holders first, then deputies.
    pub fn holders(&self, role: Role, scope: &Scope) -> Vec<(&Person, bool)> {
        let mut out: Vec<(&Person, bool)> = self
            .people
            .values()
            .filter_map(|p| capacity_of(p, role, scope).map(|deputy| (p, deputy)))
            .collect();
        out.sort_by(|(a, a_deputy), (b, b_deputy)| (a_deputy, &a.id).cmp(&(b_deputy, &b.id)));
        out
    }

    /// Whether anyone holds `role` at `scope`, as holder or deputy.
    pub fn anyone_holds(&self, role: Role, scope: &Scope) -> bool {
        self.people
            .values()
            .any(|p| capacity_of(p, role, scope).is_some())
    }

    /// Groups a council belongs to, by id order.
    pub fn groups_of(&self, council: &CouncilId) -> Vec<&Group> {
        self.groups
            .values()
            .filter(|g| g.members.contains(council))
            .collect()
    }

    /// The group that supplies `section` of `workflow` to a plan owned by `councils`: the first
    /// group (by id) that supplies it and counts every owning council as a member. A joint plan
    /// whose councils do not all belong to one supplying group writes the section itself.
    pub fn supplier_of(
        &self,
        workflow: &WorkflowId,
        section: &SectionId,
        councils: &[CouncilId],
    ) -> Option<&Group> {
        self.groups.values().find(|g| {
            g.supplies
                .iter()
                .any(|s| &s.workflow == workflow && &s.section == section)
                && councils.iter().all(|c| g.members.contains(c))
        })
    }

    /// Applies one event; events of other streams are ignored.
    pub fn apply(&mut self, event: &OrgEvent) {
        match event {
            OrgEvent::CouncilRegistered(e) | OrgEvent::CouncilUpdated(e) => {
                self.councils
                    .insert(e.council.id.clone(), e.council.clone());
            }
            OrgEvent::GroupRegistered(e) | OrgEvent::GroupUpdated(e) => {
                self.groups.insert(e.group.id.clone(), e.group.clone());
            }
            OrgEvent::PersonRegistered(e) | OrgEvent::PersonUpdated(e) => {
                let person = self
                    .people
                    .entry(e.person.clone())
                    .or_insert_with(|| Person {
                        id: e.person.clone(),
                        name: e.name.clone(),
                        email: e.email.clone(),
                        roles: BTreeSet::new(),
                    });
                person.name = e.name.clone();
                person.email = e.email.clone();
            }
            OrgEvent::RoleAssigned(e) => {
                if let Some(p) = self.people.get_mut(&e.person) {
                    p.roles.insert(e.assignment.clone());
                }
            }
            OrgEvent::RoleRevoked(e) => {
                if let Some(p) = self.people.get_mut(&e.person) {
                    p.roles.remove(&e.assignment);
                }
            }
        }
    }

    /// The organisation the events describe.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a OrgEvent>) -> Organisation {
        let mut org = Organisation::default();
        for e in events {
            org.apply(e);
        }
        org
    }
}

/// [`Organisation::capacity`] of a person at hand (`holders` walks every person; looking each up
/// again by id was most of a plan view's cost).
fn capacity_of(person: &Person, role: Role, scope: &Scope) -> Option<bool> {
    let mut found = None;
    for a in &person.roles {
        if a.role == role && &a.scope == scope {
            if !a.deputy {
                return Some(false);
            }
            found = Some(true);
        }
    }
    found
}
