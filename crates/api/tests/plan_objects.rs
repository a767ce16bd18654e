//! A plan's nested objects read from the plan they belong to: stages, sections, requirements and
//! sign-offs are views into one shared plan object, and a council or person in them is looked up
//! only when a field other than its id is asked for. These tests pin what that must still
//! answer. In-process: the real service on a real sled folder, the schema executed directly.

mod common;

use councilflow_api::graphql::{self, Schemas};
use councilflow_api::Service;
use serde_json::{json, Value};

/// [`common::run_as`], which must answer without errors.
async fn run_as(schema: &Schemas, person: &str, query: &str, variables: Value) -> Value {
    let response = common::run_as(schema, person, query, variables).await;
    assert!(response.get("errors").is_none(), "no errors: {response}");
    response
}

const PLAN: &str = "query($id: ID!) { plan(id: $id) {
    currentStage { id title signOffs { person { id name } } }
    stages { id title status
        requirements { role satisfied council { id name route } }
        signOffs { role planRevision stale person { id name email roles { role council { id } } } council { id name } } }
    sections { id title revision text }
    workflow { id }
} }";

#[tokio::test]
async fn a_signed_stage_names_its_signer_and_councils_in_full_and_the_current_stage_is_the_same_stage(
) {
    // Given a Stockport plan with one section written, signed off for member oversight by its
    // S151 officer (the portfolio holder has not signed yet)
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(common::settings(dir.path())).await.unwrap();
    let schema = graphql::build_schema(service.clone());
    run_as(
        &schema,
        "ravi-patel",
        "mutation { startPlan(input: {workflow: \"productivity-plan-2024\", councils: [\"stockport\"], id: \"objects\"}) { plan { id } } }",
        json!({}),
    )
    .await;
    run_as(
        &schema,
        "ravi-patel",
        "mutation { editSection(input: {planId: \"objects\", sectionId: \"barriers\", text: \"Ring-fenced grants.\"}) { plan { id } } }",
        json!({}),
    )
    .await;
    run_as(
        &schema,
        "kwame-mensah",
        // The revision after the one edit above.
        "mutation { signOff(input: {planId: \"objects\", stageId: \"member-oversight\", role: \"s151-officer\", expectedRevision: 1}) { plan { id } } }",
        json!({}),
    )
    .await;

    // When the plan is read with every nested object
    let read = run_as(&schema, "ravi-patel", PLAN, json!({ "id": "objects" })).await;
    let plan = &read["data"]["plan"];

    // Then the signed stage names its signer in full, at the revision signed
    let stages = plan["stages"].as_array().unwrap();
    let oversight = &stages[0];
    assert_eq!(oversight["id"], "member-oversight");
    assert_eq!(oversight["status"], "OPEN");
    let sign_off = &oversight["signOffs"][0];
    assert_eq!(sign_off["role"], "s151-officer");
    assert_eq!(sign_off["planRevision"], 1);
    assert_eq!(sign_off["stale"], false);
    assert_eq!(sign_off["person"]["name"], "Kwame Mensah");
    assert_eq!(sign_off["person"]["email"], "kwame.mensah@example.org");
    assert_eq!(
        sign_off["person"]["roles"],
        json!([{ "role": "s151-officer", "council": { "id": "stockport" } }])
    );
    assert_eq!(
        sign_off["council"],
        json!({ "id": "stockport", "name": "Stockport Metropolitan Borough Council" })
    );
    // ... each requirement names its council and its route
    let stockport = json!({ "id": "stockport", "name": "Stockport Metropolitan Borough Council",
        "route": "portfolio-holder" });
    assert_eq!(
        oversight["requirements"],
        json!([
            { "role": "portfolio-holder", "satisfied": false, "council": stockport },
            { "role": "s151-officer", "satisfied": true, "council": stockport },
        ])
    );
    // ... the current stage is the open one, with the same sign-off
    let current = &plan["currentStage"];
    assert_eq!(current["id"], "member-oversight");
    assert_eq!(current["title"], oversight["title"]);
    assert_eq!(
        current["signOffs"],
        json!([{ "person": { "id": "kwame-mensah", "name": "Kwame Mensah" } }])
    );
    // ... and sections take their titles from the workflow, in the workflow's order
    let sections = plan["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 6);
    assert_eq!(sections[0]["title"], "What we have already achieved");
    let barriers = sections.iter().find(|s| s["id"] == "barriers").unwrap();
    assert_eq!(
        barriers["title"],
        "Barriers government can reduce or remove"
    );
    assert_eq!(barriers["text"], "Ring-fenced grants.");
    assert_eq!(barriers["revision"], 1);
    assert_eq!(plan["workflow"]["id"], "productivity-plan-2024");
    service.close().await;
}

#[tokio::test]
async fn the_workflows_query_lists_every_shipped_workflow_with_its_default_route_in_order() {
    // Given a service over the shipped workflows
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(common::settings(dir.path())).await.unwrap();
    let schema = graphql::build_schema(service.clone());

    // When the workflows are listed
    let read = run_as(
        &schema,
        "ravi-patel",
        "{ workflows { id stages { id } sections { id } } }",
        json!({}),
    )
    .await;

    // Then each is there, by id order, with its sections and the stages of its default route
    // (`default_route = "committee"` for the productivity plan) as the files define them
    let workflows = read["data"]["workflows"].as_array().unwrap();
    let ids: Vec<&str> = workflows
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["peer-challenge-action-plan", "productivity-plan-2024"]
    );
    let productivity = &workflows[1];
    let stages: Vec<&str> = productivity["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "leadership-team",
            "report-authorisation",
            "committee-approval",
            "submission",
            "publication"
        ]
    );
    assert_eq!(productivity["sections"].as_array().unwrap().len(), 6);
    assert_eq!(workflows[0]["sections"][0]["id"], "overview");
    service.close().await;
}
