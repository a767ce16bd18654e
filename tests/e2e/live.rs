//! Live pages over HTTP: the plan page's and a group's streams announce other people's acts in
//! words, never the reader's own, only what the reader may read, and resume after a restart
//! from the last event seen without losing one.

use serde_json::json;

use crate::support::sse::{stream_of, EventStream};
use crate::support::*;

const BOARD: &str = "/groups/derbyshire-chief-executives";

async fn edit(app: &TestApp, person: &str, plan: &str, text: &str) {
    app.act(
        person,
        "editSection",
        json!({ "planId": plan, "sectionId": "achievements", "text": text }),
    )
    .await;
}

async fn schedule(app: &TestApp, plan: &str, date: &str) {
    app.act(
        "hannah-moss",
        "scheduleMeeting",
        json!({ "planId": plan, "council": "stockport", "committee": "Cabinet", "meetingDate": date }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_page_announces_someone_elses_act_and_not_the_readers_own() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let mut ravi = app.web_session("ravi-patel").await;
    let page = ravi.get(&format!("/plans/{plan}")).await;
    assert!(page.body.contains("aria-live=\"polite\""));
    let path = stream_of(&page.body);
    assert!(
        path.starts_with(&format!("/plans/{plan}/live?after=")),
        "{path}"
    );
    let mut stream = EventStream::open(&app.address, &path, ravi.cookie.as_deref(), None)
        .await
        .expect("Ravi reads his plan");

    // His own edit first, then the clerk's act: the first sentence he hears is the clerk's.
    edit(&app, "ravi-patel", &plan, "Shared services saved money.").await;
    schedule(&app, &plan, "2024-07-10").await;
    let event = stream.next().await.expect("an announcement");
    assert_eq!(
        event.data, "Hannah Moss scheduled Cabinet for 2024-07-10 — refresh to see it",
        "{event:?}"
    );
    let first = event.id;

    // Another plan's act is not this page's.
    let other = app.start_plan("ravi-patel", &["stockport"]).await;
    schedule(&app, &other, "2024-07-11").await;
    schedule(&app, &plan, "2024-07-12").await;
    let event = stream.next().await.expect("an announcement");
    assert!(event.id > first + 2, "{event:?}");
    assert_eq!(
        event.data,
        "Hannah Moss scheduled Cabinet for 2024-07-12 — refresh to see it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_resumes_after_a_restart_from_the_last_event_seen_without_losing_one() {
    let mut app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let ravi = app.web_session("ravi-patel").await;
    let cookie = ravi.cookie.clone();
    let page_path = format!("/plans/{plan}/live");
    let mut stream = EventStream::open(&app.address, &page_path, cookie.as_deref(), None)
        .await
        .unwrap();
    schedule(&app, &plan, "2024-07-10").await;
    let seen = stream.next().await.expect("an announcement");

    // A clean stop ends the stream (the shutdown does not wait on it) ...
    app.stop().await;
    assert!(stream.next().await.is_none(), "the stream ended");
    // ... acts land before the browser reconnects ...
    app.restart().await;
    schedule(&app, &plan, "2024-07-11").await;
    schedule(&app, &plan, "2024-07-12").await;
    // ... and the browser's reconnection, with the last id it saw, hears both, in order.
    let mut resumed = EventStream::open(&app.address, &page_path, cookie.as_deref(), Some(seen.id))
        .await
        .expect("the session survives the restart");
    let first = resumed.next().await.unwrap();
    let second = resumed.next().await.unwrap();
    assert!(first.data.contains("2024-07-11"), "{first:?}");
    assert!(second.data.contains("2024-07-12"), "{second:?}");
    assert!(seen.id < first.id && first.id < second.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_board_announces_agreements_and_says_only_what_its_reader_may_read() {
    let app = spawn_app().await;
    let plan = app.start_plan("nadia-bell", &["derbyshire-dales"]).await;
    let mut rachel = app.web_session("rachel-ingham").await;
    let board = rachel.get(BOARD).await;
    let path = stream_of(&board.body);
    assert!(path.starts_with(&format!("{BOARD}/live?after=")), "{path}");
    let mut stream = EventStream::open(&app.address, &path, rachel.cookie.as_deref(), None)
        .await
        .expect("Rachel reads the board");

    app.act(
        "rachel-ingham",
        "proposeSharedSection",
        json!({ "groupId": "derbyshire-chief-executives", "sectionId": "barriers", "text": "Funding certainty." }),
    )
    .await;
    app.act(
        "martin-ashby",
        "agreeSharedSection",
        json!({ "groupId": "derbyshire-chief-executives", "sectionId": "barriers", "revision": 1, "council": "derbyshire-dales" }),
    )
    .await;
    let event = stream.next().await.expect("an announcement");
    assert_eq!(
        event.data,
        "Martin Ashby agreed revision 1 of the barriers section for Derbyshire Dales District \
         Council — refresh to see it"
    );

    // A member council's plan that Rachel may not open: that it changed, not who did what.
    app.act(
        "nadia-bell",
        "editSection",
        json!({ "planId": plan, "sectionId": "achievements", "text": "Our own words." }),
    )
    .await;
    let event = stream.next().await.expect("an announcement");
    assert_eq!(
        event.data,
        "The plan of Derbyshire Dales District Council has changed — refresh to see it"
    );

    // The member council's plan page hears the group's acts on its shared sections.
    let mut nadia = app.web_session("nadia-bell").await;
    let page = nadia.get(&format!("/plans/{plan}")).await;
    let mut plan_stream = EventStream::open(
        &app.address,
        &stream_of(&page.body),
        nadia.cookie.as_deref(),
        None,
    )
    .await
    .unwrap();
    app.act(
        "rachel-ingham",
        "proposeSharedSection",
        json!({ "groupId": "derbyshire-chief-executives", "sectionId": "barriers", "text": "Funding certainty, again.", "expectedRevision": 1 }),
    )
    .await;
    let event = plan_stream.next().await.expect("an announcement");
    assert_eq!(
        event.data,
        "Rachel Ingham proposed revision 2 of the barriers section — refresh to see it"
    );
}

#[tokio::test]
async fn a_stream_is_only_for_those_who_may_read_its_page() {
    let app = spawn_app().await;
    let plan = app.start_plan("nadia-bell", &["derbyshire-dales"]).await;
    let path = format!("/plans/{plan}/live");
    assert_eq!(
        EventStream::open(&app.address, &path, None, None)
            .await
            .err(),
        Some(401)
    );
    let ravi = app.web_session("ravi-patel").await;
    assert_eq!(
        EventStream::open(&app.address, &path, ravi.cookie.as_deref(), None)
            .await
            .err(),
        Some(404),
        "another council's draft"
    );
    assert_eq!(
        EventStream::open(
            &app.address,
            &format!("{BOARD}/live"),
            ravi.cookie.as_deref(),
            None
        )
        .await
        .err(),
        Some(404),
        "a group Ravi's council is not in"
    );
    assert_eq!(
        EventStream::open(
            &app.address,
            "/plans/no-such-plan/live",
            ravi.cookie.as_deref(),
            None
        )
        .await
        .err(),
        Some(404)
    );
}

#[tokio::test]
async fn one_browser_keeps_at_most_sixteen_streams_open() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let path = format!("/plans/{plan}/live");
    let ravi = app.web_session("ravi-patel").await;
    let mut open = Vec::new();
    for _ in 0..16 {
        open.push(
            EventStream::open(&app.address, &path, ravi.cookie.as_deref(), None)
                .await
                .expect("a stream"),
        );
    }
    assert_eq!(
        EventStream::open(&app.address, &path, ravi.cookie.as_deref(), None)
            .await
            .err(),
        Some(429)
    );
    // Another browser of his is counted on its own.
    let other = app.web_session("ravi-patel").await;
    assert!(
        EventStream::open(&app.address, &path, other.cookie.as_deref(), None)
            .await
            .is_ok()
    );
}
