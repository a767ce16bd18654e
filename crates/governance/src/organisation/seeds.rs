//! Seed files (`seeds/*.toml`): the organisation as it should be, checked with the file and line
//! of anything wrong, and [`sync_events`], the events that bring the recorded organisation up to
//! it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::*;
use chrono::{DateTime, Utc};

use crate::aggregate::Aggregate;
use crate::context::Context;
use crate::error::{DefinitionError, GovernanceError};
use crate::event::streams;
use crate::ids::IdError;
use crate::projection::Projections;

/// The organisation is recorded by councilflow itself from its seed files: the command is the
/// organisation as the seeds describe it, and `decide` returns [`sync_events`] (nothing when the
/// recorded one agrees). Nobody is refused.
impl Aggregate for Organisation {
    type Id = ();
    type Command = Organisation;
    type Event = OrgEvent;

    fn stream(_: &()) -> String {
        streams::ORG.to_owned()
    }

    fn find<'p>(projections: &'p Projections, _: &()) -> Option<&'p Organisation> {
        Some(projections.organisation())
    }

    fn decide(
        _: &Context<'_>,
        state: Option<&Organisation>,
        seed: &Organisation,
        _: &PersonId,
        _: DateTime<Utc>,
    ) -> Result<Vec<OrgEvent>, GovernanceError> {
        Ok(sync_events(state.unwrap_or(&Organisation::default()), seed))
    }

    fn apply(state: Option<Organisation>, event: &OrgEvent) -> Option<Organisation> {
        let mut organisation = state.unwrap_or_default();
        organisation.apply(event);
        Some(organisation)
    }
}

/// The events that bring `current` up to `seed`: registrations and updates of councils, groups and
/// people, then revocations, then assignments. Empty when nothing changed.
pub fn sync_events(current: &Organisation, seed: &Organisation) -> Vec<OrgEvent> {
    let mut out = Vec::new();
    for (id, council) in &seed.councils {
        match current.councils.get(id) {
            None => out.push(OrgEvent::CouncilRegistered(CouncilRecorded {
                council: council.clone(),
            })),
            Some(c) if c != council => out.push(OrgEvent::CouncilUpdated(CouncilRecorded {
                council: council.clone(),
            })),
            Some(_) => {}
        }
    }
    for (id, group) in &seed.groups {
        match current.groups.get(id) {
            None => out.push(OrgEvent::GroupRegistered(GroupRecorded {
                group: group.clone(),
            })),
            Some(g) if g != group => out.push(OrgEvent::GroupUpdated(GroupRecorded {
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
            None => out.push(OrgEvent::PersonRegistered(record)),
            Some(p) if p.name != person.name || p.email != person.email => {
                out.push(OrgEvent::PersonUpdated(record))
            }
            Some(_) => {}
        }
    }
    let empty = BTreeSet::new();
    for (id, person) in &current.people {
        let wanted = seed.people.get(id).map(|p| &p.roles).unwrap_or(&empty);
        for a in person.roles.difference(wanted) {
            out.push(OrgEvent::RoleRevoked(RoleChanged {
                person: id.clone(),
                assignment: a.clone(),
            }));
        }
    }
    for (id, person) in &seed.people {
        let have = current.people.get(id).map(|p| &p.roles).unwrap_or(&empty);
        for a in person.roles.difference(have) {
            out.push(OrgEvent::RoleAssigned(RoleChanged {
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
    /// A reader across every council (a regional body): said explicitly, never a default.
    #[serde(default)]
    all_councils: bool,
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
                let scope = match (&rr.council, &rr.group, rr.all_councils) {
                    (Some(council), None, false) => {
                        Scope::Council(c.id(council, CouncilId::parse)?)
                    }
                    (None, Some(group), false) => Scope::Group(c.id(group, GroupId::parse)?),
                    (None, None, true) => Scope::AllCouncils,
                    _ => {
                        return Err(DefinitionError::at(
                            file_name,
                            text,
                            span.start,
                            "a role needs exactly one of council = \"...\", group = \"...\" \
                             or (for a reader) all_councils = true",
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
                    (Scope::AllCouncils, r) if r != Role::Reader => {
                        return Err(DefinitionError::at(
                            file_name,
                            text,
                            rr.role.span().start,
                            format!("only a reader is held across all councils, not {r}"),
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
                    Scope::AllCouncils => true,
                };
                if !known {
                    let what = match &assignment.scope {
                        Scope::Council(c) => format!("council '{c}'"),
                        Scope::Group(g) => format!("group '{g}'"),
                        Scope::AllCouncils => "every council".to_owned(),
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
