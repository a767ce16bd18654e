//! A group's shared section in the browser's terms: the group proposes, member councils agree
//! one by one while the page says whom it waits on, a revision in between is a conflict, the
//! difference between revisions is shown in words, and each member plan that uses the section
//! shows its committee date and how it stands.

use serde_json::json;

use crate::support::*;

const PAGE: &str = "/groups/derbyshire-chief-executives/sections/barriers";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_proposes_and_members_agree_on_the_page_which_says_whom_it_waits_on() {
    let app = spawn_app().await;
    app.derbyshire_dales_plan_with_its_committee().await;

    let mut rachel = app.web_session("rachel-ingham").await;
    let empty = rachel.get(PAGE).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert!(empty.body.contains("No text has been proposed yet."));
    assert!(
        empty
            .body
            .contains("Derbyshire Dales District Council: committee 18 July 2024, papers due"),
        "{}",
        empty.body
    );
    assert!(empty.body.contains("still waiting on the agreed text"));
    let proposed = rachel
        .post(
            &format!("{PAGE}/propose"),
            &[
                ("form_id", "propose"),
                ("text", "Funding certainty is the main barrier."),
            ],
        )
        .await;
    assert_eq!(proposed.status, 303, "{}", proposed.body);
    assert_eq!(proposed.location(), Some(&*format!("{PAGE}?done=propose")));

    // A member council's chief executive agrees for their own council, and only theirs.
    let mut martin = app.web_session("martin-ashby").await;
    let page = martin.get(PAGE).await;
    assert!(page
        .body
        .contains("Agree revision 1 for Derbyshire Dales District Council"));
    assert!(!page.body.contains("for Bolsover District Council</button>"));
    let agreed = martin
        .post(
            &format!("{PAGE}/agree"),
            &[
                ("form_id", "agree-derbyshire-dales"),
                ("revision", "1"),
                ("council", "derbyshire-dales"),
            ],
        )
        .await;
    assert_eq!(agreed.status, 303, "{}", agreed.body);
    let page = rachel.get(PAGE).await;
    assert!(
        page.body.contains("1 of 9 councils agreed revision 1; waiting on Amber Valley Borough Council, Bolsover District Council"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("Derbyshire Dales District Council: agreed by Martin Ashby"));

    // A revision, then a proposal from a page read before it: a conflict, nothing written.
    let revised = rachel
        .post(
            &format!("{PAGE}/propose"),
            &[
                ("form_id", "propose"),
                ("expected_revision", "1"),
                (
                    "text",
                    "Funding certainty and housing are the main barriers.",
                ),
            ],
        )
        .await;
    assert_eq!(revised.status, 303, "{}", revised.body);
    let stale = rachel
        .post(
            &format!("{PAGE}/propose"),
            &[
                ("form_id", "propose"),
                ("expected_revision", "1"),
                ("text", "A text from an old page."),
            ],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains("changed after you loaded this page"));
    assert!(
        stale.body.contains("A text from an old page."),
        "kept as typed"
    );
    assert!(!rachel.get(PAGE).await.body.contains("Revision 3,"));

    // The difference between the two revisions, in words.
    let diff = rachel.get(&format!("{PAGE}?from=1&to=2")).await;
    assert!(diff
        .body
        .contains("Difference from revision 1 to revision 2"));
    assert!(diff.body.contains("[added: </span>and"), "{}", diff.body);

    // Once every member agrees, the plan is told the agreed text waits to be adopted.
    app.agree_barriers("The agreed barriers text.").await;
    let agreed_all = rachel.get(PAGE).await;
    assert!(agreed_all
        .body
        .contains("All 9 councils agreed revision 3."));
    assert!(agreed_all.body.contains("agreed text not adopted yet"));

    // Someone outside the group finds no such section.
    let mut ravi = app.web_session("ravi-patel").await;
    assert_eq!(ravi.get(PAGE).await.status, 404);
    let refused = ravi
        .post(
            &format!("{PAGE}/propose"),
            &[("form_id", "propose"), ("text", "Not mine to write.")],
        )
        .await;
    assert_eq!(refused.status, 404);
    assert!(rachel
        .get(PAGE)
        .await
        .body
        .contains("All 9 councils agreed revision 3."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_on_you_lists_the_groups_text_to_propose_and_each_councils_agreement() {
    let app = spawn_app().await;
    let mut rachel = app.web_session("rachel-ingham").await;
    let home = rachel.get("/").await;
    assert!(home.body.contains("For your groups"), "{}", home.body);
    assert!(home.body.contains("Propose its first text"));
    // The group's chief executives may write the first text too, as the engine allows.
    let mut martin = app.web_session("martin-ashby").await;
    assert!(martin
        .get("/")
        .await
        .body
        .contains("Propose its first text"));
    let mut ravi = app.web_session("ravi-patel").await;
    assert!(
        !ravi.get("/").await.body.contains("For your groups"),
        "Stockport is no member"
    );

    app.act(
        "rachel-ingham",
        "proposeSharedSection",
        json!({ "groupId": "derbyshire-chief-executives", "sectionId": "barriers", "text": "Funding certainty." }),
    )
    .await;
    assert!(!rachel
        .get("/")
        .await
        .body
        .contains("Propose its first text"));
    let home = martin.get("/").await;
    assert!(
        home.body
            .contains("Agree revision 1 for Derbyshire Dales District Council"),
        "{}",
        home.body
    );
    assert!(home
        .body
        .contains(&format!("href=\"{PAGE}\"").replace('/', "&#x2f;")));
    assert!(!home.body.contains("for Bolsover District Council"));

    app.act(
        "martin-ashby",
        "agreeSharedSection",
        json!({ "groupId": "derbyshire-chief-executives", "sectionId": "barriers", "revision": 1, "council": "derbyshire-dales" }),
    )
    .await;
    assert!(!martin.get("/").await.body.contains("Agree revision 1"));
    let mut ian = app.web_session("ian-dunmore").await;
    assert!(ian
        .get("/")
        .await
        .body
        .contains("Agree revision 1 for Bolsover District Council"));
}
