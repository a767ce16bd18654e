//! A group's board: every member council's plan in one table, sortable, and the same as CSV;
//! read by those who work at the group or one of its members, and by no one else.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

const DERBYSHIRE: &str = "/groups/derbyshire-chief-executives";

/// The CSV's rows, read by Python's csv module.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut python = Command::new("python3")
        .args([
            "-c",
            "import csv, json, sys; print(json.dumps(list(csv.reader(sys.stdin))))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = python.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_groups_board_lists_every_member_councils_plan_sorted_as_asked_and_as_csv() {
    let app = spawn_app().await;
    let plan = app.start_plan("nadia-bell", &["derbyshire-dales"]).await;

    // The group's policy officer reads the board, but not the member's draft behind it.
    let mut rachel = app.web_session("rachel-ingham").await;
    let board = rachel.get(DERBYSHIRE).await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert!(board
        .body
        .contains("<title>Derbyshire Chief Executives Group: plans of its members – councilflow"));
    assert!(board.body.contains("Bolsover District Council"));
    assert!(board.body.contains("No plan yet"));
    assert!(board
        .body
        .contains("Productivity plan 2024: Derbyshire Dales District Council"));
    assert!(!board.body.contains(&format!("href=\"/plans/{plan}\"")));
    assert!(board.body.contains("Council (sorted)"));
    let sorted = rachel.get(&format!("{DERBYSHIRE}?sort=deadline")).await;
    assert!(sorted.body.contains("Next deadline (sorted)"));
    assert!(sorted.body.contains("aria-sort=\"ascending\""));

    // The member council's own drafter gets a link to the plan.
    let mut nadia = app.web_session("nadia-bell").await;
    let theirs = nadia.get(DERBYSHIRE).await;
    assert!(theirs.body.contains(&format!("href=\"/plans/{plan}\"")));
    assert!(theirs
        .body
        .contains("href=\"/groups/derbyshire-chief-executives\""));

    // The same rows as CSV: a header, then one per member council of the nine.
    let csv = rachel.get(&format!("{DERBYSHIRE}/board.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let rows = csv_rows(&csv.body);
    assert_eq!(rows[0][0], "Councils");
    assert_eq!(rows.len(), 10, "{rows:?}");
    let dales = rows
        .iter()
        .find(|r| r[0] == "Derbyshire Dales District Council")
        .expect("Derbyshire Dales");
    assert_eq!(dales[2], "Drafting");
    assert!(dales[7].contains("no decision yet"), "{dales:?}");

    // Someone from outside the group finds no such group.
    let mut ravi = app.web_session("ravi-patel").await;
    assert_eq!(ravi.get(DERBYSHIRE).await.status, 404);
    assert_eq!(
        ravi.get(&format!("{DERBYSHIRE}/board.csv")).await.status,
        404
    );
    assert_eq!(ravi.get("/groups/atlantis").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alliances_joint_plan_is_one_row_with_each_councils_decision_side_by_side() {
    let app = spawn_app().await;
    app.start_plan("sam-whitfield", &["high-peak", "staffordshire-moorlands"])
        .await;
    let mut sam = app.web_session("sam-whitfield").await;
    let csv = sam
        .get("/groups/high-peak-staffordshire-moorlands-alliance/board.csv")
        .await;
    let rows = csv_rows(&csv.body);
    assert_eq!(rows.len(), 2, "one joint plan: {rows:?}");
    assert_eq!(
        rows[1][0],
        "High Peak Borough Council and Staffordshire Moorlands District Council"
    );
    assert_eq!(
        rows[1][7],
        "High Peak Borough Council: no decision yet; Staffordshire Moorlands District Council: no decision yet"
    );
}
