//! Tokens and roles: no token or a bad one is UNAUTHENTICATED; a valid token reads; a write needs
//! the role the route asks for, and a refused write leaves the ledger untouched.

use serde_json::{json, Value};

use crate::support::*;

/// The id and count of the events feed: if a refused write had appended anything, this changes.
async fn feed_head(app: &TestApp) -> (usize, Value) {
    let events = app.all_events("regional-dashboard").await;
    let last = events.last().cloned().unwrap_or(Value::Null);
    (events.len(), last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_token_is_unauthenticated_and_writes_nothing() {
    let app = spawn_app().await;
    let before = feed_head(&app).await;

    let response = app
        .graphql_without_token("query { me { id } }", json!({}))
        .await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    assert!(
        response["data"].is_null() || response["data"]["me"].is_null(),
        "{response}"
    );

    let response = app
        .graphql_without_token(
            &plan_mutation("startPlan"),
            json!({ "input": { "workflow": WORKFLOW, "councils": ["stockport"] } }),
        )
        .await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    assert_eq!(feed_head(&app).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_made_up_token_is_unauthenticated() {
    let app = spawn_app().await;
    let real = app.token("ravi-patel").await;
    for bad in ["not-a-token".to_owned(), format!("{real}x"), String::new()] {
        let response = app.graphql(&bad, "query { me { id } }", json!({})).await;
        assert_eq!(
            error_code(&response),
            "UNAUTHENTICATED",
            "token {bad:?}: {response}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_the_cli_reads_as_its_person() {
    let app = spawn_app().await;
    let response = app
        .graphql_as(
            "priya-holloway",
            "query { me { id name roles { role council { id } group { id } } } }",
            json!({}),
        )
        .await;
    let me = &ok(&response)["me"];
    assert_eq!(me["id"], "priya-holloway");
    assert_eq!(me["name"], "Priya Holloway");
    let mut roles: Vec<(String, String)> = me["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap().to_owned(),
                r["council"]["id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("chief-executive".to_owned(), "high-peak".to_owned()),
            (
                "chief-executive".to_owned(),
                "staffordshire-moorlands".to_owned()
            )
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_token_reads_plans_but_cannot_write() {
    let app = spawn_app().await;
    let plan_id = app.start_plan("amy-reid", &["ashfield"]).await;
    let before = feed_head(&app).await;

    let plan = app.plan("performance-dashboard", &plan_id).await;
    assert_eq!(plan["id"], plan_id.as_str(), "a reader reads the plan");
    let plans = app
        .graphql_as(
            "performance-dashboard",
            "query { plans(council: \"ashfield\") { edges { node { id status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ok(&plans)["plans"]["edges"][0]["node"]["id"],
        plan_id.as_str()
    );

    let attempts = [
        (
            "startPlan",
            json!({ "workflow": WORKFLOW, "councils": ["ashfield"] }),
        ),
        (
            "editSection",
            json!({ "planId": plan_id, "sectionId": "achievements", "text": "Dashboard text." }),
        ),
        (
            "recordExtension",
            json!({
                "planId": plan_id,
                "due": "2099-01-01T00:00:00Z",
                "grantedBy": "the department",
                "grantedOn": "2024-07-05",
                "reference": "letter",
            }),
        ),
        ("submitPlan", json!({ "planId": plan_id })),
    ];
    for (mutation, input) in attempts {
        let (code, message) = app.refused("performance-dashboard", mutation, input).await;
        assert_eq!(code, "FORBIDDEN", "{mutation}: {message}");
    }
    assert_eq!(
        feed_head(&app).await,
        before,
        "the reader's attempts wrote nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_off_by_someone_without_the_role_is_forbidden_and_writes_nothing() {
    let app = spawn_app().await;
    let plan_id = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &plan_id).await;
    let before = feed_head(&app).await;
    let history = app.history("ravi-patel", &plan_id).await;

    // The drafter is not the portfolio holder.
    let (code, _) = app
        .refused(
            "ravi-patel",
            "signOff",
            json!({ "planId": plan_id, "stageId": "member-oversight", "role": "portfolio-holder" }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    // Derbyshire Dales' S151 officer is not Stockport's: to her the draft does not exist.
    let (code, _) = app
        .refused(
            "claire-fenwick",
            "signOff",
            json!({ "planId": plan_id, "stageId": "member-oversight", "role": "s151-officer" }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    // Naming Stockport does not make her its S151 officer.
    let (code, _) = app
        .refused(
            "claire-fenwick",
            "signOff",
            json!({ "planId": plan_id, "stageId": "member-oversight", "role": "s151-officer", "council": "stockport" }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    // A submitter cannot record a committee decision.
    let (code, _) = app
        .refused(
            "joe-sutton",
            "recordCommitteeDecision",
            json!({ "planId": plan_id, "council": "stockport", "committee": "Cabinet", "meetingDate": "2024-07-18", "decision": "APPROVED", "minuteReference": "CAB/1" }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");

    assert_eq!(
        feed_head(&app).await,
        before,
        "the events feed is unchanged"
    );
    assert_eq!(app.history("ravi-patel", &plan_id).await, history);
    let plan = app.plan("ravi-patel", &plan_id).await;
    assert_eq!(
        stage(&plan, "member-oversight")["signOffs"],
        json!([]),
        "no sign-off recorded"
    );
}
