//! The tools integrators use work: the standard introspection query of graphql-js (what GraphiQL,
//! GraphQL Code Generator, Apollo Rover, Postman and Insomnia send) is answered, while deep data
//! queries stay refused; GraphiQL is served from assets built into the binary, naming no CDN.

use std::process::Command;

use serde_json::{json, Value};

use crate::support::*;

/// Runs `tests/js/introspection.mjs` (graphql-js, pinned in `tests/js/package.json`; `scripts/test`
/// installs it) against the server.
fn graphql_js_introspection(app: &TestApp, token: &str) -> Value {
    let script = repo_path("tests/js/introspection.mjs");
    assert!(
        repo_path("tests/js/node_modules/graphql").exists(),
        "graphql-js is not installed: run `npm ci --prefix tests/js` (scripts/test does)"
    );
    let out = Command::new("node")
        .arg(&script)
        .arg(app.graphql_url())
        .arg(token)
        .output()
        .expect("run node (scripts/test installs it where missing)");
    assert!(
        out.status.success(),
        "node {}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_js_s_standard_introspection_query_is_answered_and_builds_a_client_schema() {
    let app = spawn_app().await;
    let token = app.token("performance-dashboard").await;
    let answer = graphql_js_introspection(&app, &token);
    assert!(answer["errors"].is_null(), "{answer}");
    assert_eq!(answer["hasPlan"], true, "{answer}");
    let mutations: Vec<&str> = answer["mutations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(mutations.contains(&"signOff"), "{answer}");
}

/// `depth` levels of `field { ... }` around `leaf`.
fn nested(field: &str, depth: usize, leaf: &str) -> String {
    format!(
        "{}{leaf}{}",
        format!("{field} {{ ").repeat(depth),
        " }".repeat(depth)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_nests_of_type_freely_but_not_what_multiplies_and_data_keeps_its_limit() {
    let app = spawn_app().await;
    let token = app.token("ravi-patel").await;

    // Twenty `ofType` deep: one type's wrappers, a line each.
    let of_type = format!(
        "{{ __type(name: \"Plan\") {{ fields {{ type {{ {} }} }} }} }}",
        nested("ofType", 20, "name")
    );
    let response = app.graphql(&token, &of_type, json!({})).await;
    assert!(response["errors"].is_null(), "{response}");

    // Fields of the types of fields, thirteen deep: each level multiplies the answer.
    let multiplying = format!(
        "{{ __schema {{ types {{ {}name{} }} }} }}",
        "fields { type { ".repeat(6),
        " } }".repeat(6)
    );
    let response = app.graphql(&token, &multiplying, json!({})).await;
    let (code, message) = refusal(&response);
    assert_eq!(code, "BAD_INPUT", "{response}");
    assert!(message.contains("limit of 12"), "{message}");

    // Introspection beside data is a data query, held to the data limits.
    let mixed = format!(
        "{{ __typename me {{ {}id{} }} }}",
        "roles { council { groups { members { ".repeat(3),
        " } } } }".repeat(3)
    );
    let response = app.graphql(&token, &mixed, json!({})).await;
    let (code, message) = refusal(&response);
    assert_eq!(code, "BAD_INPUT", "{response}");
    assert!(message.contains("deeper than the limit of 12"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_served_from_the_binary_and_names_no_other_site() {
    let app = spawn_app().await;
    let page = reqwest::get(app.graphql_url()).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphql/assets/"))
        .collect();
    assert_eq!(
        assets.len(),
        6,
        "react, react-dom, GraphiQL's script and style, ours: {html}"
    );
    for asset in assets {
        let response = reqwest::get(format!("{}{asset}", app.address))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            kind.starts_with("text/javascript") || kind.starts_with("text/css"),
            "{asset}: {kind}"
        );
        let body = response.bytes().await.unwrap();
        assert!(!body.is_empty(), "{asset}");
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("unpkg.com/") && !text.contains("jsdelivr.net/"),
            "{asset} loads from a CDN"
        );
    }
    let missing = reqwest::get(format!("{}/graphql/assets/nope.js", app.address))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
