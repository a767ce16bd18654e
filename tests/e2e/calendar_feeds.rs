//! No bearer token in an address: a calendar app gets a feed token that reads one council's
//! calendar and nothing else, and can be revoked alone; pages take the bearer token from the
//! `Authorization` header only; private responses are not stored by browsers or proxies.

use serde_json::{json, Value};

use crate::support::*;

async fn get(app: &TestApp, address: &str) -> reqwest::Response {
    reqwest::get(format!("{}{address}", app.address))
        .await
        .unwrap()
}

async fn feeds(app: &TestApp, person: &str) -> Vec<Value> {
    let response = app
        .graphql_as(person, "{ calendarFeeds { id council { id } } }", json!({}))
        .await;
    ok(&response)["calendarFeeds"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_token_reads_its_councils_calendar_and_nothing_else() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let address = app.calendar_feed("ravi-patel", "stockport").await;
    let token = address.split("feed=").nth(1).unwrap().to_owned();

    let calendar = get(&app, &address).await;
    assert_eq!(calendar.status(), 200);
    assert_eq!(calendar.headers()["cache-control"], "no-store");
    assert!(calendar.text().await.unwrap().contains("BEGIN:VCALENDAR"));

    // Another council's calendar, GraphQL, and the plan page: the feed token opens none.
    let other = get(
        &app,
        &format!("/calendar/derbyshire-dales.ics?feed={token}"),
    )
    .await;
    assert_eq!(other.status(), 403);
    let as_bearer = app.graphql(&token, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&as_bearer), "UNAUTHENTICATED");
    let page = reqwest::Client::new()
        .get(format!("{}/plans/{plan}", app.address))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_lists_and_revokes_their_own_feeds_and_no_one_elses() {
    let app = spawn_app().await;
    let first = app.calendar_feed("ravi-patel", "stockport").await;
    let second = app.calendar_feed("ravi-patel", "stockport").await;
    let listed = feeds(&app, "ravi-patel").await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["council"]["id"], "stockport");
    assert!(
        feeds(&app, "fiona-grant").await.is_empty(),
        "feeds are one's own"
    );

    let revoke = "mutation($id: ID!) { revokeCalendarFeed(input: { id: $id }) { feed { id } } }";
    let first_id = listed[0]["id"].clone();
    // Someone else's feed does not exist for them, and stays in force.
    let response = app
        .graphql_as("fiona-grant", revoke, json!({ "id": first_id }))
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND");
    assert_eq!(get(&app, &first).await.status(), 200);

    let response = app
        .graphql_as("ravi-patel", revoke, json!({ "id": first_id }))
        .await;
    assert_eq!(ok(&response)["revokeCalendarFeed"]["feed"]["id"], first_id);
    assert_eq!(get(&app, &first).await.status(), 401, "revoked at once");
    assert_eq!(
        get(&app, &second).await.status(),
        200,
        "the other feed stays"
    );
    assert_eq!(feeds(&app, "ravi-patel").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_of_a_council_where_one_holds_no_role_is_refused() {
    let app = spawn_app().await;
    let create = "mutation($c: ID!) { createCalendarFeed(input: { council: $c }) { token } }";
    let response = app
        .graphql_as("ravi-patel", create, json!({ "c": "derbyshire-dales" }))
        .await;
    assert_eq!(error_code(&response), "FORBIDDEN");
    let response = app
        .graphql_as("ravi-patel", create, json!({ "c": "atlantis" }))
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND");
    assert!(feeds(&app, "ravi-patel").await.is_empty(), "nothing issued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_in_a_calendar_address_is_refused_and_headers_keep_private_data_private() {
    let app = spawn_app().await;
    let token = app.token("ravi-patel").await;
    let refused = get(&app, &format!("/calendar/stockport.ics?token={token}")).await;
    assert_eq!(refused.status(), 400);
    let text = refused.text().await.unwrap();
    assert!(!text.contains("VCALENDAR"), "{text}");
    assert!(
        !text.contains(&token),
        "the refusal does not echo the token"
    );

    // With the bearer token in the header, the calendar reads as before.
    let header = reqwest::Client::new()
        .get(format!("{}/calendar/stockport.ics", app.address))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);

    // GraphQL's answers, private to one person, are not stored either.
    let response = reqwest::Client::new()
        .post(app.graphql_url())
        .header("Authorization", format!("Bearer {token}"))
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_token_command_issues_lists_and_revokes_and_stores_no_token() {
    let app = spawn_app().await;
    let issued = app
        .cli(&[
            "feed-token",
            "--person",
            "ravi-patel",
            "--council",
            "stockport",
            "--public-url",
            &app.address,
        ])
        .await;
    assert!(
        issued.status.success(),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let url = String::from_utf8_lossy(&issued.stdout).trim().to_owned();
    assert!(url.starts_with(&format!("{}/calendar/stockport.ics?feed=", app.address)));
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);

    let listed = app
        .cli(&["feed-token", "--person", "ravi-patel", "--list"])
        .await;
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    let id = listed.split('\t').next().unwrap().to_owned();
    assert!(listed.contains("\tstockport\t"), "{listed}");

    let tokens = std::fs::read_to_string(app.data_dir().join("tokens.jsonl")).unwrap();
    let secret = url.split("feed=").nth(1).unwrap();
    assert!(!tokens.contains(&secret[6..]), "only a digest is stored");

    let revoked = app.cli(&["feed-token", "--revoke", &id]).await;
    assert!(revoked.status.success());
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 401);

    // A council where the person holds no role: refused, nothing issued.
    let refused = app
        .cli(&[
            "feed-token",
            "--person",
            "ravi-patel",
            "--council",
            "derbyshire-dales",
        ])
        .await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("holds no role at derbyshire-dales"));
}
