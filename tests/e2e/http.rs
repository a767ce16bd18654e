//! The HTTP surface around GraphQL: health, batches, and bad requests that change nothing.

use serde_json::{json, Value};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_endpoint_answers_ok() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/healthz", app.address))
        .await
        .expect("GET /healthz");
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_queries_is_answered_in_order() {
    let app = spawn_app().await;
    let token = app.token("fiona-grant").await;
    let response = reqwest::Client::new()
        .post(app.graphql_url())
        .header("Authorization", format!("Bearer {token}"))
        .json(&json!([
            { "query": "query { me { id } }" },
            { "query": "query($id: ID!) { council(id: $id) { id name } }", "variables": { "id": "stockport" } },
        ]))
        .send()
        .await
        .expect("POST a batch");
    let body: Value = response.json().await.expect("a JSON answer");
    let answers = body
        .as_array()
        .unwrap_or_else(|| panic!("an array: {body}"));
    assert_eq!(answers.len(), 2);
    assert_eq!(ok(&answers[0])["me"]["id"], "fiona-grant");
    assert_eq!(
        ok(&answers[1])["council"]["name"],
        "Stockport Metropolitan Borough Council"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_an_error_and_change_nothing() {
    let app = spawn_app().await;
    let token = app.token("ravi-patel").await;
    let before = app.all_events("regional-dashboard").await.len();

    let response = app
        .graphql(&token, "mutation { startPlan(", json!({}))
        .await;
    assert!(response["errors"].is_array(), "a syntax error: {response}");

    let response = app
        .graphql(
            &token,
            &plan_mutation("startPlan"),
            json!({ "input": { "workflow": WORKFLOW, "councils": "stockport" , "title": 7 } }),
        )
        .await;
    assert!(response["errors"].is_array(), "wrong types: {response}");

    let (code, _) = app
        .refused(
            "ravi-patel",
            "startPlan",
            json!({ "workflow": "no-such-workflow", "councils": ["stockport"] }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");

    let raw = reqwest::Client::new()
        .post(app.graphql_url())
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body("{ this is not json")
        .send()
        .await
        .expect("POST broken JSON");
    assert!(
        raw.status().is_client_error() || raw.status() == 200,
        "broken JSON is the client's fault, not a server error: {}",
        raw.status()
    );

    assert_eq!(app.all_events("regional-dashboard").await.len(), before);
    let response = app.graphql(&token, "query { me { id } }", json!({})).await;
    assert_eq!(
        ok(&response)["me"]["id"],
        "ravi-patel",
        "the server still answers"
    );
}
