//! People, councils and groups, and the shared sections groups write.

use std::sync::OnceLock;

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use councilflow_governance::{self as gov, CouncilId, GroupId, PersonId, ReadScope, Scope};

use super::super::{forbidden, read_scope, service, service_error};
use super::*;
use crate::service::ServiceError;

// ---- organisation ----

/// A record of the organisation that a response names by id: a person or a council.
pub trait OrgRecord: Clone {
    type Id: Clone;
    fn id(&self) -> &Self::Id;
    fn find<'o>(org: &'o gov::Organisation, id: &Self::Id) -> Option<&'o Self>;
    /// What shows for one named in a record but no longer in the organisation: the record is
    /// what was signed, so it still shows, by id.
    fn placeholder(id: &Self::Id) -> Self;
}

impl OrgRecord for gov::Person {
    type Id = PersonId;
    fn id(&self) -> &PersonId {
        &self.id
    }
    fn find<'o>(org: &'o gov::Organisation, id: &PersonId) -> Option<&'o gov::Person> {
        org.person(id)
    }
    fn placeholder(id: &PersonId) -> gov::Person {
        gov::Person {
            id: id.clone(),
            name: id.to_string(),
            email: gov::EmailAddress::parse("unknown@example.org").expect("a valid address"),
            roles: Default::default(),
        }
    }
}

impl OrgRecord for gov::Council {
    type Id = CouncilId;
    fn id(&self) -> &CouncilId {
        &self.id
    }
    fn find<'o>(org: &'o gov::Organisation, id: &CouncilId) -> Option<&'o gov::Council> {
        org.council(id)
    }
    fn placeholder(id: &CouncilId) -> gov::Council {
        gov::Council {
            id: id.clone(),
            name: id.to_string(),
            route: None,
        }
    }
}

/// A council or person in a response: its id, and its record, looked up once when a field
/// beyond the id needs it.
pub struct OnDemand<R: OrgRecord> {
    id: R::Id,
    record: OnceLock<R>,
}

impl<R: OrgRecord> OnDemand<R> {
    /// One whose record is at hand.
    pub(crate) fn of(record: R) -> Self {
        OnDemand {
            id: record.id().clone(),
            record: OnceLock::from(record),
        }
    }

    /// One named in a record, looked up on first use.
    pub(crate) fn named(id: &R::Id) -> Self {
        OnDemand {
            id: id.clone(),
            record: OnceLock::new(),
        }
    }

    fn record(&self, ctx: &Context<'_>) -> &R {
        self.record.get_or_init(|| {
            let state = service(ctx).read();
            match R::find(state.projections.organisation(), &self.id) {
                Some(record) => record.clone(),
                None => R::placeholder(&self.id),
            }
        })
    }
}

/// A person in a response (see [`OnDemand`]).
pub type PersonObject = OnDemand<gov::Person>;

impl OnDemand<gov::Person> {
    /// Whether `scope` reads this person's record.
    pub(crate) fn readable(&self, ctx: &Context<'_>, scope: &ReadScope) -> bool {
        scope.person(self.record(ctx))
    }
}

#[Object(name = "Person", serial)]
impl OnDemand<gov::Person> {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }
    async fn name(&self, ctx: &Context<'_>) -> &str {
        &self.record(ctx).name
    }
    /// Read by the person and by those holding a role where they do; FORBIDDEN for others
    /// (who see a name in a published plan's record, not an address).
    async fn email(&self, ctx: &Context<'_>) -> Result<String> {
        let scope = read_scope(ctx)?;
        if !self.readable(ctx, &scope) {
            return Err(forbidden(format!(
                "the email address of {} is read by those who work with them",
                self.record(ctx).name
            )));
        }
        Ok(self.record(ctx).email.to_string())
    }
    async fn roles(&self, ctx: &Context<'_>) -> Vec<RoleAssignmentObject> {
        self.record(ctx)
            .roles
            .iter()
            .map(|a| RoleAssignmentObject(a.clone()))
            .collect()
    }
}

pub struct RoleAssignmentObject(pub gov::RoleAssignment);

#[Object(name = "RoleAssignment", serial)]
impl RoleAssignmentObject {
    async fn role(&self) -> &str {
        self.0.role.as_str()
    }
    async fn council(&self, ctx: &Context<'_>) -> Option<CouncilObject> {
        match &self.0.scope {
            Scope::Council(id) => council(ctx, id),
            Scope::Group(_) | Scope::AllCouncils => None,
        }
    }
    async fn group(&self, ctx: &Context<'_>) -> Option<GroupObject> {
        match &self.0.scope {
            Scope::Group(id) => group(ctx, id),
            Scope::Council(_) | Scope::AllCouncils => None,
        }
    }
    /// True for a reader across every council (a regional body), an explicit assignment.
    async fn all_councils(&self) -> bool {
        self.0.scope == Scope::AllCouncils
    }
    /// True when this person acts as a deputy for the role (recorded on every act).
    async fn deputy(&self) -> bool {
        self.0.deputy
    }
}

/// The council, if it is in the organisation.
pub(crate) fn council(ctx: &Context<'_>, id: &CouncilId) -> Option<CouncilObject> {
    let state = service(ctx).read();
    state
        .projections
        .organisation()
        .council(id)
        .cloned()
        .map(CouncilObject::of)
}

pub(crate) fn group(ctx: &Context<'_>, id: &GroupId) -> Option<GroupObject> {
    let state = service(ctx).read();
    state
        .projections
        .organisation()
        .group(id)
        .cloned()
        .map(GroupObject)
}

/// The person, if they are in the organisation.
pub(crate) fn person(ctx: &Context<'_>, id: &PersonId) -> Option<PersonObject> {
    let state = service(ctx).read();
    state
        .projections
        .organisation()
        .person(id)
        .cloned()
        .map(PersonObject::of)
}

/// A council in a response (see [`OnDemand`]).
pub type CouncilObject = OnDemand<gov::Council>;

#[Object(name = "Council", serial)]
impl OnDemand<gov::Council> {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }
    async fn name(&self, ctx: &Context<'_>) -> &str {
        &self.record(ctx).name
    }
    /// The governance route this council follows by default.
    async fn route(&self, ctx: &Context<'_>) -> Option<String> {
        self.record(ctx).route.as_ref().map(|r| r.to_string())
    }
    async fn groups(&self, ctx: &Context<'_>) -> Vec<GroupObject> {
        let state = service(ctx).read();
        state
            .projections
            .organisation()
            .groups_of(&self.id)
            .into_iter()
            .cloned()
            .map(GroupObject)
            .collect()
    }
    #[graphql(complexity = "crate::graphql::page_complexity(first, 50, child_complexity)")]
    async fn plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<PlanConnection> {
        plan_connection(ctx, Some(&self.id), first, after)
    }
}

pub struct GroupObject(pub gov::Group);

#[Object(name = "Group", serial)]
impl GroupObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn members(&self) -> Vec<CouncilObject> {
        self.0.members.iter().map(CouncilObject::named).collect()
    }
    /// The sections the group writes; read by the group's people and the member councils'
    /// (empty for others).
    async fn shared_sections(&self, ctx: &Context<'_>) -> Result<Vec<SharedSectionObject>> {
        let scope = read_scope(ctx)?;
        let state = service(ctx).read();
        if !scope.shared_sections(state.projections.organisation(), &self.0.id) {
            return Ok(Vec::new());
        }
        Ok(state
            .projections
            .shared_sections_of_group(&self.0.id)
            .into_iter()
            .cloned()
            .map(SharedSectionObject)
            .collect())
    }
}

pub struct SharedSectionObject(pub gov::SharedSection);

#[Object(name = "SharedSection", serial)]
impl SharedSectionObject {
    async fn id(&self) -> ID {
        ID(self.0.section.to_string())
    }
    async fn group(&self, ctx: &Context<'_>) -> Result<GroupObject> {
        group(ctx, &self.0.group).ok_or_else(|| service_error(ServiceError::Internal))
    }
    async fn text(&self) -> &str {
        self.0.text()
    }
    async fn revision(&self) -> i32 {
        int(self.0.revision())
    }
    /// The revision every member council agreed, if any.
    async fn agreed_revision(&self) -> Option<i32> {
        self.0.agreed_revision().map(int)
    }
    /// Member councils that agreed the current revision.
    async fn agreed_by(&self) -> Vec<CouncilObject> {
        self.0
            .agreed_by()
            .iter()
            .map(CouncilObject::named)
            .collect()
    }
    /// Member councils whose chief executive has not agreed the current revision.
    async fn waiting_on(&self) -> Vec<CouncilObject> {
        self.0
            .waiting_on()
            .iter()
            .map(CouncilObject::named)
            .collect()
    }
    /// The member councils' plans that take this section, each with its status and the
    /// revision it adopted: how far each has got, for the group, whose people do not read the
    /// members' drafts.
    async fn adoptions(&self, ctx: &Context<'_>) -> Vec<AdoptionObject> {
        let state = service(ctx).read();
        let projections = &state.projections;
        let org = projections.organisation();
        let (group, section) = (&self.0.group, &self.0.section);
        projections
            .plans()
            .filter(|p| {
                org.supplier_of(&p.workflow, section, &p.councils)
                    .is_some_and(|g| &g.id == group)
            })
            .filter_map(|p| {
                let workflow = projections.workflows().get(&p.workflow)?;
                Some(AdoptionObject {
                    plan: ID(p.id.to_string()),
                    title: p.title.clone(),
                    councils: p.councils.iter().map(CouncilObject::named).collect(),
                    status: p.status(workflow).into(),
                    adopted_revision: p
                        .sections
                        .iter()
                        .find(|s| &s.id == section)
                        .and_then(|s| s.adopted_revision)
                        .map(int),
                })
            })
            .collect()
    }
}

/// A member's plan that takes a group's shared section: what the group reads of it.
#[derive(SimpleObject)]
#[graphql(name = "Adoption", serial)]
pub struct AdoptionObject {
    /// The plan's id (the plan itself is read by its councils, or once published).
    plan: ID,
    title: String,
    councils: Vec<CouncilObject>,
    status: PlanStatusEnum,
    /// The revision of the shared text the plan adopted; null until it adopts one.
    adopted_revision: Option<i32>,
}
