//! Workflow definitions: the shipped files load, and every kind of bad definition is refused with
//! its file, line and what is wrong.

use councilflow_governance::{DueRule, Role, StageKind, Workflow, Workflows};

use crate::common::*;

#[test]
fn every_shipped_workflow_file_loads() {
    let workflows = shipped_workflows();
    assert_eq!(workflows.len(), read_dir(WORKFLOWS).len());
    let ids: Vec<&str> = workflows.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(
        ids,
        ["peer-challenge-action-plan", "productivity-plan-2024"]
    );
}

#[test]
fn the_productivity_plan_has_the_four_themes_and_both_routes_in_the_documented_order() {
    let w = shipped_workflows();
    let pp = w.get(&"productivity-plan-2024".parse().unwrap()).unwrap();
    let themes: Vec<&str> = pp
        .sections
        .iter()
        .filter_map(|s| s.theme.as_deref())
        .collect();
    for theme in [
        "transformation",
        "technology and data",
        "wasteful spend",
        "barriers",
    ] {
        assert!(themes.contains(&theme), "{theme}");
    }
    assert!(pp.section(&sec("barriers")).unwrap().shared);
    let committee: Vec<&str> = pp
        .route_stages(&"committee".parse().unwrap())
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        committee,
        [
            "leadership-team",
            "report-authorisation",
            "committee-approval",
            "submission",
            "publication"
        ]
    );
    let ph: Vec<(&str, StageKind)> = pp
        .route_stages(&"portfolio-holder".parse().unwrap())
        .iter()
        .map(|s| (s.id.as_str(), s.kind))
        .collect();
    assert_eq!(
        ph,
        [
            ("member-oversight", StageKind::SignOff),
            ("submission", StageKind::Submission),
            ("publication", StageKind::Publication),
            ("cabinet", StageKind::Committee)
        ]
    );
    let auth = pp.stage(&sid("report-authorisation")).unwrap();
    assert_eq!(
        auth.roles,
        [
            Role::ChiefExecutive,
            Role::S151Officer,
            Role::MonitoringOfficer
        ]
    );
    assert_eq!(pp.submission_due, Some(DueRule::On(d("2024-07-19"))));
}

#[test]
fn the_reminder_policy_is_typed_data() {
    let w = shipped_workflows();
    let pp = w.get(&"productivity-plan-2024".parse().unwrap()).unwrap();
    assert_eq!(pp.reminders.days_before, [28, 14, 7, 2]);
    assert_eq!(pp.reminders.hour, 9);
    assert_eq!(pp.reminders.overdue_every_days, 2);
    assert_eq!(pp.reminders.escalate_after_days_overdue, 3);
    assert_eq!(pp.reminders.escalate_to, Role::ChiefExecutive);
}

#[test]
fn the_peer_challenge_workflow_has_a_section_per_recommendation_and_a_review_a_year_on() {
    let w = shipped_workflows();
    let pc = w
        .get(&"peer-challenge-action-plan".parse().unwrap())
        .unwrap();
    assert_eq!(
        pc.sections
            .iter()
            .filter(|s| s.id.as_str().starts_with("recommendation-"))
            .count(),
        8
    );
    let review = pc.stage(&sid("progress-review")).unwrap();
    assert_eq!(
        review.due.as_ref().unwrap().to_string(),
        "challenge + 12 months"
    );
    let kinds: Vec<StageKind> = pc.default_stages().iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            StageKind::SignOff,
            StageKind::Committee,
            StageKind::Publication,
            StageKind::SignOff
        ]
    );
}

const GOOD: &str = r#"
id = "tiny"
title = "Tiny"
default_route = "main"

[reminders]
days_before = [7, 2]
hour = 9
overdue_every_days = 1
escalate_after_days_overdue = 3
escalate_to = "chief-executive"

[[sections]]
id = "body"
title = "Body"

[[stages]]
id = "approve"
title = "Approval"
kind = "sign-off"
roles = ["chief-executive"]
due = "start + 2 weeks"

[[stages]]
id = "submit"
title = "Submission"
kind = "submission"

[[routes]]
id = "main"
title = "Main"
stages = ["approve", "submit"]
"#;

/// Parses GOOD with one replacement and returns "line: message".
fn refusal(from: &str, to: &str) -> (usize, String) {
    assert!(GOOD.contains(from), "{from}");
    let text = GOOD.replacen(from, to, 1);
    let err = Workflow::parse("tiny.toml", &text).unwrap_err();
    assert_eq!(err.file, "tiny.toml");
    (err.line.expect("a line"), err.message)
}

fn line_of(needle: &str) -> usize {
    GOOD[..GOOD.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn a_well_formed_definition_is_accepted() {
    let w = Workflow::parse("tiny.toml", GOOD).unwrap();
    assert_eq!(
        w.stages[0].due.as_ref().unwrap().to_string(),
        "start + 2 weeks"
    );
    assert_eq!(w.stages[1].roles, [Role::Submitter]);
}

#[test]
fn an_unknown_role_is_refused_with_its_line() {
    let (line, msg) = refusal(
        r#"roles = ["chief-executive"]"#,
        r#"roles = ["chief-exec"]"#,
    );
    assert_eq!(line, line_of(r#"roles = ["chief-executive"]"#));
    assert!(msg.contains("unknown role 'chief-exec'"), "{msg}");
}

#[test]
fn an_unknown_stage_kind_is_refused_with_its_line() {
    let (line, msg) = refusal(r#"kind = "sign-off""#, r#"kind = "rubber-stamp""#);
    assert_eq!(line, line_of(r#"kind = "sign-off""#));
    assert!(msg.contains("unknown stage kind 'rubber-stamp'"), "{msg}");
}

#[test]
fn a_duplicate_stage_id_is_refused_with_its_line() {
    let (line, msg) = refusal(r#"id = "submit""#, r#"id = "approve""#);
    assert_eq!(line, line_of(r#"id = "submit""#));
    assert!(msg.contains("duplicate stage id 'approve'"), "{msg}");
}

#[test]
fn a_route_naming_a_missing_stage_is_refused_with_its_line() {
    let (line, msg) = refusal(
        r#"stages = ["approve", "submit"]"#,
        r#"stages = ["approve", "sumbit"]"#,
    );
    assert_eq!(line, line_of(r#"stages = ["approve", "submit"]"#));
    assert!(msg.contains("names stage 'sumbit'"), "{msg}");
}

#[test]
fn a_malformed_duration_is_refused_with_its_line() {
    let (line, msg) = refusal(r#"due = "start + 2 weeks""#, r#"due = "start + two weeks""#);
    assert_eq!(line, line_of(r#"due = "start + 2 weeks""#));
    assert!(msg.contains("whole number"), "{msg}");
}

#[test]
fn a_malformed_date_is_refused_with_its_line() {
    let (line, msg) = refusal(r#"due = "start + 2 weeks""#, r#"due = "2024-02-30""#);
    assert_eq!(line, line_of(r#"due = "start + 2 weeks""#));
    assert!(msg.contains("YYYY-MM-DD"), "{msg}");
}

#[test]
fn a_due_rule_counting_from_an_undeclared_date_is_refused() {
    let (_, msg) = refusal(r#"due = "start + 2 weeks""#, r#"due = "visit + 2 weeks""#);
    assert!(msg.contains("not a declared date"), "{msg}");
}

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    let (line, msg) = refusal("hour = 9", "hour = 9\ntimezone = \"UTC\"");
    assert_eq!(line, line_of("hour = 9") + 1);
    assert!(msg.contains("unknown field `timezone`"), "{msg}");
}

#[test]
fn a_missing_default_route_is_refused() {
    let (line, msg) = refusal(r#"default_route = "main""#, r#"default_route = "other""#);
    assert_eq!(line, line_of("default_route"));
    assert!(msg.contains("default_route 'other'"), "{msg}");
}

#[test]
fn a_covers_list_naming_a_missing_section_is_refused() {
    let (_, msg) = refusal(
        r#"roles = ["chief-executive"]"#,
        "roles = [\"chief-executive\"]\ncovers = [\"bdy\"]",
    );
    assert!(msg.contains("covers section 'bdy'"), "{msg}");
}

#[test]
fn a_sign_off_stage_without_roles_is_refused() {
    let (_, msg) = refusal(r#"roles = ["chief-executive"]"#, "");
    assert!(msg.contains("needs at least one role"), "{msg}");
}

#[test]
fn a_reminder_hour_outside_the_day_is_refused() {
    let (line, msg) = refusal("hour = 9", "hour = 25");
    assert_eq!(line, line_of("hour = 9"));
    assert!(msg.contains("0 to 23"), "{msg}");
}

#[test]
fn reminder_days_out_of_order_are_refused() {
    let (_, msg) = refusal("days_before = [7, 2]", "days_before = [2, 7]");
    assert!(msg.contains("largest first"), "{msg}");
}

#[test]
fn broken_toml_syntax_is_refused_with_its_line() {
    let err = Workflow::parse("broken.toml", "id = \"x\"\ntitle = \n").unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(err.to_string().starts_with("broken.toml:2:"), "{err}");
}

#[test]
fn the_same_workflow_id_in_two_files_is_refused() {
    let err = Workflows::load([("a.toml", GOOD), ("b.toml", GOOD)]).unwrap_err();
    assert_eq!(err.file, "b.toml");
    assert!(
        err.message.contains("duplicate workflow id 'tiny': a.toml"),
        "{}",
        err.message
    );
}
