//! What a person may read. A plan is internal to its councils until it is published: its drafts,
//! its history, its reminders and the people who work on it are read by those who hold a role at
//! one of its councils. Everything else follows from where a person's roles are held:
//!
//! - a role at a council (a `reader` too) reads that council's plans, drafts included, and the
//!   people who hold roles there;
//! - a role at a group reads the group's shared sections, how far each member's plan has got with
//!   them (the status, not the drafts), and the group's people; anyone at a member council reads
//!   the group's shared sections too, since their council agrees and adopts them;
//! - a published plan is read by anyone signed in: the plan as published and its record of
//!   approvals, not its earlier drafts;
//! - a `reader` across every council (a regional body) reads everything, but only when assigned
//!   so explicitly (`Scope::AllCouncils`): it is never the default.
//!
//! Outside what one may read, a plan does not exist: the API answers exactly as for an unknown
//! id, and an act on it is refused as `NOT_FOUND`.

use std::collections::BTreeSet;

use crate::ids::{CouncilId, GroupId, PersonId};
use crate::organisation::{Organisation, Person, Scope};
use crate::plan::Plan;

/// How much of a plan a person reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanAccess {
    /// Holds a role at one of its councils (or reads every council): the plan, its history,
    /// its earlier states and its reminders.
    Full,
    /// Published: the plan as it is now and its record of approvals.
    Published,
}

/// Where one person's reading reaches, worked out from their roles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadScope {
    person: Option<PersonId>,
    everything: bool,
    councils: BTreeSet<CouncilId>,
    groups: BTreeSet<GroupId>,
}

impl ReadScope {
    /// What `person` reads now. Someone unknown to the organisation reads only published plans.
    pub fn of(org: &Organisation, person: &PersonId) -> ReadScope {
        let mut scope = ReadScope {
            person: Some(person.clone()),
            ..ReadScope::default()
        };
        for assignment in org.person(person).map(|p| &p.roles).into_iter().flatten() {
            match &assignment.scope {
                Scope::Council(c) => {
                    scope.councils.insert(c.clone());
                }
                Scope::Group(g) => {
                    scope.groups.insert(g.clone());
                }
                Scope::AllCouncils => scope.everything = true,
            }
        }
        scope
    }

    /// Reads everything: the server's own tasks and the operator's command line.
    pub fn everything() -> ReadScope {
        ReadScope {
            everything: true,
            ..ReadScope::default()
        }
    }

    /// Reads every council's plans and people (a regional body, or the server itself).
    pub fn reads_everything(&self) -> bool {
        self.everything
    }

    /// Reads the council's drafts and people.
    pub fn council(&self, council: &CouncilId) -> bool {
        self.everything || self.councils.contains(council)
    }

    /// Holds a role at the group (or reads everything).
    pub fn group(&self, group: &GroupId) -> bool {
        self.everything || self.groups.contains(group)
    }

    /// How much of `plan` this person reads, or `None`: then it does not exist for them.
    pub fn plan(&self, plan: &Plan) -> Option<PlanAccess> {
        if plan.councils.iter().any(|c| self.council(c)) {
            Some(PlanAccess::Full)
        } else if plan.publication.is_some() {
            Some(PlanAccess::Published)
        } else {
            None
        }
    }

    /// Reads the plan's drafts, history, earlier states and reminders.
    pub fn plan_fully(&self, plan: &Plan) -> bool {
        self.plan(plan) == Some(PlanAccess::Full)
    }

    /// Reads the group's shared sections: a role at the group, or at one of its members.
    pub fn shared_sections(&self, org: &Organisation, group: &GroupId) -> bool {
        self.group(group)
            || org
                .group(group)
                .is_some_and(|g| g.members.iter().any(|c| self.council(c)))
    }

    /// Reads the person's record (their email address among it): themselves, or someone
    /// holding a role where this person does.
    pub fn person(&self, person: &Person) -> bool {
        self.everything
            || self.person.as_ref() == Some(&person.id)
            || person.roles.iter().any(|a| match &a.scope {
                Scope::Council(c) => self.councils.contains(c),
                Scope::Group(g) => self.groups.contains(g),
                Scope::AllCouncils => false,
            })
    }
}
