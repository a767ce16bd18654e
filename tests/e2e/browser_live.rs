//! Live pages in Chromium, two people at once: the Derbyshire group's barriers section from
//! proposal through agreements one by one, adoption and a newer revision, and the alliance's joint
//! plan through its two committees. Each sees the other's acts announced in their page's polite
//! live region, focus unmoved; axe-core checks each state.

use serde_json::json;

use crate::support::browser::{sign_in, Browser};
use crate::support::*;

const SECTION: &str = "/groups/derbyshire-chief-executives/sections/barriers";
const GROUP: &str = "derbyshire-chief-executives";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_derbyshire_group_and_a_member_council_see_each_others_acts_live() {
    let app = spawn_app().await;
    let plan = app.derbyshire_dales_plan_with_its_committee().await;

    // Rachel (the group's officer) and Martin (Derbyshire Dales's chief executive), each in a
    // browser of their own, on the section's page.
    let rachel = Browser::start(&app.address).await;
    sign_in(&app, &rachel, "rachel-ingham", SECTION).await;
    let martin = Browser::start(&app.address).await;
    sign_in(&app, &martin, "martin-ashby", SECTION).await;
    assert!(martin
        .html()
        .await
        .contains("still waiting on the agreed text"));

    rachel
        .fill("propose", "Funding certainty is the main barrier.")
        .await;
    rachel.press("Propose revision").await;
    martin
        .wait_for_live(
            "Rachel Ingham proposed the barriers section's first text — refresh to see it",
        )
        .await;
    martin.check_page("live-1-proposal-announced").await;

    // "Waiting on you" lists his council's agreement, which leads to the section's page.
    martin.goto("/").await;
    assert!(martin
        .html()
        .await
        .contains("Agree revision 1 for Derbyshire Dales District Council"));
    martin.check_page("live-1-home-lists-the-agreement").await;
    martin.goto(SECTION).await;
    martin
        .press("Agree revision 1 for Derbyshire Dales District Council")
        .await;
    rachel
        .wait_for_live(
            "Martin Ashby agreed revision 1 of the barriers section for Derbyshire Dales District Council",
        )
        .await;

    // The other members agree one by one; Rachel's page hears each, and says whom it waits on.
    let others: Vec<_> = DERBYSHIRE_CHIEF_EXECUTIVES
        .iter()
        .filter(|(council, _)| *council != "derbyshire-dales")
        .collect();
    for (i, (council, chief)) in others.iter().enumerate() {
        app.act(
            chief,
            "agreeSharedSection",
            json!({ "groupId": GROUP, "sectionId": "barriers", "revision": 1, "council": council }),
        )
        .await;
        if i == 2 {
            rachel.goto(SECTION).await;
            let html = rachel.html().await;
            assert!(
                html.contains("4 of 9 councils agreed revision 1; waiting on"),
                "{html}"
            );
            rachel.check_page("live-2-four-of-nine").await;
        }
    }
    rachel
        .wait_for_live("agreed revision 1 of the barriers section for Derbyshire County Council")
        .await;

    // Derbyshire Dales adopts the agreed text; the group's page hears of the plan.
    martin.goto(&format!("/plans/{plan}")).await;
    let nadia = Browser::start(&app.address).await;
    sign_in(&app, &nadia, "nadia-bell", &format!("/plans/{plan}")).await;
    nadia.press("Adopt section").await;
    martin
        .wait_for_live("Nadia Bell adopted the shared section 'barriers'")
        .await;
    martin.check_page("live-3-adoption-announced").await;
    nadia.close().await;

    // A newer revision, agreed by all, flags the plan that adopted the older one.
    rachel.goto(SECTION).await;
    rachel
        .fill(
            "propose",
            "Funding certainty and workforce are the main barriers.",
        )
        .await;
    rachel.press("Propose revision").await;
    martin
        .wait_for_live("Rachel Ingham proposed revision 2 of the barriers section")
        .await;
    for (council, chief) in DERBYSHIRE_CHIEF_EXECUTIVES {
        app.act(
            chief,
            "agreeSharedSection",
            json!({ "groupId": GROUP, "sectionId": "barriers", "revision": 2, "council": council }),
        )
        .await;
    }
    rachel.goto(SECTION).await;
    let html = rachel.html().await;
    assert!(
        html.contains("adopted revision 1; revision 2 is agreed since"),
        "{html}"
    );
    rachel.check_page("live-4-adopter-flagged").await;
    rachel.close().await;
    martin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alliance_plan_goes_through_two_committees_in_the_browser() {
    let app = spawn_app().await;
    let started = app
        .act(
            "sam-whitfield",
            "startPlan",
            json!({ "workflow": WORKFLOW, "councils": ["high-peak", "staffordshire-moorlands"], "title": "Alliance productivity plan 2024" }),
        )
        .await;
    let plan = started["plan"]["id"].as_str().unwrap().to_owned();
    app.draft_sections("sam-whitfield", &plan).await;
    for (stage, roles) in [
        (
            "leadership-team",
            &[("priya-holloway", "chief-executive")][..],
        ),
        (
            "report-authorisation",
            &[
                ("priya-holloway", "chief-executive"),
                ("tom-achebe", "s151-officer"),
                ("ruth-calder", "monitoring-officer"),
            ][..],
        ),
    ] {
        for (person, role) in roles {
            for council in ["high-peak", "staffordshire-moorlands"] {
                app.act(
                    person,
                    "signOff",
                    json!({ "planId": plan, "stageId": stage, "role": role, "council": council }),
                )
                .await;
            }
        }
    }

    // The chief executive of both councils watches the plan while the clerk records each
    // committee's decision.
    let priya = Browser::start(&app.address).await;
    sign_in(&app, &priya, "priya-holloway", &format!("/plans/{plan}")).await;
    let clerk = Browser::start(&app.address).await;
    sign_in(&app, &clerk, "lewis-brandt", &format!("/plans/{plan}")).await;
    clerk
        .check_page("alliance-1-two-committees-to-decide")
        .await;

    for (council, committee, date, minute) in [
        (
            "high-peak",
            "Corporate Select Committee",
            "2024-07-16",
            "HP 24/031",
        ),
        (
            "staffordshire-moorlands",
            "Cabinet",
            "2024-07-17",
            "SMDC 24/112",
        ),
    ] {
        let form = format!("decision-committee-approval-{council}");
        clerk.fill(&format!("{form}-committee"), committee).await;
        clerk.fill(&format!("{form}-date"), date).await;
        clerk.fill(&format!("{form}-minute"), minute).await;
        clerk
            .submit(&format!(
                "//fieldset[@id='{form}']//button[normalize-space()='Record decision']"
            ))
            .await;
        assert!(clerk.html().await.contains("Committee decision recorded"));
        priya
            .wait_for_live(&format!(
                "Lewis Brandt recorded the decision of {committee} on {date}: approved (revision"
            ))
            .await;
        if council == "high-peak" {
            // One council's approval does not stand for the other's.
            let html = clerk.html().await;
            assert!(html.contains("decision-committee-approval-staffordshire-moorlands"));
            clerk.check_page("alliance-2-one-committee-decided").await;
        }
    }
    priya.check_page("alliance-3-decisions-announced").await;

    // The group's board shows both councils' decisions side by side, on one row.
    priya.goto(&format!("/groups/{GROUP}")).await;
    let html = priya.html().await;
    assert!(
        html.contains(
            "High Peak Borough Council: approved on 16 July 2024; Staffordshire Moorlands \
             District Council: approved on 17 July 2024"
        ),
        "{html}"
    );
    priya.check_page("alliance-4-board").await;
    priya.close().await;
    clerk.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_left_open_across_a_restart_announces_the_acts_made_while_it_reconnected() {
    // The same address after the restart, as a real deployment has.
    let port = crate::support::smtp::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut app = spawn_app_with(&["--listen", &listen]).await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let schedule = |date: &'static str| json!({ "planId": plan, "council": "stockport", "committee": "Cabinet", "meetingDate": date });
    let ravi = Browser::start(&app.address).await;
    sign_in(&app, &ravi, "ravi-patel", &format!("/plans/{plan}")).await;
    app.act("hannah-moss", "scheduleMeeting", schedule("2024-07-10"))
        .await;
    ravi.wait_for_live("Hannah Moss scheduled Cabinet for 2024-07-10")
        .await;

    // The server stops and comes back; an act lands before the browser has reconnected.
    app.restart().await;
    assert_eq!(app.address, format!("http://{listen}"));
    app.act("hannah-moss", "scheduleMeeting", schedule("2024-07-11"))
        .await;
    ravi.wait_for_live("Hannah Moss scheduled Cabinet for 2024-07-11")
        .await;
    let said = ravi.html().await;
    assert_eq!(
        said.matches("scheduled Cabinet for 2024-07-10").count(),
        1,
        "nothing announced twice"
    );
    ravi.check_page("live-5-after-a-restart").await;

    // A hidden tab lets its stream go; shown again, it hears what happened meanwhile, once.
    let visibility = |hidden: bool| {
        format!(
            "Object.defineProperty(document, 'hidden', {{ value: {hidden}, configurable: true }});
             document.dispatchEvent(new Event('visibilitychange'));"
        )
    };
    // A closed stream's request shows in the page's resource timing.
    let ended = "return performance.getEntriesByType('resource')
                   .filter(e => e.name.includes('/live')).length;";
    let before = ravi.client.execute(ended, vec![]).await.unwrap();
    ravi.client
        .execute(&visibility(true), vec![])
        .await
        .unwrap();
    let guard = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while ravi.client.execute(ended, vec![]).await.unwrap() == before {
        assert!(
            std::time::Instant::now() < guard,
            "the hidden tab kept its stream"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.act("hannah-moss", "scheduleMeeting", schedule("2024-07-12"))
        .await;
    ravi.client
        .execute(&visibility(false), vec![])
        .await
        .unwrap();
    ravi.wait_for_live("Hannah Moss scheduled Cabinet for 2024-07-12")
        .await;
    let said = ravi.html().await;
    assert_eq!(said.matches("scheduled Cabinet for 2024-07-11").count(), 1);
    ravi.close().await;
}
