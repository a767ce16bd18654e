//! The High Peak / Staffordshire Moorlands alliance: one plan owned by two councils, one Chief
//! Executive signing for each council separately, and each council's own committee.

use serde_json::{json, Value};

use crate::support::*;

const HIGH_PEAK: &str = "high-peak";
const MOORLANDS: &str = "staffordshire-moorlands";

fn requirement<'a>(stage: &'a Value, role: &str, council: &str) -> &'a Value {
    stage["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == role && r["council"]["id"] == council)
        .unwrap_or_else(|| {
            panic!(
                "no requirement for the {role} of {council}: {}",
                stage["requirements"]
            )
        })
}

fn committee(plan_id: &str, council: &str, name: &str, date: &str, minute: &str) -> Value {
    json!({
        "planId": plan_id,
        "council": council,
        "committee": name,
        "meetingDate": date,
        "decision": "APPROVED",
        "minuteReference": minute,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alliance_chief_executive_signs_for_each_council_and_both_committees_must_approve() {
    let app = spawn_app().await;
    let started = app
        .act(
            "sam-whitfield",
            "startPlan",
            json!({ "workflow": WORKFLOW, "councils": [HIGH_PEAK, MOORLANDS], "title": "Alliance productivity plan 2024" }),
        )
        .await;
    let plan_id = started["plan"]["id"].as_str().unwrap().to_owned();
    assert_eq!(started["plan"]["title"], "Alliance productivity plan 2024");
    assert_eq!(ids(&started["plan"]["councils"]), [HIGH_PEAK, MOORLANDS]);
    assert_eq!(
        stage_ids(&started["plan"]),
        [
            "leadership-team",
            "report-authorisation",
            "committee-approval",
            "submission",
            "publication"
        ]
    );
    assert!(
        section(&started["plan"], BARRIERS)["sharedFrom"].is_null(),
        "Staffordshire Moorlands is not a Derbyshire council: the alliance writes its own barriers"
    );
    app.draft_sections("sam-whitfield", &plan_id).await;

    // One person, two councils: she must say which council she signs for.
    let (code, message) = app
        .refused(
            "priya-holloway",
            "signOff",
            json!({ "planId": plan_id, "stageId": "leadership-team", "role": "chief-executive" }),
        )
        .await;
    assert_eq!(code, "BAD_INPUT");
    assert!(
        message.contains("High Peak") && message.contains("Staffordshire Moorlands"),
        "the refusal names both councils: {message}"
    );

    let signed = app
        .act(
            "priya-holloway",
            "signOff",
            json!({ "planId": plan_id, "stageId": "leadership-team", "role": "chief-executive", "council": HIGH_PEAK }),
        )
        .await;
    let leadership = stage(&signed["plan"], "leadership-team");
    assert_eq!(
        requirement(leadership, "chief-executive", HIGH_PEAK)["satisfied"],
        true
    );
    assert_eq!(
        requirement(leadership, "chief-executive", MOORLANDS)["satisfied"],
        false,
        "High Peak's sign-off does not count for Staffordshire Moorlands"
    );
    assert_eq!(leadership["status"], "OPEN");
    assert!(
        signed["plan"]["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["message"]
                .as_str()
                .unwrap()
                .contains("Staffordshire Moorlands")),
        "the blocker names the council still awaited: {}",
        signed["plan"]["blockers"]
    );
    let (code, _) = app
        .refused(
            "tom-achebe",
            "signOff",
            json!({ "planId": plan_id, "stageId": "report-authorisation", "role": "s151-officer", "council": HIGH_PEAK }),
        )
        .await;
    assert_eq!(
        code, "GOVERNANCE_VIOLATION",
        "report authorisation waits for both councils' leadership sign-off"
    );
    let (code, _) = app
        .refused(
            "priya-holloway",
            "signOff",
            json!({ "planId": plan_id, "stageId": "leadership-team", "role": "chief-executive", "council": HIGH_PEAK }),
        )
        .await;
    assert_eq!(code, "CONFLICT", "High Peak is already signed for");

    app.act(
        "priya-holloway",
        "signOff",
        json!({ "planId": plan_id, "stageId": "leadership-team", "role": "chief-executive", "council": MOORLANDS }),
    )
    .await;

    let mut last = Value::Null;
    for (person, role) in [
        ("priya-holloway", "chief-executive"),
        ("tom-achebe", "s151-officer"),
        ("ruth-calder", "monitoring-officer"),
    ] {
        for council in [HIGH_PEAK, MOORLANDS] {
            last = app
                .act(
                    person,
                    "signOff",
                    json!({ "planId": plan_id, "stageId": "report-authorisation", "role": role, "council": council }),
                )
                .await;
        }
    }
    let plan = &last["plan"];
    assert_eq!(stage(plan, "leadership-team")["status"], "COMPLETE");
    let report = stage(plan, "report-authorisation");
    assert_eq!(report["status"], "COMPLETE");
    assert_eq!(report["signOffs"].as_array().unwrap().len(), 6);

    // High Peak's committee approves; Staffordshire Moorlands' has not yet.
    let one = app
        .act(
            "lewis-brandt",
            "recordCommitteeDecision",
            committee(
                &plan_id,
                HIGH_PEAK,
                "Corporate Select Committee",
                "2024-07-16",
                "HP 24/031",
            ),
        )
        .await;
    let committee_stage = stage(&one["plan"], "committee-approval");
    assert_eq!(committee_stage["status"], "OPEN");
    assert_eq!(
        committee_stage["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["council"]["id"] == MOORLANDS)
            .map(|r| r["satisfied"].clone())
            .collect::<Vec<_>>(),
        [json!(false)],
        "Staffordshire Moorlands' committee has still to decide: {}",
        committee_stage["requirements"]
    );
    let (code, message) = app
        .refused("jade-okafor", "submitPlan", json!({ "planId": plan_id }))
        .await;
    assert_eq!(code, "GOVERNANCE_VIOLATION");
    assert!(
        message.contains("Staffordshire Moorlands"),
        "one council's approval does not count for the other: {message}"
    );

    let both = app
        .act(
            "lewis-brandt",
            "recordCommitteeDecision",
            committee(&plan_id, MOORLANDS, "Cabinet", "2024-07-17", "SMDC 24/112"),
        )
        .await;
    let committee_stage = stage(&both["plan"], "committee-approval");
    assert_eq!(committee_stage["status"], "COMPLETE");
    let mut decided: Vec<(String, String)> = committee_stage["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["council"]["id"].as_str().unwrap().to_owned(),
                d["minuteReference"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    decided.sort();
    assert_eq!(
        decided,
        [
            (HIGH_PEAK.to_owned(), "HP 24/031".to_owned()),
            (MOORLANDS.to_owned(), "SMDC 24/112".to_owned())
        ]
    );
    assert_eq!(both["plan"]["status"], "APPROVED");

    let submitted = app
        .act("jade-okafor", "submitPlan", json!({ "planId": plan_id }))
        .await;
    assert_eq!(submitted["plan"]["status"], "SUBMITTED");
}
