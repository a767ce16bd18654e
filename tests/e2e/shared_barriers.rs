//! The Derbyshire chief executives' shared "barriers" section: proposed in the group, agreed by
//! every member council's chief executive, adopted by each member plan; a later agreed revision
//! flags every adopting plan.

use serde_json::{json, Value};

use crate::support::*;

const DALES: &str = "derbyshire-dales";

fn agree(revision: i64, council: &str) -> Value {
    json!({ "groupId": DERBYSHIRE_GROUP, "sectionId": BARRIERS, "revision": revision, "council": council })
}

fn propose(text: &str) -> Value {
    json!({ "groupId": DERBYSHIRE_GROUP, "sectionId": BARRIERS, "text": text })
}

fn leadership_sign_off(plan_id: &str) -> Value {
    json!({ "planId": plan_id, "stageId": "leadership-team", "role": "chief-executive" })
}

fn shared_blockers(plan: &Value) -> Vec<String> {
    blocker_codes(plan)
        .into_iter()
        .filter(|c| c.starts_with("SHARED_SECTION"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_plan_is_blocked_until_every_member_council_agreed_the_barriers_text_and_it_adopted_it(
) {
    let app = spawn_app().await;
    let plan_id = app.start_plan("nadia-bell", &[DALES]).await;

    let plan = app.plan("nadia-bell", &plan_id).await;
    assert_eq!(shared_blockers(&plan), ["SHARED_SECTION_NOT_AGREED"]);
    let (code, _) = app
        .refused("martin-ashby", "signOff", leadership_sign_off(&plan_id))
        .await;
    assert_eq!(
        code, "GOVERNANCE_VIOLATION",
        "no sign-off before the group agreed its text"
    );
    let (code, _) = app
        .refused(
            "nadia-bell",
            "adoptSharedSection",
            json!({ "planId": plan_id, "sectionId": BARRIERS }),
        )
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION", "nothing agreed to adopt yet");
    let (code, _) = app
        .refused(
            "nadia-bell",
            "editSection",
            json!({ "planId": plan_id, "sectionId": BARRIERS, "text": "Our own words." }),
        )
        .await;
    assert_eq!(
        code, "GOVERNANCE_VIOLATION",
        "a shared section is not edited in the plan"
    );

    let text = "Multi-year settlements; fewer, larger funding pots; planning fees set locally.";
    let proposed = app
        .act("rachel-ingham", "proposeSharedSection", propose(text))
        .await;
    let shared = &proposed["sharedSection"];
    let revision = shared["revision"].as_i64().unwrap();
    assert_eq!(shared["text"], text);
    assert!(shared["agreedRevision"].is_null());
    assert_eq!(shared["agreedBy"], json!([]));
    assert_eq!(shared["waitingOn"].as_array().unwrap().len(), 9);

    // Only a member council's own chief executive agrees for it.
    let (code, _) = app
        .refused("nadia-bell", "agreeSharedSection", agree(revision, DALES))
        .await;
    assert_eq!(code, "FORBIDDEN");
    let (code, _) = app
        .refused(
            "martin-ashby",
            "agreeSharedSection",
            agree(revision, "bolsover"),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");

    let (last_council, last_chief) = DERBYSHIRE_CHIEF_EXECUTIVES[8];
    for (council, chief) in &DERBYSHIRE_CHIEF_EXECUTIVES[..8] {
        app.act(chief, "agreeSharedSection", agree(revision, council))
            .await;
    }
    let group = app
        .graphql_as(
            "nadia-bell",
            &format!(
                "query($id: ID!) {{ group(id: $id) {{ id sharedSections {{ {SHARED_FIELDS} }} }} }}"
            ),
            json!({ "id": DERBYSHIRE_GROUP }),
        )
        .await;
    let sections = &ok(&group)["group"]["sharedSections"];
    let barriers = sections
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == BARRIERS)
        .unwrap_or_else(|| panic!("the group lists its barriers section: {sections}"));
    assert_eq!(ids(&barriers["waitingOn"]), [last_council]);
    assert_eq!(barriers["agreedBy"].as_array().unwrap().len(), 8);
    assert!(barriers["agreedRevision"].is_null());

    let plan = app.plan("nadia-bell", &plan_id).await;
    assert_eq!(shared_blockers(&plan), ["SHARED_SECTION_NOT_AGREED"]);
    let message = plan["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == "SHARED_SECTION_NOT_AGREED")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("8 of 9") && message.contains("Derbyshire County Council"),
        "the blocker counts the councils and names the one awaited: {message}"
    );
    let (code, _) = app
        .refused("martin-ashby", "signOff", leadership_sign_off(&plan_id))
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION", "8 of 9 is not agreed");

    let agreed = app
        .act(
            last_chief,
            "agreeSharedSection",
            agree(revision, last_council),
        )
        .await;
    assert_eq!(agreed["sharedSection"]["agreedRevision"], revision);
    assert_eq!(agreed["sharedSection"]["waitingOn"], json!([]));

    let plan = app.plan("nadia-bell", &plan_id).await;
    assert_eq!(shared_blockers(&plan), ["SHARED_SECTION_NOT_ADOPTED"]);
    let (code, _) = app
        .refused("martin-ashby", "signOff", leadership_sign_off(&plan_id))
        .await;
    assert_eq!(
        code, "GOVERNANCE_VIOLATION",
        "agreed but not adopted still blocks"
    );

    let adopted = app
        .act(
            "nadia-bell",
            "adoptSharedSection",
            json!({ "planId": plan_id, "sectionId": BARRIERS }),
        )
        .await;
    let barriers = section(&adopted["plan"], BARRIERS);
    assert_eq!(barriers["text"], text);
    assert_eq!(barriers["sharedFrom"]["id"], DERBYSHIRE_GROUP);
    assert_eq!(shared_blockers(&adopted["plan"]), Vec::<String>::new());

    let signed = app
        .act("martin-ashby", "signOff", leadership_sign_off(&plan_id))
        .await;
    assert_eq!(
        stage(&signed["plan"], "leadership-team")["status"],
        "COMPLETE"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_agreed_revision_of_the_barriers_text_flags_every_adopting_plan_until_it_adopts_again(
) {
    let app = spawn_app().await;
    let first = app.agree_barriers("First agreed barriers text.").await;
    let dales = app.start_plan("nadia-bell", &[DALES]).await;
    let peak = app.start_plan("sam-whitfield", &["high-peak"]).await;
    for (drafter, plan_id) in [("nadia-bell", &dales), ("sam-whitfield", &peak)] {
        app.act(
            drafter,
            "adoptSharedSection",
            json!({ "planId": plan_id, "sectionId": BARRIERS }),
        )
        .await;
    }
    app.act("martin-ashby", "signOff", leadership_sign_off(&dales))
        .await;
    app.act("priya-holloway", "signOff", leadership_sign_off(&peak))
        .await;

    // A new revision that is only proposed (and partly agreed) flags nobody.
    let proposed = app
        .act(
            "rachel-ingham",
            "proposeSharedSection",
            propose("Second barriers text, with the county's transport asks."),
        )
        .await;
    let second = proposed["sharedSection"]["revision"].as_i64().unwrap();
    assert!(second > first);
    for (council, chief) in &DERBYSHIRE_CHIEF_EXECUTIVES[..4] {
        app.act(chief, "agreeSharedSection", agree(second, council))
            .await;
    }
    let (code, _) = app
        .refused(
            DERBYSHIRE_CHIEF_EXECUTIVES[5].1,
            "agreeSharedSection",
            agree(first, DERBYSHIRE_CHIEF_EXECUTIVES[5].0),
        )
        .await;
    assert_eq!(code, "CONFLICT", "only the latest revision can be agreed");
    let dales_plan = app.plan("nadia-bell", &dales).await;
    assert_eq!(shared_blockers(&dales_plan), Vec::<String>::new());
    app.act(
        "martin-ashby",
        "signOff",
        json!({ "planId": dales, "stageId": "report-authorisation", "role": "chief-executive" }),
    )
    .await;

    for (council, chief) in &DERBYSHIRE_CHIEF_EXECUTIVES[4..] {
        app.act(chief, "agreeSharedSection", agree(second, council))
            .await;
    }
    for (reader, plan_id) in [("nadia-bell", &dales), ("sam-whitfield", &peak)] {
        let plan = app.plan(reader, plan_id).await;
        assert_eq!(
            shared_blockers(&plan),
            ["SHARED_SECTION_OUTDATED"],
            "plan {plan_id} is flagged: {}",
            plan["blockers"]
        );
        assert_eq!(
            section(&plan, BARRIERS)["text"],
            "First agreed barriers text.",
            "the plan keeps the text it adopted until it adopts again"
        );
    }
    let (code, _) = app
        .refused(
            "claire-fenwick",
            "signOff",
            json!({ "planId": dales, "stageId": "report-authorisation", "role": "s151-officer" }),
        )
        .await;
    assert_eq!(
        code, "GOVERNANCE_VIOLATION",
        "an outdated shared text blocks approvals"
    );

    let readopted = app
        .act(
            "nadia-bell",
            "adoptSharedSection",
            json!({ "planId": dales, "sectionId": BARRIERS }),
        )
        .await;
    let plan = &readopted["plan"];
    assert_eq!(
        section(plan, BARRIERS)["text"],
        "Second barriers text, with the county's transport asks."
    );
    assert_eq!(shared_blockers(plan), Vec::<String>::new());
    let leadership = stage(plan, "leadership-team");
    assert_eq!(
        leadership["signOffs"][0]["stale"], true,
        "adopting new text is an edit: the leadership sign-off is stale"
    );
    assert!(
        matches!(leadership["status"].as_str(), Some("STALE" | "OPEN")),
        "{}",
        leadership["status"]
    );

    let peak_plan = app.plan("sam-whitfield", &peak).await;
    assert_eq!(
        shared_blockers(&peak_plan),
        ["SHARED_SECTION_OUTDATED"],
        "High Peak's plan stays flagged until it adopts the new text itself"
    );
}
