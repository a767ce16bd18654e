//! The reads half of the authorization matrix: every query and subscription of the schema, asked by
//! another council's drafter, a group member, a reader scoped to one council and a reader across
//! every council. A council's drafts, history, reminders and people are its own; a published plan
//! is everyone's to read as published; outside what one reads, a plan is `null` or `NOT_FOUND`,
//! exactly as for an id that does not exist.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::ws::{Incoming, WsClient};
use crate::support::*;

/// A Stockport draft, a published Stockport plan, a Derbyshire Dales draft taking its barriers
/// section from the Derbyshire group, and the group's proposed barriers text.
struct Fixture {
    app: TestApp,
    stockport_draft: String,
    published: String,
    dales_draft: String,
    /// The cursor of the last event before the fixture's acts.
    start: String,
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let start = app.head_cursor().await;
    let stockport_draft = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &stockport_draft).await;
    let published = app.published_stockport_plan().await;
    let dales_draft = app.start_plan("nadia-bell", &["derbyshire-dales"]).await;
    app.act(
        "rachel-ingham",
        "proposeSharedSection",
        json!({ "groupId": DERBYSHIRE_GROUP, "sectionId": BARRIERS, "text": "Barriers, first draft." }),
    )
    .await;
    Fixture {
        app,
        stockport_draft,
        published,
        dales_draft,
        start,
    }
}

/// Who asks, and what they read.
struct Viewer {
    id: &'static str,
    /// Stockport's drafts, its people and the published plan's history and reminders.
    stockport: bool,
    /// Derbyshire Dales' draft.
    dales: bool,
    /// The Derbyshire group's shared sections.
    shared: bool,
}

const ANOTHER_COUNCILS_DRAFTER: Viewer = Viewer {
    id: "nadia-bell",
    stockport: false,
    dales: true,
    shared: true,
};
const GROUP_MEMBER: Viewer = Viewer {
    id: "rachel-ingham",
    stockport: false,
    dales: false,
    shared: true,
};
const SCOPED_READER: Viewer = Viewer {
    id: "performance-dashboard",
    stockport: false,
    dales: false,
    shared: false,
};
const ALL_COUNCILS_READER: Viewer = Viewer {
    id: "regional-dashboard",
    stockport: true,
    dales: true,
    shared: true,
};

fn plan_ids(connection: &Value) -> BTreeSet<String> {
    connection["edges"]
        .as_array()
        .expect("plan edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every query of the schema, as `viewer`: what comes back is what they may read, no more.
async fn queries_answer_within_scope(viewer: Viewer) {
    let f = fixture().await;
    let app = &f.app;
    let who = viewer.id;
    let ask = |query: &'static str, variables: Value| app.graphql_as(who, query, variables);

    // me, councils, groups and workflows are the same for everyone signed in.
    let response = ask(
        "{ me { id } councils { id } groups { id } workflows { id } }",
        json!({}),
    )
    .await;
    let data = ok(&response);
    assert_eq!(data["me"]["id"], who);
    assert!(ids(&data["councils"]).contains(&"stockport".to_owned()));
    assert!(ids(&data["groups"]).contains(&DERBYSHIRE_GROUP.to_owned()));
    assert!(ids(&data["workflows"]).contains(&WORKFLOW.to_owned()));

    // plan(id): a draft outside the scope is null, as for no such plan.
    for (plan, reads) in [
        (&f.stockport_draft, viewer.stockport),
        (&f.dales_draft, viewer.dales),
        (&f.published, true),
    ] {
        let response = ask(
            "query($id: ID!) { plan(id: $id) { id } }",
            json!({ "id": plan }),
        )
        .await;
        let expected = if reads {
            json!({ "id": plan })
        } else {
            Value::Null
        };
        assert_eq!(
            ok(&response)["plan"],
            expected,
            "{who} reads plan {plan}: {reads}"
        );
    }

    // A published plan as published: its text and its record of approvals, for everyone; its
    // history, reminders, earlier states and its officers' addresses, for its councils only.
    let response = ask(
        "query($id: ID!) { plan(id: $id) { status contentHash sections { text } stages { signOffs { person { id name } } } } }",
        json!({ "id": f.published }),
    )
    .await;
    let plan = &ok(&response)["plan"];
    assert_eq!(plan["status"], "PUBLISHED");
    assert!(plan["sections"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Our answer"));
    assert_eq!(
        plan["stages"][0]["signOffs"][0]["person"]["name"], "Cllr Maria Costa",
        "{who} reads who approved the published plan"
    );
    for (what, query, variables) in [
        (
            "history",
            "query($id: ID!) { plan(id: $id) { history(first: 5) { edges { node { id } } } } }",
            json!({ "id": f.published }),
        ),
        (
            "reminders",
            "query($id: ID!) { plan(id: $id) { reminders { key } } }",
            json!({ "id": f.published }),
        ),
        (
            "an earlier state",
            "query($id: ID!) { plan(id: $id, asOf: \"2100-01-01T00:00:00Z\") { id } }",
            json!({ "id": f.published }),
        ),
        (
            "a signer's email address",
            "query($id: ID!) { plan(id: $id) { stages { signOffs { person { email } } } } }",
            json!({ "id": f.published }),
        ),
    ] {
        let response = ask(query, variables).await;
        if viewer.stockport {
            ok(&response);
        } else {
            assert_eq!(
                error_code(&response),
                "FORBIDDEN",
                "{who} reads the published plan's {what}: {response}"
            );
        }
    }

    // plans and council.plans list only what the viewer reads.
    let mut expected = BTreeSet::from([f.published.clone()]);
    if viewer.stockport {
        expected.insert(f.stockport_draft.clone());
    }
    let stockport_only = expected.clone();
    if viewer.dales {
        expected.insert(f.dales_draft.clone());
    }
    let response = ask(
        "{ plans(first: 100) { edges { node { id } } } council(id: \"stockport\") { plans(first: 100) { edges { node { id } } } } s: plans(council: \"stockport\", first: 100) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let data = ok(&response);
    assert_eq!(plan_ids(&data["plans"]), expected, "{who}: plans");
    assert_eq!(
        plan_ids(&data["council"]["plans"]),
        stockport_only,
        "{who}: council.plans"
    );
    assert_eq!(
        plan_ids(&data["s"]),
        stockport_only,
        "{who}: plans(council)"
    );

    // people and person: a council's people are read by those who hold a role there.
    let response = ask(
        "{ people { id } stockport: people(council: \"stockport\") { id } person(id: \"ravi-patel\") { id email } }",
        json!({}),
    )
    .await;
    let data = ok(&response);
    let everyone = ids(&data["people"]);
    assert!(everyone.contains(&who.to_owned()), "{who} reads themselves");
    assert_eq!(
        everyone.contains(&"ravi-patel".to_owned()),
        viewer.stockport,
        "{who}: people"
    );
    assert_eq!(
        data["stockport"].as_array().unwrap().is_empty(),
        !viewer.stockport,
        "{who}: people(council: stockport)"
    );
    if viewer.stockport {
        assert_eq!(data["person"]["email"], "ravi.patel@example.org");
    } else {
        assert!(data["person"].is_null(), "{who}: person(ravi-patel)");
    }

    // A group's shared sections, and how far each adopting plan has got.
    let response = ask(
        "query($g: ID!, $s: ID!) { sharedSection(group: $g, section: $s) { text adoptions { plan status } } group(id: $g) { sharedSections { id } } }",
        json!({ "g": DERBYSHIRE_GROUP, "s": BARRIERS }),
    )
    .await;
    let data = ok(&response);
    if viewer.shared {
        assert_eq!(data["sharedSection"]["text"], "Barriers, first draft.");
        assert!(
            data["sharedSection"]["adoptions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["plan"] == f.dales_draft.as_str() && a["status"] == "DRAFTING"),
            "{who} reads how far Derbyshire Dales' plan has got: {data}"
        );
        assert_eq!(data["group"]["sharedSections"][0]["id"], BARRIERS);
    } else {
        assert!(data["sharedSection"].is_null(), "{who}: sharedSection");
        assert_eq!(data["group"]["sharedSections"], json!([]), "{who}");
    }

    // The event feed: only the streams of what the viewer reads, positions ascending.
    let streams = fixture_streams(&f).await;
    let feed = app.events_feed(who, &f.start).await;
    assert_feed_within_scope(&viewer, &streams, &feed);
}

/// The streams of the fixture's plans and shared section, as the all-councils reader sees them.
struct Streams {
    stockport_draft: String,
    published: String,
    dales_draft: String,
}

async fn fixture_streams(f: &Fixture) -> Streams {
    let stream = |history: Vec<Value>| history[0]["stream"].as_str().unwrap().to_owned();
    Streams {
        stockport_draft: stream(
            f.app
                .history("regional-dashboard", &f.stockport_draft)
                .await,
        ),
        published: stream(f.app.history("regional-dashboard", &f.published).await),
        dales_draft: stream(f.app.history("regional-dashboard", &f.dales_draft).await),
    }
}

fn assert_feed_within_scope(viewer: &Viewer, streams: &Streams, feed: &[Value]) {
    let who = viewer.id;
    let seen: BTreeSet<&str> = feed.iter().map(|e| e["stream"].as_str().unwrap()).collect();
    for (stream, reads) in [
        (&streams.stockport_draft, viewer.stockport),
        (&streams.published, viewer.stockport),
        (&streams.dales_draft, viewer.dales),
    ] {
        assert_eq!(
            seen.contains(stream.as_str()),
            reads,
            "{who} reads the events of {stream}: {seen:?}"
        );
    }
    let shared = seen.iter().any(|s| s.starts_with("shared-"));
    assert_eq!(
        shared, viewer.shared,
        "{who} reads the group's shared section events"
    );
    assert!(
        !seen.iter().any(|s| s.starts_with("reminders-")) || viewer.stockport,
        "{who} reads no other council's reminders: {seen:?}"
    );
    let positions: Vec<i64> = feed
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{who}: positions ascend: {positions:?}"
    );
}

/// Both subscriptions, as `viewer`: `planEvents` of a draft they may not read is `NOT_FOUND`;
/// `events` from the fixture's start delivers exactly what the `events` query shows them.
async fn subscriptions_deliver_within_scope(viewer: Viewer) {
    let f = fixture().await;
    let app = &f.app;
    let who = viewer.id;
    let token = app.token(who).await;
    let mut ws = WsClient::connect(app, Some(&token)).await;
    ws.expect_ack().await;

    ws.subscribe(
        "plan",
        "subscription($p: ID!, $a: String) { planEvents(planId: $p, after: $a) { id } }",
        json!({ "p": f.stockport_draft, "a": f.start }),
    )
    .await;
    let first = ws.recv(Duration::from_secs(30)).await;
    match (&first, viewer.stockport) {
        (Incoming::Message(m), true) => assert_eq!(m["type"], "next", "{who}: {m}"),
        (Incoming::Message(m), false) => {
            let code = m["payload"]["errors"][0]["extensions"]["code"]
                .as_str()
                .or(m["payload"][0]["extensions"]["code"].as_str());
            assert_eq!(
                code,
                Some("NOT_FOUND"),
                "{who}: planEvents of a Stockport draft: {m}"
            );
        }
        (other, _) => panic!("{who}: planEvents answered {other:?}"),
    }
    ws.send(json!({ "id": "plan", "type": "complete" })).await;

    ws.subscribe(
        "feed",
        "subscription($a: String) { events(after: $a) { id position stream } }",
        json!({ "a": f.start }),
    )
    .await;
    let mut delivered = Vec::new();
    loop {
        match ws.recv(Duration::from_secs(3)).await {
            Incoming::Message(m) if m["id"] == "feed" && m["type"] == "next" => {
                assert!(m["payload"]["errors"].is_null(), "{who}: {m}");
                delivered.push(m["payload"]["data"]["events"].clone());
            }
            Incoming::Message(_) => continue,
            Incoming::Nothing => break,
            Incoming::Closed(reason) => panic!("{who}: the socket closed: {reason:?}"),
        }
    }
    let feed = app.events_feed(who, &f.start).await;
    let ids = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&delivered),
        ids(&feed),
        "{who}: the subscription delivers what the feed shows"
    );
    assert_feed_within_scope(&viewer, &fixture_streams(&f).await, &delivered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_councils_drafter_reads_their_own_drafts_and_published_plans_only() {
    queries_answer_within_scope(ANOTHER_COUNCILS_DRAFTER).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_member_reads_the_groups_shared_sections_and_how_far_adopters_have_got() {
    queries_answer_within_scope(GROUP_MEMBER).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_scoped_to_one_council_reads_no_other_councils_drafts() {
    queries_answer_within_scope(SCOPED_READER).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_across_all_councils_reads_everything() {
    queries_answer_within_scope(ALL_COUNCILS_READER).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_deliver_to_another_councils_drafter_only_what_they_read() {
    subscriptions_deliver_within_scope(ANOTHER_COUNCILS_DRAFTER).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_deliver_to_a_group_member_only_what_they_read() {
    subscriptions_deliver_within_scope(GROUP_MEMBER).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_deliver_to_a_scoped_reader_only_what_they_read() {
    subscriptions_deliver_within_scope(SCOPED_READER).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_deliver_to_an_all_councils_reader_everything() {
    subscriptions_deliver_within_scope(ALL_COUNCILS_READER).await;
}
