//! Every limit refuses with `BAD_INPUT`, names the limit, and writes nothing; and a plan can be
//! read as it stood at an earlier time. In-process: the real service on a real sled folder,
//! the schema executed directly (the HTTP body limit is tested end to end).

mod common;

use async_graphql::{BatchRequest, BatchResponse, Request};
use councilflow_api::graphql::{self, limits, Schemas, Viewer};
use councilflow_api::Service;
use councilflow_governance::PersonId;
use serde_json::{json, Value};

struct TestService {
    schema: Schemas,
    service: Service,
    _dir: tempfile::TempDir,
}

async fn spawn_service() -> TestService {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::open(common::settings(dir.path())).await.unwrap();
    TestService {
        schema: graphql::build_schema(service.clone()),
        service,
        _dir: dir,
    }
}

impl TestService {
    async fn run_as(&self, person: &str, query: &str, variables: Value) -> Value {
        common::run_as(&self.schema, person, query, variables).await
    }

    async fn batch(&self, n: usize) -> Value {
        let requests = (0..n).map(|_| Request::new("{ me { id } }")).collect();
        let viewer = Viewer::Person(PersonId::parse("ravi-patel").unwrap());
        let response: BatchResponse =
            graphql::execute(&self.schema, BatchRequest::Batch(requests), viewer).await;
        serde_json::to_value(response).unwrap()
    }

    /// Starts a Stockport productivity plan as its drafter; the plan's id.
    async fn start_stockport_plan(&self) -> String {
        let started = self
            .run_as("ravi-patel", START, json!({ "c": ["stockport"] }))
            .await;
        started["data"]["startPlan"]["plan"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("a started plan: {started}"))
            .to_owned()
    }

    fn head(&self) -> u64 {
        self.service.ledger().head().position
    }
}

/// The first error's code and message.
fn refused(response: &Value) -> (String, String) {
    let error = &response["errors"][0];
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        error["message"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_nested_deeper_than_the_limit_is_refused_naming_the_limit() {
    let app = spawn_service().await;
    let mut query = String::from("{ councils { groups { members ");
    for _ in 0..limits::DEPTH {
        query.push_str("{ groups { members ");
    }
    query.push_str("{ id }");
    query.push_str(&" } }".repeat(limits::DEPTH + 1));
    query.push_str(" }");
    let (code, message) = refused(&app.run_as("ravi-patel", &query, json!({})).await);
    assert_eq!(code, "BAD_INPUT");
    assert!(message.contains(&limits::DEPTH.to_string()), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_aliases_are_refused_naming_the_limit() {
    let app = spawn_service().await;
    let fields: String = (0..=limits::ALIASES)
        .map(|i| format!("a{i}: me {{ id }} "))
        .collect();
    let (code, message) = refused(
        &app.run_as("ravi-patel", &format!("{{ {fields} }}"), json!({}))
            .await,
    );
    assert_eq!(code, "BAD_INPUT");
    assert!(
        message.contains(&format!("limit is {}", limits::ALIASES)),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_the_complexity_limit_is_refused_naming_the_limit() {
    let app = spawn_service().await;
    // 500 plans a page, each with its stages and their sign-offs' people: far over the limit.
    let query = "{ plans(first: 500) { edges { node { stages { signOffs { person { roles { role council { name groups { name } } } } } } } } } }";
    let (code, message) = refused(&app.run_as("ravi-patel", query, json!({})).await);
    assert_eq!(code, "BAD_INPUT");
    assert!(
        message.contains(&limits::COMPLEXITY.to_string()),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_the_limit_is_refused_and_one_within_it_answers_each() {
    let app = spawn_service().await;
    let (code, message) = refused(&app.batch(limits::BATCH + 1).await);
    assert_eq!(code, "BAD_INPUT");
    assert!(
        message.contains(&format!("at most {}", limits::BATCH)),
        "{message}"
    );
    let ok = app.batch(limits::BATCH).await;
    assert_eq!(ok.as_array().unwrap().len(), limits::BATCH);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_directives_on_a_field_are_refused() {
    let app = spawn_service().await;
    let directives = "@include(if: true) ".repeat(limits::DIRECTIVES_PER_FIELD + 1);
    let (code, message) = refused(
        &app.run_as(
            "ravi-patel",
            &format!("{{ me {directives} {{ id }} }}"),
            json!({}),
        )
        .await,
    );
    assert_eq!(code, "BAD_INPUT");
    assert!(
        message.contains(&limits::DIRECTIVES_PER_FIELD.to_string()),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_over_the_limit_is_refused_naming_the_limit() {
    let app = spawn_service().await;
    let query = format!(
        "{{ events(first: {}) {{ edges {{ cursor }} }} }}",
        limits::PAGE + 1
    );
    let (code, message) = refused(&app.run_as("ravi-patel", &query, json!({})).await);
    assert_eq!(code, "BAD_INPUT");
    assert!(message.contains(&limits::PAGE.to_string()), "{message}");
}

const START: &str = "mutation($c: [ID!]!) { startPlan(input: { workflow: \"productivity-plan-2024\", councils: $c }) { plan { id revision } } }";
const EDIT: &str = "mutation($p: ID!, $t: String!) { editSection(input: { planId: $p, sectionId: \"achievements\", text: $t }) { plan { revision } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_text_over_the_limit_is_refused_and_nothing_is_written() {
    let app = spawn_service().await;
    let plan = app.start_stockport_plan().await;
    let head = app.head();
    let text = "x".repeat(limits::SECTION_TEXT_BYTES + 1);
    let (code, message) = refused(
        &app.run_as("ravi-patel", EDIT, json!({ "p": plan, "t": text }))
            .await,
    );
    assert_eq!(code, "BAD_INPUT");
    assert!(
        message.contains(&limits::SECTION_TEXT_BYTES.to_string()),
        "{message}"
    );
    assert_eq!(app.head(), head);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_reads_as_it_stood_at_an_earlier_time() {
    let app = spawn_service().await;
    let plan = app.start_stockport_plan().await;
    app.run_as(
        "ravi-patel",
        EDIT,
        json!({ "p": plan, "t": "First draft." }),
    )
    .await;
    let between = chrono::Utc::now();
    // The ledger's clock has microsecond precision: step past `between` before the next write.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.run_as(
        "ravi-patel",
        EDIT,
        json!({ "p": plan, "t": "Second draft." }),
    )
    .await;

    let query = "query($p: ID!, $t: DateTime) { plan(id: $p, asOf: $t) { revision sections { id text } history { edges { node { kind } } } } }";
    let then = app
        .run_as(
            "ravi-patel",
            query,
            json!({ "p": plan, "t": between.to_rfc3339() }),
        )
        .await;
    let now = app
        .run_as("ravi-patel", query, json!({ "p": plan, "t": null }))
        .await;
    let text_of = |v: &Value| {
        v["data"]["plan"]["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "achievements")
            .unwrap()["text"]
            .clone()
    };
    assert_eq!(text_of(&then), "First draft.");
    assert_eq!(text_of(&now), "Second draft.");
    assert_eq!(then["data"]["plan"]["revision"], 1);
    assert_eq!(now["data"]["plan"]["revision"], 2);
    assert_eq!(
        then["data"]["plan"]["history"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        now["data"]["plan"]["history"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Before the plan existed, there is no plan.
    let before = app
        .run_as(
            "ravi-patel",
            query,
            json!({ "p": plan, "t": "2024-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(before["data"]["plan"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_already_validated_once_still_refuses_variables_of_the_wrong_type() {
    // Given a read document that has passed full validation (it then skips the document rules).
    let app = spawn_service().await;
    let query = "query($n: Int, $c: ID) { events(first: $n) { edges { cursor } } plans(council: $c) { edges { node { id } } } }";
    for _ in 0..2 {
        let ok = app
            .run_as("ravi-patel", query, json!({ "n": 2, "c": "stockport" }))
            .await;
        assert!(ok.get("errors").is_none(), "{ok}");
    }

    // When the same document comes with variables of the wrong types.
    let wrong = app
        .run_as("ravi-patel", query, json!({ "n": "two", "c": { "id": 1 } }))
        .await;

    // Then they are refused as bad input, as on first sight.
    let (code, message) = refused(&wrong);
    assert_eq!(code, "BAD_INPUT", "{wrong}");
    assert!(!message.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_is_validated_in_full_every_time() {
    // Given an edit document that has run cleanly.
    let app = spawn_service().await;
    let plan = app.start_stockport_plan().await;
    let edit = "mutation($i: EditSectionInput!) { editSection(input: $i) { plan { revision } } }";
    let ok = app
        .run_as(
            "ravi-patel",
            edit,
            json!({ "i": { "planId": plan, "sectionId": "achievements", "text": "First." } }),
        )
        .await;
    assert!(ok.get("errors").is_none(), "{ok}");
    let head = app.head();

    // When the same document comes with a misspelt field in its input (a mistyped
    // idempotency key must never be silently dropped).
    let typo = app
        .run_as(
            "ravi-patel",
            edit,
            json!({ "i": { "planId": plan, "sectionId": "achievements", "text": "Again.", "idempotencykey": "k-1" } }),
        )
        .await;

    // Then it is refused, and nothing is written.
    let (code, message) = refused(&typo);
    assert_eq!(code, "BAD_INPUT", "{typo}");
    assert!(message.contains("idempotencykey"), "{message}");
    assert_eq!(app.head(), head);
}
