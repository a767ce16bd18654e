//! Deadline reminders against a real SMTP server (aiosmtpd), and the council calendar.
//!
//! Each test starts its own SMTP server and a server whose reminder task runs every second. The
//! waits below are hang guards (how long to keep polling), never assertions of speed.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};

use crate::support::smtp::{free_port, Received, SmtpServer, StallServer};
use crate::support::*;

const GUARD: Duration = Duration::from_secs(60);

fn smtp_args(url: &str) -> [&str; 10] {
    [
        "--smtp-url",
        url,
        "--reminder-interval-secs",
        "1",
        "--reminder-retry-secs",
        "1",
        "--smtp-timeout-secs",
        "2",
        "--mail-from",
        "councilflow <reminders@example.org>",
    ]
}

async fn spawn_with_smtp(url: &str) -> TestApp {
    spawn_app_with(&smtp_args(url)).await
}

/// A Stockport plan whose submission deadline is `days` from now.
async fn stockport_plan_due_in(app: &TestApp, days: i64) -> String {
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    set_deadline(app, &plan, days).await;
    plan
}

/// Moves the submission deadline the department set to `days` from now: an extension it
/// granted, recorded by Stockport's submitter.
async fn set_deadline(app: &TestApp, plan: &str, days: i64) {
    let due = (Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    app.act(
        "joe-sutton",
        "recordExtension",
        json!({
            "planId": plan,
            "due": due,
            "grantedBy": "the Department for Levelling Up, Housing and Communities",
            "grantedOn": "2024-07-05",
            "reference": format!("DLUHC letter, {days} days"),
        }),
    )
    .await;
}

fn with_subject<'a>(messages: &'a [Received], needle: &str) -> Vec<&'a Received> {
    messages
        .iter()
        .filter(|m| m.subject.contains(needle))
        .collect()
}

fn recipients(messages: &[&Received]) -> Vec<String> {
    let mut to: Vec<String> = messages.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to
}

/// Polls until `n` messages whose subject contains `needle` arrived (or the guard passes).
async fn wait_for_subject(smtp: &SmtpServer, needle: &str, n: usize) -> Vec<Received> {
    let deadline = std::time::Instant::now() + GUARD;
    loop {
        let messages = smtp.messages();
        if with_subject(&messages, needle).len() >= n || std::time::Instant::now() > deadline {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Moves the plan's submission deadline to `days` away and waits until `n` of its reminders
/// arrive: proof that a reminder round began after the move (and so after anything done
/// before it), for checks that something was *not* sent.
async fn round_after_moving_the_deadline(
    app: &TestApp,
    smtp: &SmtpServer,
    plan: &str,
    days: i64,
    n: usize,
) {
    set_deadline(app, plan, days).await;
    let subject = format!("Submission due in {days} days");
    let messages = wait_for_subject(smtp, &subject, n).await;
    assert!(
        with_subject(&messages, &subject).len() >= n,
        "a reminder round ran after the deadline moved to {days} days: {:#?}",
        smtp.log()
    );
}

async fn reminders(app: &TestApp, plan: &str) -> Vec<Value> {
    let response = app
        .graphql_as(
            "ravi-patel",
            "query($id: ID!) { plan(id: $id) { reminders { recipient { id } stage due status attempts sentAt } } }",
            json!({ "id": plan }),
        )
        .await;
    ok(&response)["plan"]["reminders"]
        .as_array()
        .unwrap()
        .clone()
}

/// Polls `plan.reminders` until `check` holds (or the guard passes); returns the last read.
async fn wait_for_reminders(
    app: &TestApp,
    plan: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + GUARD;
    loop {
        let list = reminders(app, plan).await;
        if check(&list) || std::time::Instant::now() > deadline {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const PEOPLE_WAITED_ON: [&str; 3] = [
    "kwame.mensah@example.org",
    "maria.costa@example.org",
    "ravi.patel@example.org",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_three_days_away_sends_the_seven_day_reminder_once_to_the_people_waited_on() {
    let smtp = SmtpServer::start(free_port()).await;
    // A process: the restart below is a SIGKILL.
    let mut app = spawn_process_app_with(&smtp_args(&smtp.url())).await;
    let plan = stockport_plan_due_in(&app, 3).await;

    let messages = wait_for_subject(&smtp, "Submission due in 3 days", 3).await;
    let due = with_subject(&messages, "Submission due in 3 days");
    assert_eq!(recipients(&due), PEOPLE_WAITED_ON, "{:#?}", smtp.log());
    for m in &due {
        assert!(
            m.subject.contains("Stockport Metropolitan Borough Council"),
            "{}",
            m.subject
        );
        assert!(
            m.subject.contains("Productivity plan 2024"),
            "{}",
            m.subject
        );
        assert_eq!(m.header("Auto-Submitted"), Some("auto-generated"));
        assert!(
            m.message_id.ends_with("@reminders.councilflow>"),
            "{}",
            m.message_id
        );
        assert!(m.text.contains("waiting on the S151 Officer"), "{}", m.text);
        assert!(m.text.contains(&format!("/plans/{plan}")), "{}", m.text);
        assert!(
            m.html.as_deref().unwrap_or("").contains("<li>"),
            "an HTML alternative"
        );
    }
    let sent = wait_for_reminders(&app, &plan, |list| {
        list.iter().filter(|r| r["status"] == "SENT").count() >= 3
    })
    .await;
    assert!(
        sent.iter().filter(|r| r["status"] == "SENT").count() >= 3,
        "{sent:#?}"
    );

    // A restart (even a SIGKILL) does not send it again.
    app.restart().await;
    // Proof that the restarted server has run its reminder rounds: a deadline moved further
    // out has its own reminder, which only a round after the move can send.
    round_after_moving_the_deadline(&app, &smtp, &plan, 20, 3).await;
    let again = smtp.messages();
    assert_eq!(with_subject(&again, "Submission due in 3 days").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_smtp_server_down_the_reminder_fails_is_retried_and_delivered_once_when_it_is_back(
) {
    let port = free_port();
    let app = spawn_with_smtp(&format!("smtp://127.0.0.1:{port}")).await;
    let plan = stockport_plan_due_in(&app, 3).await;

    // Nothing listens: each send fails with a temporary error, recorded and retried.
    let failed = wait_for_reminders(&app, &plan, |list| {
        list.iter()
            .any(|r| r["status"] == "FAILED" && r["attempts"].as_i64().unwrap_or(0) >= 2)
    })
    .await;
    assert!(
        failed
            .iter()
            .any(|r| r["status"] == "FAILED" && r["attempts"].as_i64().unwrap_or(0) >= 2),
        "{failed:#?}"
    );
    let events = app.all_events("regional-dashboard").await;
    assert!(kinds(&events).contains(&"ReminderFailed".to_owned()));

    // The server comes back on the same port: each reminder is delivered, once.
    let smtp = SmtpServer::start(port).await;
    let messages = wait_for_subject(&smtp, "Submission due in 3 days", 3).await;
    assert_eq!(
        recipients(&with_subject(&messages, "Submission due in 3 days")),
        PEOPLE_WAITED_ON
    );
    // Rounds after the delivery (proved as above: a moved deadline's own reminder) send no
    // second copy.
    round_after_moving_the_deadline(&app, &smtp, &plan, 20, 3).await;
    assert_eq!(
        with_subject(&smtp.messages(), "Submission due in 3 days").len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_server_that_stalls_mid_conversation_times_out_and_nothing_hangs() {
    let stall = StallServer::start(free_port()).await;
    let app = spawn_with_smtp(&stall.url()).await;
    let plan = stockport_plan_due_in(&app, 3).await;

    let failed = wait_for_reminders(&app, &plan, |list| {
        list.iter().any(|r| r["status"] == "FAILED")
    })
    .await;
    assert!(
        failed.iter().any(|r| r["status"] == "FAILED"),
        "{failed:#?}"
    );
    let history = app
        .graphql_as(
            "ravi-patel",
            "query { events(first: 500) { edges { node { kind payload } } } }",
            json!({}),
        )
        .await;
    let timed_out = ok(&history)["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .any(|e| {
            e["kind"] == "ReminderFailed"
                && e["payload"]["error"]
                    .as_str()
                    .is_some_and(|s| s.contains("did not finish within 2 s"))
        });
    assert!(timed_out, "a ReminderFailed says the send timed out");
    // The server keeps serving while sends stall.
    let me = app
        .graphql_as("ravi-patel", "query { me { id } }", json!({}))
        .await;
    assert_eq!(ok(&me)["me"]["id"], "ravi-patel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_deadline_sends_the_new_schedule_not_the_old_one_again() {
    let smtp = SmtpServer::start(free_port()).await;
    let app = spawn_with_smtp(&smtp.url()).await;
    // Twenty days away: the 28-day reminder has fallen due.
    let plan = stockport_plan_due_in(&app, 20).await;
    wait_for_subject(&smtp, "Submission due in 20 days", 3).await;

    // Moved to three days away: the 7-day reminder of the new date goes.
    set_deadline(&app, &plan, 3).await;
    let messages = wait_for_subject(&smtp, "Submission due in 3 days", 3).await;
    assert_eq!(
        recipients(&with_subject(&messages, "Submission due in 3 days")),
        PEOPLE_WAITED_ON
    );
    assert_eq!(
        with_subject(&messages, "Submission due in 20 days").len(),
        3
    );
    // The old schedule's reminders that never went show as cancelled, not scheduled.
    let list = reminders(&app, &plan).await;
    assert!(list.iter().any(|r| r["status"] == "SENT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_completed_before_its_reminder_sends_nothing_for_it() {
    let smtp = SmtpServer::start(free_port()).await;
    let app = spawn_with_smtp(&smtp.url()).await;
    let plan = stockport_plan_due_in(&app, 20).await;
    app.draft_sections("ravi-patel", &plan).await;
    for (person, role) in [
        ("maria-costa", "portfolio-holder"),
        ("kwame-mensah", "s151-officer"),
    ] {
        app.act(
            person,
            "signOff",
            json!({ "planId": plan, "stageId": "member-oversight", "role": role }),
        )
        .await;
    }
    // The reminder round runs every second: on a busy machine one can fall between the plan's
    // start and the sign-offs, when the stage's default deadline (18 days away) was rightly
    // reminded (to the portfolio holder too). Let a round that was under way finish, then look
    // only at what is sent from here on.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before = smtp.messages().len();
    // A deadline for the completed stage, three days away: nothing is waited on for it.
    let due = (Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    app.act(
        "ravi-patel",
        "setDeadline",
        json!({ "planId": plan, "stageId": "member-oversight", "due": due }),
    )
    .await;
    // The submission (20 days away) has its own 28-day reminder: wait for it, which proves the
    // task has run, then check nothing was sent about member oversight.
    let messages = wait_for_subject(&smtp, "Submission due in 20 days", 1).await;
    assert!(!with_subject(&messages, "Submission due in 20 days").is_empty());
    // A round that began after that deadline was set: move the submission to three days away
    // and wait for its reminder, which only such a round can send.
    round_after_moving_the_deadline(&app, &smtp, &plan, 3, 1).await;
    let since: Vec<Received> = smtp.messages().into_iter().skip(before).collect();
    let about_the_stage = with_subject(&since, "Member oversight");
    assert!(
        about_the_stage.is_empty(),
        "{:?}",
        about_the_stage
            .iter()
            .map(|m| &m.subject)
            .collect::<Vec<_>>()
    );
    // And the portfolio holder, whose part is done, gets nothing.
    assert!(since
        .iter()
        .all(|m| !m.to.iter().any(|t| t.contains("maria.costa"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_council_calendar_is_valid_icalendar_with_stable_uids() {
    let app = spawn_app().await;
    let plan = stockport_plan_due_in(&app, 10).await;
    let address = app.calendar_feed("ravi-patel", "stockport").await;
    let fetch = |address: String| {
        let url = format!("{}{address}", app.address);
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let parse = |text: &str| {
        let mut calendars = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
        calendars
            .next()
            .expect("one calendar")
            .expect("valid iCalendar")
    };
    let uid_and_start = |calendar: &ical::parser::ical::component::IcalCalendar, uid: &str| {
        calendar.events.iter().find_map(|e| {
            let prop = |name: &str| {
                e.properties
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.clone())
            };
            (prop("UID").as_deref() == Some(uid)).then(|| prop("DTSTART").unwrap_or_default())
        })
    };
    let first = parse(&fetch(address.clone()).await);
    let uid = format!("{plan}-submission@councilflow");
    let start = uid_and_start(&first, &uid).expect("the submission deadline is in the calendar");
    let expected = (Utc::now() + chrono::Duration::days(10))
        .with_timezone(&chrono_tz::Europe::London)
        .format("%Y%m%d")
        .to_string();
    assert_eq!(start, expected);

    // Moving the deadline moves the entry under the same UID.
    set_deadline(&app, &plan, 15).await;
    let second = parse(&fetch(address).await);
    let moved = uid_and_start(&second, &uid).expect("the same UID");
    assert_ne!(moved, start);

    // Without a token: refused.
    let refused = reqwest::get(format!("{}/calendar/stockport.ics", app.address))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}
