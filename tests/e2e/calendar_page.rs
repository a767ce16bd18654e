//! The calendar page: a person gets the address of their calendar feed, reads what it holds and
//! revokes it; the feed, read by ical.js (a parser no one here wrote), links each entry to its
//! plan's page.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

/// Reads an iCalendar text with `tests/js/ical.mjs` (ical.js, pinned in `tests/js`).
fn ical_js(text: &str) -> Value {
    assert!(
        repo_path("tests/js/node_modules/ical.js").exists(),
        "ical.js is not installed: run `npm ci --prefix tests/js` (scripts/test does)"
    );
    let mut node = Command::new("node")
        .arg(repo_path("tests/js/ical.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node (scripts/test installs it where missing)");
    node.stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = node.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

/// The value of the page's read-only address field, as the browser shows it.
/// The id in the first "Revoke" form on the calendar page.
fn first_feed_id(html: &str) -> String {
    html.split("action=\"/calendar/feeds/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a revoke form")
        .to_owned()
}

fn feed_address(html: &str) -> String {
    let field = html
        .split("id=\"feed-address\"")
        .nth(1)
        .expect("the address field");
    let value = field.split("value=\"").nth(1).unwrap();
    value[..value.find('"').unwrap()]
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_made_on_the_calendar_page_is_read_by_ical_js_and_links_each_entry_to_its_plan() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let mut ravi = app.web_session("ravi-patel").await;
    let page = ravi.get("/calendar").await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("<title>Your calendar – councilflow</title>"));
    assert!(
        page.body.contains("Create a calendar feed"),
        "{}",
        page.body
    );

    // Creating a feed shows its address this once, in the answer to the form.
    let created = ravi
        .post("/calendar/feeds", &[("council", "stockport")])
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let address = feed_address(&created.body);
    assert!(
        address.starts_with(&format!(
            "{}/calendar/stockport.ics?feed=cfcal_",
            app.address
        )),
        "{address}"
    );
    assert!(
        !ravi.get("/calendar").await.body.contains("cfcal_"),
        "shown once"
    );

    // A calendar app, with no session, reads it; ical.js parses it.
    let text = reqwest::get(&address).await.unwrap().text().await.unwrap();
    let calendar = ical_js(&text);
    assert!(calendar["error"].is_null(), "{calendar}");
    assert!(
        calendar["name"]
            .as_str()
            .unwrap()
            .starts_with("Stockport Metropolitan Borough Council"),
        "{calendar}"
    );
    let events = calendar["events"].as_array().unwrap();
    let submission = events
        .iter()
        .find(|e| e["uid"] == format!("{plan}-submission@councilflow"))
        .unwrap_or_else(|| panic!("no submission deadline in {calendar}"));
    assert_eq!(submission["date"], "2024-07-19");
    assert_eq!(submission["allDay"], true);
    for event in events {
        assert_eq!(
            event["url"],
            format!("{}/plans/{plan}", app.address),
            "{event}"
        );
    }

    // Revoking it from the page stops the address at once.
    let listed = ravi.get("/calendar").await;
    let id = first_feed_id(&listed.body);
    let revoked = ravi
        .post(&format!("/calendar/feeds/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, 303);
    assert_eq!(revoked.location(), Some("/calendar?done=revoked"));
    assert_eq!(reqwest::get(&address).await.unwrap().status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_one_makes_a_feed_of_a_council_that_is_not_theirs_or_revokes_anothers() {
    let app = spawn_app().await;
    let mut nadia = app.web_session("nadia-bell").await;
    let refused = nadia
        .post("/calendar/feeds", &[("council", "stockport")])
        .await;
    assert_eq!(refused.status, 404);
    let unknown = nadia
        .post("/calendar/feeds", &[("council", "atlantis")])
        .await;
    assert_eq!(unknown.status, 404);

    let mut ravi = app.web_session("ravi-patel").await;
    let created = ravi
        .post("/calendar/feeds", &[("council", "stockport")])
        .await;
    let address = feed_address(&created.body);
    let listed = ravi.get("/calendar").await;
    let id = first_feed_id(&listed.body);
    let theirs = nadia
        .post(&format!("/calendar/feeds/{id}/revoke"), &[])
        .await;
    assert_eq!(theirs.status, 404);
    assert_eq!(reqwest::get(&address).await.unwrap().status(), 200);
    // A form from another site is refused, and the feed stays.
    let forged = ravi
        .post_with(
            &format!("/calendar/feeds/{id}/revoke"),
            &[],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(reqwest::get(&address).await.unwrap().status(), 200);
}
