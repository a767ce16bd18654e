//! Workflow definitions: sections, stages and routes.

use std::sync::Arc;

use async_graphql::{Object, SimpleObject, ID};
use councilflow_governance::{self as gov};

use super::*;

// ---- workflows ----

/// A workflow definition, shared with the loaded set (they never change after loading).
pub struct WorkflowObject(pub Arc<gov::Workflow>);

#[Object(name = "Workflow", serial)]
impl WorkflowObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The outside body that sets the submission deadline, if not the council: only an
    /// extension it grants (`recordExtension`) moves that deadline.
    async fn submission_due_set_by(&self) -> Option<&str> {
        self.0.submission_due_set_by.as_deref()
    }
    async fn sections(&self) -> Vec<SectionDefinitionObject> {
        self.0
            .sections
            .iter()
            .cloned()
            .map(SectionDefinitionObject)
            .collect()
    }
    /// The default route; a council may follow another route of the same workflow.
    async fn stages(&self) -> Vec<StageDefinitionObject> {
        self.0
            .default_stages()
            .into_iter()
            .cloned()
            .map(StageDefinitionObject)
            .collect()
    }
    /// Every route of the workflow, each with its stages in order.
    async fn routes(&self) -> Vec<Route> {
        self.0
            .routes
            .iter()
            .map(|r| Route {
                id: ID(r.id.to_string()),
                title: r.title.clone(),
                stages: self
                    .0
                    .route_stages(&r.id)
                    .into_iter()
                    .cloned()
                    .map(StageDefinitionObject)
                    .collect(),
            })
            .collect()
    }
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Route {
    id: ID,
    title: String,
    stages: Vec<StageDefinitionObject>,
}

pub struct SectionDefinitionObject(pub gov::SectionDefinition);

#[Object(name = "SectionDefinition", serial)]
impl SectionDefinitionObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn theme(&self) -> Option<&str> {
        self.0.theme.as_deref()
    }
    async fn shared(&self) -> bool {
        self.0.shared
    }
}

pub struct StageDefinitionObject(pub gov::StageDefinition);

#[Object(name = "StageDefinition", serial)]
impl StageDefinitionObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn kind(&self) -> StageKindEnum {
        self.0.kind.into()
    }
    async fn required_roles(&self) -> Vec<String> {
        self.0.roles.iter().map(|r| r.as_str().to_owned()).collect()
    }
}
