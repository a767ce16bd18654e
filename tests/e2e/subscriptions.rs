//! `planEvents` and `events` over graphql-transport-ws: a subscriber sees a plan's events as they
//! commit, in order, without gaps, and only that plan's; the feed misses no new plan.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::ws::{Incoming, WsClient};
use crate::support::*;

const STOCKPORT: &str = "stockport";

/// Edits `achievements` until the subscription delivers its first event (the subscription starts
/// asynchronously after `subscribe`, and the protocol has no acknowledgement for it). Returns the
/// first event delivered.
async fn first_delivery(app: &TestApp, ws: &mut WsClient, plan_id: &str) -> Value {
    for attempt in 0..30 {
        app.act(
            "ravi-patel",
            "editSection",
            json!({ "planId": plan_id, "sectionId": "achievements", "text": format!("Warm-up {attempt}.") }),
        )
        .await;
        if let Some(data) = ws.next_data(Duration::from_secs(2)).await {
            return data["planEvents"].clone();
        }
    }
    panic!("the subscription delivered nothing after 30 edits");
}

/// Reads deliveries until one with id `last` arrives; returns them all (including `last`).
async fn read_until(ws: &mut WsClient, last: &str, seen: &mut Vec<Value>) {
    while seen.last().is_none_or(|e| e["id"] != last) {
        match ws.next_data(Duration::from_secs(30)).await {
            Some(data) => seen.push(data["planEvents"].clone()),
            None => panic!(
                "event {last} was never delivered; delivered so far: {:?}",
                seen.iter()
                    .map(|e| (&e["version"], &e["kind"]))
                    .collect::<Vec<_>>()
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_sees_the_plans_events_live_in_order_and_without_gaps() {
    let app = spawn_app().await;
    let plan_id = app.start_plan("ravi-patel", &[STOCKPORT]).await;
    let token = app.token("regional-dashboard").await;
    let mut ws = app.subscribe_plan_events(&token, &plan_id).await;
    let mut seen = vec![first_delivery(&app, &mut ws, &plan_id).await];

    let mut written: Vec<Value> = Vec::new();
    for (person, mutation, input) in [
        (
            "ravi-patel",
            "editSection",
            json!({ "planId": plan_id, "sectionId": "transforming-services", "text": "Digital front door." }),
        ),
        (
            "ravi-patel",
            "editSection",
            json!({ "planId": plan_id, "sectionId": "technology-and-data", "text": "One data platform." }),
        ),
        (
            "maria-costa",
            "signOff",
            json!({ "planId": plan_id, "stageId": "member-oversight", "role": "portfolio-holder" }),
        ),
        (
            "kwame-mensah",
            "signOff",
            json!({ "planId": plan_id, "stageId": "member-oversight", "role": "s151-officer" }),
        ),
        ("joe-sutton", "submitPlan", json!({ "planId": plan_id })),
    ] {
        let payload = app.act(person, mutation, input).await;
        written.extend(payload["events"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(written.len(), 5);
    let last = written.last().unwrap()["id"].as_str().unwrap().to_owned();
    read_until(&mut ws, &last, &mut seen).await;

    for e in &seen {
        assert_eq!(
            e["stream"], seen[0]["stream"],
            "only this plan's stream: {e}"
        );
    }
    let versions: Vec<i64> = seen
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert!(
        versions.windows(2).all(|w| w[1] == w[0] + 1),
        "delivered in order, each once, without gaps: {versions:?}"
    );
    let delivered_ids: Vec<&str> = seen.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let written_ids: Vec<&str> = written.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(
        &delivered_ids[delivered_ids.len() - written_ids.len()..],
        written_ids.as_slice(),
        "the live events are the ones the mutations wrote, in the order they were written"
    );
    assert_eq!(
        kinds(&seen[seen.len() - 5..]),
        [
            "SectionEdited",
            "SectionEdited",
            "SignedOff",
            "SignedOff",
            "PlanSubmitted"
        ]
    );

    // What was delivered is what the history holds.
    let history = app.history("ravi-patel", &plan_id).await;
    let first_version = versions[0];
    let matching: Vec<&Value> = history
        .iter()
        .filter(|e| e["version"].as_i64().unwrap() >= first_version)
        .collect();
    assert_eq!(matching.len(), seen.len());
    for (h, s) in matching.iter().zip(&seen) {
        assert_eq!(h["id"], s["id"]);
        assert_eq!(h["kind"], s["kind"]);
        assert_eq!(h["position"], s["position"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_sees_only_the_plan_it_subscribed_to() {
    let app = spawn_app().await;
    let watched = app.start_plan("ravi-patel", &[STOCKPORT]).await;
    let other = app.start_plan("ravi-patel", &[STOCKPORT]).await;
    let token = app.token("regional-dashboard").await;
    let mut ws = app.subscribe_plan_events(&token, &watched).await;
    let mut seen = vec![first_delivery(&app, &mut ws, &watched).await];

    for i in 0..3 {
        app.act(
            "ravi-patel",
            "editSection",
            json!({ "planId": other, "sectionId": "achievements", "text": format!("Other plan {i}.") }),
        )
        .await;
    }
    let marker = app
        .act(
            "ravi-patel",
            "editSection",
            json!({ "planId": watched, "sectionId": "measuring-delivery", "text": "Marker." }),
        )
        .await;
    let marker_id = marker["events"][0]["id"].as_str().unwrap().to_owned();
    read_until(&mut ws, &marker_id, &mut seen).await;

    let other_ids: Vec<String> = app
        .history("ravi-patel", &other)
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    for e in &seen {
        assert!(
            !other_ids.contains(&e["id"].as_str().unwrap().to_owned()),
            "an event of the other plan was delivered: {e}"
        );
        assert_eq!(e["stream"], seen[0]["stream"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_with_a_bad_token_delivers_nothing() {
    let app = spawn_app().await;
    let plan_id = app.start_plan("ravi-patel", &[STOCKPORT]).await;
    let mut ws = WsClient::connect(&app, Some("not-a-token")).await;
    ws.subscribe(
        "1",
        "subscription($planId: ID!) { planEvents(planId: $planId) { id kind } }",
        json!({ "planId": plan_id }),
    )
    .await;
    for i in 0..3 {
        app.act(
            "ravi-patel",
            "editSection",
            json!({ "planId": plan_id, "sectionId": "achievements", "text": format!("Edit {i}.") }),
        )
        .await;
    }
    let mut refused = false;
    loop {
        match ws.recv(Duration::from_secs(5)).await {
            Incoming::Nothing => break,
            Incoming::Closed(_) => {
                refused = true;
                break;
            }
            Incoming::Message(m) => match m["type"].as_str() {
                Some("next") => {
                    let errors = m["payload"]["errors"].clone();
                    assert!(
                        errors.is_array() && m["payload"]["data"].is_null(),
                        "a bad token received an event: {m}"
                    );
                    refused = true;
                }
                Some("error") | Some("connection_error") | Some("complete") => refused = true,
                _ => {}
            },
        }
    }
    assert!(
        refused,
        "the server neither closed the socket nor answered with an error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_delivers_the_first_event_of_a_plan_started_after_subscribing() {
    // The feed judges each event against the plans it names: a plan's first event must be
    // judged once the plan exists, not skipped as a plan no one reads.
    let app = spawn_app().await;
    let token = app.token("ravi-patel").await;
    let mut ws = WsClient::connect(&app, Some(&token)).await;
    ws.expect_ack().await;
    ws.subscribe("1", "subscription { events { kind stream } }", json!({}))
        .await;
    for _ in 0..30 {
        app.start_plan("ravi-patel", &[STOCKPORT]).await;
        if let Some(data) = ws.next_data(Duration::from_secs(2)).await {
            assert_eq!(data["events"]["kind"], "PlanStarted", "{data}");
            return;
        }
    }
    panic!("the feed delivered none of 30 new plans' first events");
}
