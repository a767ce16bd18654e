//! The organisation: councils, groups, people and the roles they hold, loaded from `seeds/*.toml`
//! and kept up to date by organisation events on the `org` stream.
//!
//! Seeds describe the wanted state; `sync_events` compares it with the recorded state and returns
//! the events that close the gap, so loading the same seeds twice records nothing and a changed
//! seed records exactly its changes. Nothing is deleted: a person dropped from the seeds keeps
//! their history and loses their roles (`RoleRevoked`).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::DefinitionError;
use crate::event::Event;
use crate::ids::{
    CouncilId, EmailAddress, GroupId, IdError, PersonId, Role, RouteId, SectionId, WorkflowId,
};

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
}

/// One role held by one person somewhere.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RoleAssignment {
    /// The role.
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
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::CouncilRegistered(e) | Event::CouncilUpdated(e) => {
                self.councils
                    .insert(e.council.id.clone(), e.council.clone());
            }
            Event::GroupRegistered(e) | Event::GroupUpdated(e) => {
                self.groups.insert(e.group.id.clone(), e.group.clone());
            }
            Event::PersonRegistered(e) | Event::PersonUpdated(e) => {
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
            Event::RoleAssigned(e) => {
                if let Some(p) = self.people.get_mut(&e.person) {
                    p.roles.insert(e.assignment.clone());
                }
            }
            Event::RoleRevoked(e) => {
                if let Some(p) = self.people.get_mut(&e.person) {
                    p.roles.remove(&e.assignment);
                }
            }
            _ => {}
        }
    }

    /// The organisation the events describe.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Organisation {
        let mut org = Organisation::default();
        for e in events {
            org.apply(e);
        }
        org
    }
}

/// The events that bring `current` up to `seed`: registrations and updates of councils, groups and
/// people, then revocations, then assignments. Empty when nothing changed.
pub fn sync_events(current: &Organisation, seed: &Organisation) -> Vec<Event> {
    let mut out = Vec::new();
    for (id, council) in &seed.councils {
        match current.councils.get(id) {
            None => out.push(Event::CouncilRegistered(CouncilRecorded {
                council: council.clone(),
            })),
            Some(c) if c != council => out.push(Event::CouncilUpdated(CouncilRecorded {
                council: council.clone(),
            })),
            Some(_) => {}
        }
    }
    for (id, group) in &seed.groups {
        match current.groups.get(id) {
            None => out.push(Event::GroupRegistered(GroupRecorded {
                group: group.clone(),
            })),
            Some(g) if g != group => out.push(Event::GroupUpdated(GroupRecorded {
                group: group.clone(),
            })),
            Some(_) => {}
        }
    }
    for (id, person) in &seed.people {
        let record = PersonRecorded {
            person: id.clone(),
            name: person.name.clone(),
            email: person.email.clone(),
        };
        match current.people.get(id) {
            None => out.push(Event::PersonRegistered(record)),
            Some(p) if p.name != person.name || p.email != person.email => {
                out.push(Event::PersonUpdated(record))
            }
            Some(_) => {}
        }
    }
    let empty = BTreeSet::new();
    for (id, person) in &current.people {
        let wanted = seed.people.get(id).map(|p| &p.roles).unwrap_or(&empty);
        for a in person.roles.difference(wanted) {
            out.push(Event::RoleRevoked(RoleChanged {
                person: id.clone(),
                assignment: a.clone(),
            }));
        }
    }
    for (id, person) in &seed.people {
        let have = current.people.get(id).map(|p| &p.roles).unwrap_or(&empty);
        for a in person.roles.difference(have) {
            out.push(Event::RoleAssigned(RoleChanged {
                person: id.clone(),
                assignment: a.clone(),
            }));
        }
    }
    out
}

// ---- seed files ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    #[serde(default)]
    councils: Vec<RawCouncil>,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    people: Vec<RawPerson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCouncil {
    id: Spanned<String>,
    name: String,
    route: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    id: Spanned<String>,
    name: String,
    members: Vec<Spanned<String>>,
    #[serde(default)]
    supplies: Vec<RawSupplied>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupplied {
    workflow: Spanned<String>,
    section: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    id: Spanned<String>,
    name: String,
    email: Spanned<String>,
    #[serde(default)]
    roles: Vec<Spanned<RawRole>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    role: Spanned<String>,
    council: Option<Spanned<String>>,
    group: Option<Spanned<String>>,
    #[serde(default)]
    deputy: bool,
}

/// A place in a seed file, kept for cross-reference errors found after every file is read.
#[derive(Debug, Clone)]
struct Place {
    file: String,
    line: usize,
    column: usize,
}

impl Place {
    fn error(&self, message: impl Into<String>) -> DefinitionError {
        DefinitionError {
            file: self.file.clone(),
            line: Some(self.line),
            column: Some(self.column),
            message: message.into(),
        }
    }
}

/// The content of one parsed seed file, ids checked, references not yet resolved.
#[derive(Debug, Clone, Default)]
pub struct SeedFile {
    councils: Vec<(Council, Place)>,
    groups: Vec<(Group, Place, Vec<Place>)>,
    people: Vec<(Person, Place, Vec<PlacedRole>)>,
}

/// A role assignment and where the seed file wrote it.
type PlacedRole = (RoleAssignment, Place);

struct SeedChecker<'a> {
    file: &'a str,
    text: &'a str,
}

impl SeedChecker<'_> {
    fn place(&self, span: Range<usize>) -> Place {
        let (line, column) = crate::error::line_column(self.text, span.start);
        Place {
            file: self.file.to_owned(),
            line,
            column,
        }
    }

    fn id<T>(
        &self,
        raw: &Spanned<String>,
        parse: impl Fn(&str) -> Result<T, IdError>,
    ) -> Result<T, DefinitionError> {
        parse(raw.get_ref())
            .map_err(|e| DefinitionError::at(self.file, self.text, raw.span().start, e.0))
    }
}

impl SeedFile {
    /// Parses one seed file: `[[councils]]`, `[[groups]]` and `[[people]]` tables, any of which
    /// may be absent. References to councils and groups are checked by [`load_seeds`].
    pub fn parse(file_name: &str, text: &str) -> Result<SeedFile, DefinitionError> {
        let raw: RawSeed =
            toml::from_str(text).map_err(|e| DefinitionError::from_toml(file_name, text, &e))?;
        let c = SeedChecker {
            file: file_name,
            text,
        };
        let mut out = SeedFile::default();
        for rc in &raw.councils {
            let council = Council {
                id: c.id(&rc.id, CouncilId::parse)?,
                name: rc.name.trim().to_owned(),
                route: rc
                    .route
                    .as_ref()
                    .map(|r| c.id(r, RouteId::parse))
                    .transpose()?,
            };
            if council.name.is_empty() {
                return Err(DefinitionError::at(
                    file_name,
                    text,
                    rc.id.span().start,
                    "a council needs a name",
                ));
            }
            out.councils.push((council, c.place(rc.id.span())));
        }
        for rg in &raw.groups {
            let mut members = Vec::new();
            let mut places = Vec::new();
            for m in &rg.members {
                let id = c.id(m, CouncilId::parse)?;
                if members.contains(&id) {
                    return Err(DefinitionError::at(
                        file_name,
                        text,
                        m.span().start,
                        format!("council '{id}' is listed twice"),
                    ));
                }
                members.push(id);
                places.push(c.place(m.span()));
            }
            if members.is_empty() {
                return Err(DefinitionError::at(
                    file_name,
                    text,
                    rg.id.span().start,
                    "a group needs at least one member council",
                ));
            }
            let mut supplies = Vec::new();
            for s in &rg.supplies {
                supplies.push(SuppliedSection {
                    workflow: c.id(&s.workflow, WorkflowId::parse)?,
                    section: c.id(&s.section, SectionId::parse)?,
                });
            }
            let group = Group {
                id: c.id(&rg.id, GroupId::parse)?,
                name: rg.name.trim().to_owned(),
                members,
                supplies,
            };
            out.groups.push((group, c.place(rg.id.span()), places));
        }
        for rp in &raw.people {
            let id = c.id(&rp.id, PersonId::parse)?;
            let email = c.id(&rp.email, EmailAddress::parse)?;
            let mut roles = BTreeSet::new();
            let mut places = Vec::new();
            for rr in &rp.roles {
                let span = rr.span();
                let rr = rr.get_ref();
                let role = c.id(&rr.role, Role::parse)?;
                let scope = match (&rr.council, &rr.group) {
                    (Some(council), None) => Scope::Council(c.id(council, CouncilId::parse)?),
                    (None, Some(group)) => Scope::Group(c.id(group, GroupId::parse)?),
                    _ => {
                        return Err(DefinitionError::at(
                            file_name,
                            text,
                            span.start,
                            "a role needs exactly one of council = \"...\" or group = \"...\"",
                        ))
                    }
                };
                match (&scope, role) {
                    (Scope::Council(_), Role::GroupMember) => {
                        return Err(DefinitionError::at(
                            file_name,
                            text,
                            rr.role.span().start,
                            "group-member is held at a group, not a council",
                        ))
                    }
                    (Scope::Group(_), r) if !matches!(r, Role::GroupMember | Role::Reader) => {
                        return Err(DefinitionError::at(
                            file_name,
                            text,
                            rr.role.span().start,
                            format!("{r} is held at a council, not a group"),
                        ))
                    }
                    _ => {}
                }
                if rr.deputy && !role.is_statutory() {
                    return Err(DefinitionError::at(file_name, text, span.start, format!("only statutory roles (chief-executive, s151-officer, monitoring-officer) have deputies, not {role}")));
                }
                let assignment = RoleAssignment {
                    role,
                    scope,
                    deputy: rr.deputy,
                };
                if !roles.insert(assignment.clone()) {
                    return Err(DefinitionError::at(
                        file_name,
                        text,
                        span.start,
                        "this role is listed twice",
                    ));
                }
                places.push((assignment, c.place(span)));
            }
            let name = rp.name.trim().to_owned();
            if name.is_empty() {
                return Err(DefinitionError::at(
                    file_name,
                    text,
                    rp.id.span().start,
                    "a person needs a name",
                ));
            }
            out.people.push((
                Person {
                    id,
                    name,
                    email,
                    roles,
                },
                c.place(rp.id.span()),
                places,
            ));
        }
        Ok(out)
    }
}

/// Parses every `(file name, text)` seed pair and checks references across them: duplicate ids,
/// group members and role scopes that name no council or group. Returns the wanted organisation;
/// feed it to [`sync_events`].
pub fn load_seeds<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Organisation, DefinitionError> {
    let mut parsed = Vec::new();
    for (file, text) in files {
        parsed.push(SeedFile::parse(file, text)?);
    }
    let mut org = Organisation::default();
    let mut first_place: BTreeMap<String, Place> = BTreeMap::new();
    let mut claim = |key: String, place: &Place| -> Result<(), DefinitionError> {
        if let Some(first) = first_place.get(&key) {
            return Err(place.error(format!(
                "duplicate {key}: already defined at {}:{}",
                first.file, first.line
            )));
        }
        first_place.insert(key, place.clone());
        Ok(())
    };
    for f in &parsed {
        for (council, place) in &f.councils {
            claim(format!("council id '{}'", council.id), place)?;
            org.councils.insert(council.id.clone(), council.clone());
        }
        for (group, place, _) in &f.groups {
            claim(format!("group id '{}'", group.id), place)?;
            org.groups.insert(group.id.clone(), group.clone());
        }
        for (person, place, _) in &f.people {
            claim(format!("person id '{}'", person.id), place)?;
            org.people.insert(person.id.clone(), person.clone());
        }
    }
    for f in &parsed {
        for (group, _, places) in &f.groups {
            for (member, place) in group.members.iter().zip(places) {
                if !org.councils.contains_key(member) {
                    return Err(place.error(format!(
                        "group '{}' lists council '{member}', which no seed file defines",
                        group.id
                    )));
                }
            }
        }
        for (person, _, places) in &f.people {
            for (assignment, place) in places {
                let known = match &assignment.scope {
                    Scope::Council(c) => org.councils.contains_key(c),
                    Scope::Group(g) => org.groups.contains_key(g),
                };
                if !known {
                    let what = match &assignment.scope {
                        Scope::Council(c) => format!("council '{c}'"),
                        Scope::Group(g) => format!("group '{g}'"),
                    };
                    return Err(place.error(format!(
                        "{} holds {} at {what}, which no seed file defines",
                        person.id, assignment.role
                    )));
                }
            }
        }
    }
    Ok(org)
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
