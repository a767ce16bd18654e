//! Seeds at start: loading the same seeds again records nothing; a changed seed file records its
//! changes as events.

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_with_the_same_seeds_records_nothing_and_a_changed_seed_records_its_change() {
    let mut app = spawn_app().await;
    let before = app.all_events("regional-dashboard").await;
    assert!(
        !before.is_empty(),
        "the first start records the organisation"
    );

    app.restart().await;
    let same = app.all_events("regional-dashboard").await;
    assert_eq!(
        same.len(),
        before.len(),
        "the same seeds again: no new events"
    );

    // A copy of the seeds in which one person's address changed.
    let changed = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo_path("seeds")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("ravi.patel@example.org", "ravi.patel@stockport.example.org");
        std::fs::write(changed.path().join(path.file_name().unwrap()), text).unwrap();
    }
    app.use_seeds(changed.path());
    app.restart().await;
    let after = app.all_events("regional-dashboard").await;
    let new: Vec<_> = after[before.len()..].to_vec();
    assert_eq!(
        kinds(&new),
        ["PersonUpdated"],
        "exactly the change: {new:?}"
    );
    let me = app
        .graphql_as("ravi-patel", "query { me { email } }", json!({}))
        .await;
    assert_eq!(ok(&me)["me"]["email"], "ravi.patel@stockport.example.org");
}
