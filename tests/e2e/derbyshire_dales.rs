//! Derbyshire Dales: leadership team, report authorisation by the three statutory officers,
//! committee decision with its date and minute, submission to the department, publication.

use serde_json::json;

use crate::support::*;

const DALES: &str = "derbyshire-dales";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_derbyshire_dales_plan_goes_from_draft_to_publication_through_the_committee_route() {
    let app = spawn_app().await;
    // The barriers section comes from the Derbyshire chief executives: agree it first.
    let agreed = app
        .agree_barriers("Multi-year settlements and fewer competitive funding pots.")
        .await;

    let started = app
        .act(
            "nadia-bell",
            "startPlan",
            json!({ "workflow": WORKFLOW, "councils": [DALES] }),
        )
        .await;
    let plan_id = started["plan"]["id"].as_str().unwrap().to_owned();
    let plan = &started["plan"];
    assert_eq!(
        stage_ids(plan),
        [
            "leadership-team",
            "report-authorisation",
            "committee-approval",
            "submission",
            "publication"
        ],
        "Derbyshire Dales follows the committee route from the seeds"
    );
    assert_eq!(plan["status"], "DRAFTING");
    assert_eq!(ids(&plan["councils"]), [DALES]);
    assert_eq!(stage(plan, "leadership-team")["status"], "OPEN");
    assert_eq!(stage(plan, "committee-approval")["status"], "WAITING");
    assert_eq!(plan["currentStage"]["id"], "leadership-team");
    assert_eq!(
        section(plan, BARRIERS)["sharedFrom"]["id"],
        DERBYSHIRE_GROUP,
        "a Derbyshire Dales plan takes its barriers text from the group"
    );
    assert_eq!(started["events"].as_array().unwrap().len(), 1);
    assert_eq!(started["events"][0]["kind"], "PlanStarted");

    let adopted = app
        .act(
            "nadia-bell",
            "adoptSharedSection",
            json!({ "planId": plan_id, "sectionId": BARRIERS }),
        )
        .await;
    assert_eq!(
        section(&adopted["plan"], BARRIERS)["text"],
        "Multi-year settlements and fewer competitive funding pots."
    );
    assert!(agreed >= 1);
    app.draft_sections("nadia-bell", &plan_id).await;
    // The department sets the submission deadline; the council records the extension it grants
    // (here a generous one, so the plan submitted today is not late).
    let (code, _) = app
        .refused(
            "ellie-shaw",
            "setDeadline",
            json!({ "planId": plan_id, "due": "2099-07-19T22:59:59Z" }),
        )
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION");
    let with_deadline = app
        .act(
            "ellie-shaw",
            "recordExtension",
            json!({
                "planId": plan_id,
                "due": "2099-07-19T22:59:59Z",
                "grantedBy": "the Department for Levelling Up, Housing and Communities",
                "grantedOn": "2024-07-05",
                "reference": "DLUHC email of 5 July 2024",
            }),
        )
        .await;
    assert!(
        with_deadline["plan"]["deadline"]
            .as_str()
            .is_some_and(|d| d.starts_with("2099-07-19")),
        "the submission deadline is the extension's: {}",
        with_deadline["plan"]["deadline"]
    );

    // Leadership team: the chief executive records the corporate leadership team's approval.
    let led = app
        .act(
            "martin-ashby",
            "signOff",
            json!({ "planId": plan_id, "stageId": "leadership-team", "role": "chief-executive", "comment": "CLT approved the draft" }),
        )
        .await;
    let plan = &led["plan"];
    let leadership = stage(plan, "leadership-team");
    assert_eq!(leadership["status"], "COMPLETE");
    assert_eq!(leadership["signOffs"][0]["person"]["id"], "martin-ashby");
    assert_eq!(leadership["signOffs"][0]["council"]["id"], DALES);
    assert_eq!(leadership["signOffs"][0]["planRevision"], plan["revision"]);
    assert_eq!(leadership["signOffs"][0]["stale"], false);
    assert_eq!(plan["status"], "IN_APPROVAL");
    assert_eq!(plan["currentStage"]["id"], "report-authorisation");

    // Report authorisation: the three statutory officers.
    app.act(
        "martin-ashby",
        "signOff",
        json!({ "planId": plan_id, "stageId": "report-authorisation", "role": "chief-executive" }),
    )
    .await;
    app.act(
        "claire-fenwick",
        "signOff",
        json!({ "planId": plan_id, "stageId": "report-authorisation", "role": "s151-officer" }),
    )
    .await;
    let waiting = app.plan("nadia-bell", &plan_id).await;
    let report = stage(&waiting, "report-authorisation");
    assert_eq!(report["status"], "OPEN");
    let monitoring = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "monitoring-officer")
        .expect("report authorisation needs the Monitoring Officer");
    assert_eq!(monitoring["satisfied"], false);
    assert!(
        waiting["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["stage"] == "report-authorisation"
                && b["message"]
                    .as_str()
                    .unwrap()
                    .contains("Monitoring Officer")),
        "the blocker names who is awaited: {}",
        waiting["blockers"]
    );
    app.act(
        "harriet-doyle",
        "signOff",
        json!({ "planId": plan_id, "stageId": "report-authorisation", "role": "monitoring-officer" }),
    )
    .await;

    // The committee decision, with its meeting date and minute.
    let decided = app
        .act(
            "gareth-lowe",
            "recordCommitteeDecision",
            json!({
                "planId": plan_id,
                "council": DALES,
                "committee": "Community and Environment Committee",
                "meetingDate": "2024-07-18",
                "decision": "APPROVED",
                "minuteReference": "Minute 112/24",
            }),
        )
        .await;
    let plan = &decided["plan"];
    let committee = stage(plan, "committee-approval");
    assert_eq!(committee["status"], "COMPLETE");
    let decision = &committee["decisions"][0];
    assert_eq!(decision["council"]["id"], DALES);
    assert_eq!(decision["committee"], "Community and Environment Committee");
    assert_eq!(decision["meetingDate"], "2024-07-18");
    assert_eq!(decision["decision"], "APPROVED");
    assert_eq!(decision["minuteReference"], "Minute 112/24");
    assert_eq!(decision["planRevision"], plan["revision"]);
    assert_eq!(decision["stale"], false);
    assert_eq!(plan["status"], "APPROVED");
    assert_eq!(plan["currentStage"]["id"], "submission");

    // Submission, then publication.
    let submitted = app
        .act(
            "ellie-shaw",
            "submitPlan",
            json!({ "planId": plan_id, "reference": "PP-2024-DD" }),
        )
        .await;
    let plan = &submitted["plan"];
    assert_eq!(plan["status"], "SUBMITTED");
    assert!(plan["submittedAt"].is_string(), "submittedAt is recorded");
    assert_eq!(
        plan["late"], false,
        "submitted before the deadline set on the plan"
    );
    assert_eq!(stage(plan, "submission")["status"], "COMPLETE");

    let (code, _) = app
        .refused(
            "nadia-bell",
            "editSection",
            json!({ "planId": plan_id, "sectionId": "achievements", "text": "A late change." }),
        )
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION", "submitted text is frozen");

    let published = app
        .act(
            "ellie-shaw",
            "publishPlan",
            json!({ "planId": plan_id, "url": "https://www.derbyshiredales.gov.uk/productivity-plan" }),
        )
        .await;
    let plan = &published["plan"];
    assert_eq!(plan["status"], "PUBLISHED");
    assert!(plan["currentStage"].is_null(), "every stage is complete");
    assert_eq!(plan["blockers"], json!([]));
    for s in plan["stages"].as_array().unwrap() {
        assert_eq!(s["status"], "COMPLETE", "stage {}", s["id"]);
    }

    let history = app.history("ellie-shaw", &plan_id).await;
    let mut expected = vec!["PlanStarted", "SharedSectionAdopted"];
    expected.extend(["SectionEdited"; 5]);
    expected.push("DeadlineExtended");
    expected.extend(["SignedOff"; 4]);
    expected.extend([
        "CommitteeDecisionRecorded",
        "PlanSubmitted",
        "PlanPublished",
    ]);
    assert_eq!(kinds(&history), expected);
    let versions: Vec<i64> = history
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert!(
        versions.windows(2).all(|w| w[1] == w[0] + 1),
        "the plan's stream versions have no gaps: {versions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_submission_is_refused_naming_the_stage_still_missing_and_writes_nothing() {
    let app = spawn_app().await;
    app.agree_barriers("One barriers text for Derbyshire.")
        .await;
    let plan_id = app.start_plan("nadia-bell", &[DALES]).await;

    let before = app.history("ellie-shaw", &plan_id).await;
    let (code, message) = app
        .refused("ellie-shaw", "submitPlan", json!({ "planId": plan_id }))
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION");
    assert!(
        message.to_lowercase().contains("leadership team"),
        "the refusal names the missing stage: {message}"
    );
    assert_eq!(app.history("ellie-shaw", &plan_id).await, before);

    // Further along: leadership team done, report authorisation still needs its Monitoring Officer.
    app.act(
        "nadia-bell",
        "adoptSharedSection",
        json!({ "planId": plan_id, "sectionId": BARRIERS }),
    )
    .await;
    for (person, stage_id, role) in [
        ("martin-ashby", "leadership-team", "chief-executive"),
        ("martin-ashby", "report-authorisation", "chief-executive"),
        ("claire-fenwick", "report-authorisation", "s151-officer"),
    ] {
        app.act(
            person,
            "signOff",
            json!({ "planId": plan_id, "stageId": stage_id, "role": role }),
        )
        .await;
    }
    let (code, message) = app
        .refused("ellie-shaw", "submitPlan", json!({ "planId": plan_id }))
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION");
    assert!(
        message.to_lowercase().contains("report authorisation")
            && message.contains("Monitoring Officer"),
        "the refusal names report authorisation and who it waits on: {message}"
    );

    // The committee cannot decide before report authorisation either.
    let (code, message) = app
        .refused(
            "gareth-lowe",
            "recordCommitteeDecision",
            json!({
                "planId": plan_id,
                "council": DALES,
                "committee": "Community and Environment Committee",
                "meetingDate": "2024-07-18",
                "decision": "APPROVED",
                "minuteReference": "Minute 112/24",
            }),
        )
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION");
    assert!(
        message.to_lowercase().contains("report authorisation"),
        "the refusal names report authorisation: {message}"
    );
    let plan = app.plan("ellie-shaw", &plan_id).await;
    assert_eq!(plan["status"], "IN_APPROVAL");
    assert!(plan["submittedAt"].is_null());
    assert_eq!(stage(&plan, "submission")["status"], "WAITING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deputy_monitoring_officer_can_authorise_the_report_for_derbyshire_dales() {
    let app = spawn_app().await;
    app.agree_barriers("One barriers text for Derbyshire.")
        .await;
    let plan_id = app.start_plan("nadia-bell", &[DALES]).await;
    app.act(
        "nadia-bell",
        "adoptSharedSection",
        json!({ "planId": plan_id, "sectionId": BARRIERS }),
    )
    .await;
    for (person, stage_id, role) in [
        ("martin-ashby", "leadership-team", "chief-executive"),
        ("martin-ashby", "report-authorisation", "chief-executive"),
        ("claire-fenwick", "report-authorisation", "s151-officer"),
        ("owen-price", "report-authorisation", "monitoring-officer"),
    ] {
        app.act(
            person,
            "signOff",
            json!({ "planId": plan_id, "stageId": stage_id, "role": role }),
        )
        .await;
    }
    let plan = app.plan("nadia-bell", &plan_id).await;
    let report = stage(&plan, "report-authorisation");
    assert_eq!(report["status"], "COMPLETE");
    assert!(
        report["signOffs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["person"]["id"] == "owen-price" && s["role"] == "monitoring-officer"),
        "the record shows who really signed: {}",
        report["signOffs"]
    );
}
