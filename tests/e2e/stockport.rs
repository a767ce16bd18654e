//! Stockport: member oversight by the portfolio holder with the S151 officer, submission and
//! publication, and cabinet sees the submitted plan afterwards.

use serde_json::json;

use crate::support::*;

const STOCKPORT: &str = "stockport";

fn cabinet_decision(plan_id: &str) -> serde_json::Value {
    json!({
        "planId": plan_id,
        "council": STOCKPORT,
        "committee": "Cabinet",
        "meetingDate": "2024-10-15",
        "decision": "APPROVED",
        "minuteReference": "CAB/24/57",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stockport_plan_is_submitted_after_member_oversight_and_seen_by_cabinet_afterwards() {
    let app = spawn_app().await;
    let plan_id = app.start_plan("ravi-patel", &[STOCKPORT]).await;
    let plan = app.plan("ravi-patel", &plan_id).await;
    assert_eq!(
        stage_ids(&plan),
        ["member-oversight", "submission", "publication", "cabinet"],
        "Stockport follows the portfolio-holder route from the seeds"
    );
    assert!(
        section(&plan, BARRIERS)["sharedFrom"].is_null(),
        "Stockport is in no group that writes the barriers section"
    );
    app.draft_sections("ravi-patel", &plan_id).await;

    // Cabinet comes after submission: it cannot decide first.
    let (code, message) = app
        .refused(
            "hannah-moss",
            "recordCommitteeDecision",
            cabinet_decision(&plan_id),
        )
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION");
    assert!(
        message.to_lowercase().contains("member oversight"),
        "the refusal names the first stage still missing: {message}"
    );

    app.act(
        "maria-costa",
        "signOff",
        json!({ "planId": plan_id, "stageId": "member-oversight", "role": "portfolio-holder" }),
    )
    .await;
    let halfway = app.plan("ravi-patel", &plan_id).await;
    assert_eq!(stage(&halfway, "member-oversight")["status"], "OPEN");
    assert_eq!(halfway["status"], "IN_APPROVAL");
    let signed = app
        .act(
            "kwame-mensah",
            "signOff",
            json!({ "planId": plan_id, "stageId": "member-oversight", "role": "s151-officer" }),
        )
        .await;
    let plan = &signed["plan"];
    assert_eq!(stage(plan, "member-oversight")["status"], "COMPLETE");
    assert_eq!(
        plan["status"], "APPROVED",
        "every stage before submission is complete"
    );
    assert_eq!(plan["currentStage"]["id"], "submission");

    let submitted = app
        .act(
            "joe-sutton",
            "submitPlan",
            json!({ "planId": plan_id, "reference": "PP-2024-STK" }),
        )
        .await;
    let plan = &submitted["plan"];
    assert_eq!(plan["status"], "SUBMITTED");
    assert!(plan["submittedAt"].is_string());
    assert_eq!(
        plan["late"], true,
        "submitted after the workflow's deadline of 19 July 2024"
    );
    assert_eq!(submitted["events"][0]["kind"], "PlanSubmitted");

    let published = app
        .act(
            "joe-sutton",
            "publishPlan",
            json!({ "planId": plan_id, "url": "https://www.stockport.gov.uk/productivity-plan" }),
        )
        .await;
    let plan = &published["plan"];
    assert_eq!(plan["status"], "PUBLISHED");
    assert_eq!(plan["currentStage"]["id"], "cabinet");
    assert_eq!(stage(plan, "cabinet")["status"], "OPEN");

    let decided = app
        .act(
            "hannah-moss",
            "recordCommitteeDecision",
            cabinet_decision(&plan_id),
        )
        .await;
    let plan = &decided["plan"];
    let cabinet = stage(plan, "cabinet");
    assert_eq!(cabinet["status"], "COMPLETE");
    assert_eq!(cabinet["decisions"][0]["committee"], "Cabinet");
    assert_eq!(cabinet["decisions"][0]["meetingDate"], "2024-10-15");
    assert_eq!(cabinet["decisions"][0]["minuteReference"], "CAB/24/57");
    assert!(plan["currentStage"].is_null());
    assert_eq!(plan["status"], "PUBLISHED");

    let history = app.history("ravi-patel", &plan_id).await;
    let tail: Vec<String> = kinds(&history).into_iter().rev().take(5).rev().collect();
    assert_eq!(
        tail,
        [
            "SignedOff",
            "SignedOff",
            "PlanSubmitted",
            "PlanPublished",
            "CommitteeDecisionRecorded"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joint_plan_of_councils_on_different_routes_must_say_which_route_it_follows() {
    let app = spawn_app().await;
    // Ravi drafts for Stockport (portfolio-holder route); Derbyshire Dales follows the committee route.
    let (code, message) = app
        .refused(
            "ravi-patel",
            "startPlan",
            json!({ "workflow": WORKFLOW, "councils": [STOCKPORT, "derbyshire-dales"] }),
        )
        .await;
    assert_eq!(code, "BAD_INPUT", "{message}");

    let started = app
        .act(
            "ravi-patel",
            "startPlan",
            json!({ "workflow": WORKFLOW, "councils": [STOCKPORT, "derbyshire-dales"], "route": "portfolio-holder" }),
        )
        .await;
    assert_eq!(
        stage_ids(&started["plan"]),
        ["member-oversight", "submission", "publication", "cabinet"]
    );
}
