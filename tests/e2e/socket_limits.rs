//! GraphQL over WebSocket goes through the same door as POST: the same limits and error codes for
//! every operation on the socket, a cap on message size, on subscriptions per connection and on
//! connections per token.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::ws::{Incoming, WsClient};
use crate::support::*;

/// The payload of the `next` message for operation `id`.
async fn answer(ws: &mut WsClient, id: &str) -> Value {
    loop {
        match ws.recv(Duration::from_secs(30)).await {
            Incoming::Message(m) if m["id"] == id && m["type"] == "next" => {
                return m["payload"].clone()
            }
            Incoming::Message(_) => continue,
            other => panic!("operation {id}: expected an answer, got {other:?}"),
        }
    }
}

async fn connected(app: &TestApp, token: &str) -> WsClient {
    let mut ws = WsClient::connect(app, Some(token)).await;
    ws.expect_ack().await;
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_and_mutations_on_the_socket_are_refused_as_over_post_with_codes() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let head = app.head_cursor().await;
    let token = app.token("performance-dashboard").await;
    let mut ws = connected(&app, &token).await;

    let aliases: String = (0..5_000).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let deep = format!(
        "{{ me {} }}",
        "{ roles { council { groups { members ".repeat(4) + &"} } } } ".repeat(4)
    );
    let cases = [
        (
            "aliases",
            format!("{{ {aliases} }}"),
            "aliases; the limit is 30",
        ),
        ("syntax", "query {".to_owned(), ""),
        ("depth", deep, "nested deeper than the limit of 12"),
    ];
    for (id, query, says) in &cases {
        ws.subscribe(id, query, json!({})).await;
        let payload = answer(&mut ws, id).await;
        let error = &payload["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_INPUT", "{id}: {payload}");
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{id}: {payload}"
        );
    }

    // A reader's mutation over the socket: FORBIDDEN, as over POST (a reader never writes), and
    // nothing written.
    ws.subscribe(
        "write",
        "mutation($p: ID!) { editSection(input: { planId: $p, sectionId: \"achievements\", text: \"No.\" }) { plan { id } } }",
        json!({ "p": plan }),
    )
    .await;
    let payload = answer(&mut ws, "write").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{payload}"
    );
    assert!(app.events_after(&head).await.is_empty(), "nothing written");

    // And a good query is answered.
    ws.subscribe("me", "{ me { id } }", json!({})).await;
    assert_eq!(
        answer(&mut ws, "me").await["data"]["me"]["id"],
        "performance-dashboard"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_closes_the_socket() {
    let app = spawn_app().await;
    let token = app.token("ravi-patel").await;
    let mut ws = connected(&app, &token).await;
    let huge = "x".repeat(300 * 1024);
    ws.subscribe("huge", &format!("{{ me {{ id }} }} # {huge}"), json!({}))
        .await;
    match ws.recv(Duration::from_secs(30)).await {
        Incoming::Closed(Some((code, _))) => assert_eq!(code, 1009, "message too big"),
        Incoming::Closed(None) => {}
        other => panic!("expected the socket closed, got {other:?}"),
    }
    // The server carries on.
    let me = app.graphql(&token, "{ me { id } }", json!({})).await;
    assert_eq!(ok(&me)["me"]["id"], "ravi-patel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_runs_at_most_sixteen_subscriptions_at_once() {
    let app = spawn_app().await;
    let token = app.token("ravi-patel").await;
    let mut ws = connected(&app, &token).await;
    let feed = "subscription { events { id } }";
    for i in 0..16 {
        ws.subscribe(&format!("s{i}"), feed, json!({})).await;
    }
    ws.subscribe("s16", feed, json!({})).await;
    let payload = answer(&mut ws, "s16").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "BAD_INPUT",
        "{payload}"
    );
    assert!(
        payload["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 16 subscriptions"),
        "{payload}"
    );

    // Stopping one makes room for another, which then delivers.
    ws.send(json!({ "id": "s0", "type": "complete" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws.subscribe("again", feed, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.start_plan("ravi-patel", &["stockport"]).await;
    let payload = answer(&mut ws, "again").await;
    assert!(payload["errors"].is_null(), "{payload}");
    assert!(payload["data"]["events"]["id"].is_string(), "{payload}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_holds_at_most_eight_connections_at_once() {
    let app = spawn_app().await;
    let token = app.token("ravi-patel").await;
    let mut open = Vec::new();
    for _ in 0..8 {
        open.push(connected(&app, &token).await);
    }
    let mut ninth = WsClient::connect(&app, Some(&token)).await;
    match ninth.recv(Duration::from_secs(30)).await {
        Incoming::Closed(Some((_, reason))) => {
            assert!(reason.contains("8 connections open"), "{reason}")
        }
        other => panic!("expected the ninth connection closed, got {other:?}"),
    }
    // Another token of the same person is counted on its own.
    let other = councilflow_api::TokenStore::new(app.data_dir())
        .issue(&"ravi-patel".parse().unwrap())
        .unwrap();
    connected(&app, &other).await;

    // Closing one makes room, once the server has seen it close (it counts the socket until its
    // side of the connection has ended).
    open.pop().unwrap().close().await;
    let guard = std::time::Instant::now() + Duration::from_secs(30);
    let mut again = loop {
        let mut ws = WsClient::connect(&app, Some(&token)).await;
        match ws.recv(Duration::from_secs(30)).await {
            Incoming::Message(m) if m["type"] == "connection_ack" => break ws,
            Incoming::Closed(Some((_, reason))) if reason.contains("connections open") => {
                assert!(
                    std::time::Instant::now() < guard,
                    "the closed socket was never freed"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("expected an ack, got {other:?}"),
        }
    };
    again.subscribe("me", "{ me { id } }", json!({})).await;
    assert_eq!(
        answer(&mut again, "me").await["data"]["me"]["id"],
        "ravi-patel"
    );
}
