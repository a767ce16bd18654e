//! Sign-offs bound to the text they approved, optimistic concurrency on edits, idempotent retries.

use serde_json::{json, Value};

use crate::support::*;

const STOCKPORT: &str = "stockport";

fn oversight(plan_id: &str, role: &str) -> Value {
    json!({ "planId": plan_id, "stageId": "member-oversight", "role": role })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_after_sign_off_makes_the_sign_off_stale_and_blocks_submission_until_signed_again()
{
    let app = spawn_app().await;
    let plan_id = app.start_plan("ravi-patel", &[STOCKPORT]).await;
    app.draft_sections("ravi-patel", &plan_id).await;
    app.act(
        "maria-costa",
        "signOff",
        oversight(&plan_id, "portfolio-holder"),
    )
    .await;
    let signed = app
        .act(
            "kwame-mensah",
            "signOff",
            oversight(&plan_id, "s151-officer"),
        )
        .await;
    let signed_revision = signed["plan"]["revision"].as_i64().unwrap();
    assert_eq!(
        stage(&signed["plan"], "member-oversight")["status"],
        "COMPLETE"
    );
    assert_eq!(signed["plan"]["status"], "APPROVED");

    let edited = app
        .act(
            "ravi-patel",
            "editSection",
            json!({ "planId": plan_id, "sectionId": "achievements", "text": "A sentence nobody signed." }),
        )
        .await;
    let plan = &edited["plan"];
    assert_eq!(plan["revision"].as_i64().unwrap(), signed_revision + 1);
    let oversight_stage = stage(plan, "member-oversight");
    assert!(
        matches!(oversight_stage["status"].as_str(), Some("STALE" | "OPEN")),
        "the stage reopens: {}",
        oversight_stage["status"]
    );
    let sign_offs = oversight_stage["signOffs"].as_array().unwrap();
    assert_eq!(sign_offs.len(), 2);
    for s in sign_offs {
        assert_eq!(s["stale"], true, "{s}");
        assert_eq!(s["planRevision"].as_i64().unwrap(), signed_revision);
    }
    assert_ne!(plan["status"], "APPROVED");
    assert_eq!(plan["currentStage"]["id"], "member-oversight");
    assert!(
        blocker_codes(plan).contains(&"STALE_APPROVAL".to_owned()),
        "{}",
        plan["blockers"]
    );

    let (code, message) = app
        .refused("joe-sutton", "submitPlan", json!({ "planId": plan_id }))
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION");
    assert!(
        message.to_lowercase().contains("member oversight"),
        "{message}"
    );

    app.act(
        "maria-costa",
        "signOff",
        oversight(&plan_id, "portfolio-holder"),
    )
    .await;
    let resigned = app
        .act(
            "kwame-mensah",
            "signOff",
            oversight(&plan_id, "s151-officer"),
        )
        .await;
    let oversight_stage = stage(&resigned["plan"], "member-oversight");
    assert_eq!(oversight_stage["status"], "COMPLETE");
    let current: Vec<&Value> = oversight_stage["signOffs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["stale"] == false)
        .collect();
    assert_eq!(current.len(), 2, "{}", oversight_stage["signOffs"]);
    for s in current {
        assert_eq!(s["planRevision"].as_i64().unwrap(), signed_revision + 1);
    }
    let submitted = app
        .act("joe-sutton", "submitPlan", json!({ "planId": plan_id }))
        .await;
    assert_eq!(submitted["plan"]["status"], "SUBMITTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_edits_from_the_same_revision_one_wins_and_the_other_gets_conflict() {
    let app = spawn_app().await;
    let plan_id = app.start_plan("ravi-patel", &[STOCKPORT]).await;
    let token = app.token("ravi-patel").await;
    let client = app.client();
    let document = plan_mutation("editSection");

    for round in 0..5 {
        let plan = app.plan("ravi-patel", &plan_id).await;
        let revision = section(&plan, "technology-and-data")["revision"].clone();
        let edit = |who: &str| {
            let client = client.clone();
            let token = token.clone();
            let document = document.clone();
            let text = format!("Round {round}: {who}'s version.");
            let input = json!({ "planId": plan_id, "sectionId": "technology-and-data", "text": text, "expectedRevision": revision });
            async move {
                let response = client
                    .graphql(Some(&token), &document, json!({ "input": input }))
                    .await
                    .expect("an answer");
                (text, response)
            }
        };
        let (a, b) = tokio::join!(tokio::spawn(edit("Alice")), tokio::spawn(edit("Bob")));
        let answers = [a.unwrap(), b.unwrap()];
        let winners: Vec<&(String, Value)> = answers
            .iter()
            .filter(|(_, r)| r.get("errors").is_none_or(|e| e.is_null()))
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one edit wins: {answers:?}"
        );
        let loser = answers
            .iter()
            .find(|(_, r)| r.get("errors").is_some_and(|e| !e.is_null()))
            .unwrap();
        assert_eq!(error_code(&loser.1), "CONFLICT", "round {round}");

        let plan = app.plan("ravi-patel", &plan_id).await;
        let s = section(&plan, "technology-and-data");
        assert_eq!(s["revision"].as_i64(), revision.as_i64().map(|r| r + 1));
        assert_eq!(s["text"], winners[0].0.as_str(), "the winner's text stands");
    }
    let history = app.history("ravi-patel", &plan_id).await;
    assert_eq!(
        kinds(&history)
            .iter()
            .filter(|k| *k == "SectionEdited")
            .count(),
        5,
        "one edit per round was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_mutation_with_the_same_idempotency_key_writes_once_and_returns_the_first_result()
{
    let app = spawn_app().await;
    let start = json!({ "workflow": WORKFLOW, "councils": [STOCKPORT], "idempotencyKey": "start-stockport-1" });
    let first = app.act("ravi-patel", "startPlan", start.clone()).await;
    let plan_id = first["plan"]["id"].as_str().unwrap().to_owned();
    assert_eq!(first["events"].as_array().unwrap().len(), 1);
    let again = app.act("ravi-patel", "startPlan", start).await;
    assert_eq!(again["plan"]["id"], plan_id.as_str(), "the same plan");
    assert_eq!(
        again["events"],
        json!([]),
        "nothing written the second time"
    );
    let plans = app
        .graphql_as(
            "ravi-patel",
            "query { plans(council: \"stockport\") { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ok(&plans)["plans"]["edges"].as_array().unwrap().len(),
        1,
        "one plan, not two"
    );

    let edit = json!({ "planId": plan_id, "sectionId": "achievements", "text": "Saved £2m on shared services.", "idempotencyKey": "edit-achievements-1" });
    let first = app.act("ravi-patel", "editSection", edit.clone()).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 1);
    let history = app.history("ravi-patel", &plan_id).await;
    let again = app.act("ravi-patel", "editSection", edit).await;
    assert_eq!(again["events"], json!([]));
    assert_eq!(
        section(&again["plan"], "achievements")["revision"],
        section(&first["plan"], "achievements")["revision"]
    );
    assert_eq!(app.history("ravi-patel", &plan_id).await, history);

    // A retried sign-off is not "already signed": it returns the first result.
    let sign = json!({ "planId": plan_id, "stageId": "member-oversight", "role": "portfolio-holder", "idempotencyKey": "sign-1" });
    let first = app.act("maria-costa", "signOff", sign.clone()).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 1);
    let again = app.act("maria-costa", "signOff", sign).await;
    assert_eq!(again["events"], json!([]));
    let history_after = app.history("ravi-patel", &plan_id).await;
    assert_eq!(history_after.len(), history.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_with_the_same_idempotency_key_write_once() {
    let app = spawn_app().await;
    let plan_id = app.start_plan("ravi-patel", &[STOCKPORT]).await;
    let before = app.history("ravi-patel", &plan_id).await.len();
    let token = app.token("ravi-patel").await;
    let client = app.client();
    let document = plan_mutation("editSection");
    let input = json!({ "planId": plan_id, "sectionId": "measuring-delivery", "text": "Quarterly to scrutiny.", "idempotencyKey": "retry-storm" });
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (client, token, document, input) = (
            client.clone(),
            token.clone(),
            document.clone(),
            input.clone(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .graphql(Some(&token), &document, json!({ "input": input }))
                .await
                .expect("an answer")
        }));
    }
    let mut written = 0;
    for task in tasks {
        let response = task.await.unwrap();
        if response.get("errors").is_some_and(|e| !e.is_null()) {
            assert_eq!(
                error_code(&response),
                "CONFLICT",
                "a retry racing the first call is either answered with its result or refused as in flight: {response}"
            );
            continue;
        }
        written += ok(&response)["editSection"]["events"]
            .as_array()
            .unwrap()
            .len();
    }
    assert_eq!(written, 1, "exactly one call reported writing");
    assert_eq!(
        app.history("ravi-patel", &plan_id).await.len(),
        before + 1,
        "the history grew by one event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_by_the_officer_a_committee_delegated_amendments_to_keep_its_approval_and_others_do_not(
) {
    let app = spawn_app().await;
    app.agree_barriers("One barriers text for Derbyshire.")
        .await;
    let plan_id = app.start_plan("nadia-bell", &["derbyshire-dales"]).await;
    app.act(
        "nadia-bell",
        "adoptSharedSection",
        json!({ "planId": plan_id, "sectionId": BARRIERS }),
    )
    .await;
    app.draft_sections("nadia-bell", &plan_id).await;
    for (person, stage_id, role) in [
        ("martin-ashby", "leadership-team", "chief-executive"),
        ("martin-ashby", "report-authorisation", "chief-executive"),
        ("claire-fenwick", "report-authorisation", "s151-officer"),
        (
            "harriet-doyle",
            "report-authorisation",
            "monitoring-officer",
        ),
    ] {
        app.act(
            person,
            "signOff",
            json!({ "planId": plan_id, "stageId": stage_id, "role": role }),
        )
        .await;
    }
    let amend = |who: &str| json!({ "planId": plan_id, "sectionId": "reducing-wasteful-spend", "text": format!("Amended by {who}.") });
    let (code, _) = app
        .refused("claire-fenwick", "editSection", amend("Claire"))
        .await;
    assert_eq!(
        code, "FORBIDDEN",
        "the S151 officer does not edit before a committee delegates to her"
    );

    let decision = json!({
        "planId": plan_id,
        "council": "derbyshire-dales",
        "committee": "Community and Environment Committee",
        "meetingDate": "2024-07-18",
        "decision": "APPROVED_WITH_DELEGATED_AMENDMENTS",
        "minuteReference": "Minute 112/24",
    });
    let (code, _) = app
        .refused("gareth-lowe", "recordCommitteeDecision", decision.clone())
        .await;
    assert_eq!(
        code, "BAD_INPUT",
        "delegated amendments name the officer they are delegated to"
    );
    let mut with_delegate = decision;
    with_delegate["delegatedTo"] = json!("claire-fenwick");
    app.act("gareth-lowe", "recordCommitteeDecision", with_delegate)
        .await;

    let amended = app
        .act("claire-fenwick", "editSection", amend("Claire"))
        .await;
    let plan = &amended["plan"];
    assert_eq!(
        section(plan, "reducing-wasteful-spend")["text"],
        "Amended by Claire."
    );
    for id in [
        "leadership-team",
        "report-authorisation",
        "committee-approval",
    ] {
        assert_eq!(
            stage(plan, id)["status"],
            "COMPLETE",
            "the delegated amendment leaves {id} complete"
        );
    }
    assert_eq!(
        stage(plan, "committee-approval")["decisions"][0]["stale"],
        false
    );
    assert_eq!(plan["status"], "APPROVED");

    let edited = app.act("nadia-bell", "editSection", amend("Nadia")).await;
    let plan = &edited["plan"];
    assert_eq!(
        stage(plan, "committee-approval")["decisions"][0]["stale"],
        true,
        "an edit by anyone else makes the committee's approval stale"
    );
    assert_eq!(stage(plan, "leadership-team")["signOffs"][0]["stale"], true);
    assert_ne!(plan["status"], "APPROVED");
    let (code, _) = app
        .refused("ellie-shaw", "submitPlan", json!({ "planId": plan_id }))
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_off_of_a_revision_edited_since_is_a_conflict_naming_who_changed_what_and_writes_nothing(
) {
    // Given a portfolio holder who read the plan, and a drafter who saved an edit after,
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &plan).await;
    let read = app.plan("maria-costa", &plan).await["revision"].clone();
    app.act(
        "ravi-patel",
        "editSection",
        json!({ "planId": plan, "sectionId": "achievements", "text": "Saved a second before." }),
    )
    .await;
    let head = app.head_cursor().await;
    let sign = |revision: Value| {
        json!({
            "planId": plan, "stageId": "member-oversight", "role": "portfolio-holder",
            "expectedRevision": revision,
        })
    };
    // when she signs the revision she read,
    let (code, message) = app
        .refused("maria-costa", "signOff", sign(read.clone()))
        .await;
    // then it is a conflict that says what changed, by whom, after which revision,
    assert_eq!(code, "CONFLICT", "{message}");
    assert!(message.contains("was edited by Ravi Patel at"), "{message}");
    assert!(
        message.contains(&format!("the revision you read ({read})")),
        "{message}"
    );
    // and nothing was written.
    assert!(app.events_after(&head).await.is_empty());

    // On the revision as it is now, the sign-off records it and the hash of that content.
    let now = app
        .graphql_as(
            "maria-costa",
            "query($id: ID!) { plan(id: $id) { revision contentHash } }",
            json!({ "id": plan }),
        )
        .await;
    let now = &ok(&now)["plan"];
    app.act("maria-costa", "signOff", sign(now["revision"].clone()))
        .await;
    let signed = app
        .graphql_as(
            "maria-costa",
            "query($id: ID!) { plan(id: $id) { stages { id signOffs { planRevision contentHash } } } }",
            json!({ "id": plan }),
        )
        .await;
    let sign_offs = &stage(&ok(&signed)["plan"], "member-oversight")["signOffs"][0];
    assert_eq!(sign_offs["planRevision"], now["revision"]);
    assert_eq!(sign_offs["contentHash"], now["contentHash"]);
}
