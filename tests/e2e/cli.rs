//! The CLI beside the server: tokens and the people list.

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_an_unknown_person_is_refused_by_the_cli() {
    let app = spawn_process_app().await;
    let out = app.cli(&["token", "--person", "nobody-at-all"]).await;
    assert!(
        !out.status.success(),
        "`councilflow token --person nobody-at-all` should fail; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The server still answers tokens made for real people.
    let response = app
        .graphql_as("fiona-grant", "query { me { id } }", json!({}))
        .await;
    assert_eq!(ok(&response)["me"]["id"], "fiona-grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_token_from_the_cli_is_new_and_both_work() {
    let app = spawn_process_app().await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let out = app.cli(&["token", "--person", "lucy-tran"]).await;
        assert!(out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        tokens.push(stdout.lines().last().unwrap().trim().to_owned());
    }
    assert_ne!(tokens[0], tokens[1], "a new token each time");
    for token in &tokens {
        let response = app.graphql(token, "query { me { id } }", json!({})).await;
        assert_eq!(ok(&response)["me"]["id"], "lucy-tran");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_people_command_lists_every_seeded_role_assignment() {
    let mut app = spawn_process_app().await;
    // How it stopped is `crash::a_sigterm_as_soon_as_the_server_says_it_listens_stops_it_cleanly`'s
    // business; here it only has to let go of the folder.
    app.stop().await;
    let out = app.cli(&["people"]).await;
    assert!(
        out.status.success(),
        "`councilflow people` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    for expected in [
        "martin-ashby\tchief-executive\tderbyshire-dales",
        "priya-holloway\tchief-executive\thigh-peak",
        "priya-holloway\tchief-executive\tstaffordshire-moorlands",
        "rachel-ingham\tgroup-member\tderbyshire-chief-executives",
        "performance-dashboard\treader\tashfield",
    ] {
        assert!(
            lines.iter().any(|l| l.trim_end() == expected),
            "missing line {expected:?} in:\n{stdout}"
        );
    }
    let seeds = std::fs::read_to_string(repo_path("seeds/people.toml")).unwrap();
    let seeded_assignments = seeds.matches("{ role = ").count();
    let people: Vec<&str> = seeds
        .lines()
        .filter_map(|l| l.strip_prefix("id = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    assert_eq!(
        lines
            .iter()
            .filter(
                |l| l.split('\t').count() == 3 && people.contains(&l.split('\t').next().unwrap())
            )
            .count(),
        seeded_assignments,
        "one line per role assignment in the seeds"
    );
}
