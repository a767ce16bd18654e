//! Signing in with a council's own accounts, against a real OpenID Connect provider
//! (`oidc-provider` on node, started by each test): the flow, a replayed or stray answer, an
//! unknown email, another council's officer, and a provider answering as another issuer.

use serde_json::json;

use crate::support::oidc::{providers_file, Provider, Walk};
use crate::support::*;

/// A provider knowing Ravi Patel (Stockport), Nadia Bell (Derbyshire Dales), an unverified
/// address and (by default) addresses councilflow does not know; councilflow set up with it for
/// Stockport, and for Derbyshire Dales under a name that is not the provider's issuer.
async fn stockport_with_its_provider() -> (TestApp, Provider, tempfile::TempDir) {
    let provider = Provider::start(json!({
        "ravi": { "email": "Ravi.Patel@example.org", "email_verified": true },
        "nadia": { "email": "nadia.bell@example.org", "email_verified": true },
        "unverified": { "email": "ravi.patel@example.org", "email_verified": false },
    }));
    let dir = tempfile::tempdir().unwrap();
    // Discovery at "localhost" answers as "127.0.0.1": not the issuer configured.
    let elsewhere = provider.issuer.replace("127.0.0.1", "localhost");
    let file = providers_file(
        dir.path(),
        &[
            ("stockport", provider.issuer.as_str()),
            ("derbyshire-dales", elsewhere.as_str()),
        ],
    );
    let app = spawn_app_with(&["--sign-in-providers", file.to_str().unwrap()]).await;
    (app, provider, dir)
}

#[tokio::test]
async fn an_officer_signs_in_with_the_council_account_and_lands_where_they_were_going() {
    let (app, _provider, _dir) = stockport_with_its_provider().await;
    let mut walk = Walk::new(&app.address);

    let sign_in = walk.get("/sign-in?next=/calendar").await;
    assert!(sign_in
        .body
        .contains("Sign in with Stockport Metropolitan Borough Council account"));
    let callback = walk
        .sign_in_at_provider("stockport", "/calendar", "ravi")
        .await;
    let answer = walk.get(&callback).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location(), Some("/calendar"));

    let home = walk.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Ravi Patel"), "signed in as Ravi Patel");
}

#[tokio::test]
async fn a_replayed_answer_from_the_provider_signs_no_one_in() {
    let (app, _provider, _dir) = stockport_with_its_provider().await;
    let mut walk = Walk::new(&app.address);
    let callback = walk.sign_in_at_provider("stockport", "/", "ravi").await;
    assert_eq!(walk.get(&callback).await.status, 303);

    // The same answer again, from the same browser, signed out first.
    walk.post("/sign-out", &[]).await;
    let replayed = walk.get(&callback).await;
    assert_eq!(replayed.status, 400);
    assert!(replayed.body.contains("has been used already"));
    assert!(replayed.headers.get("set-cookie").is_none(), "no session");
    let home = walk.get("/").await;
    assert_eq!(home.status, 303, "still signed out");
}

#[tokio::test]
async fn an_answer_opened_in_another_browser_signs_no_one_in() {
    let (app, _provider, _dir) = stockport_with_its_provider().await;
    let mut walk = Walk::new(&app.address);
    let callback = walk.sign_in_at_provider("stockport", "/", "ravi").await;

    // Someone sends their own answer to another person's browser (login CSRF): no state cookie.
    let mut other = Walk::new(&app.address);
    let answer = other.get(&callback).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("started in another"));
    // And the answer is spent: the browser that started it cannot use it afterwards either.
    assert_eq!(walk.get(&callback).await.status, 400);
}

#[tokio::test]
async fn an_unknown_email_is_refused_with_a_page_that_says_why() {
    let (app, _provider, _dir) = stockport_with_its_provider().await;
    let mut walk = Walk::new(&app.address);
    let callback = walk.sign_in_at_provider("stockport", "/", "stranger").await;
    let answer = walk.get(&callback).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("You are not signed in"));
    assert!(answer
        .body
        .contains("councilflow has no one with the email address stranger@unlisted.example at Stockport Metropolitan Borough Council"));
    assert_eq!(walk.get("/").await.status, 303, "not signed in");
}

#[tokio::test]
async fn a_council_vouches_only_for_its_own_people_and_only_for_verified_addresses() {
    let (app, _provider, _dir) = stockport_with_its_provider().await;

    // Nadia Bell is Derbyshire Dales's: Stockport's accounts cannot sign her in.
    let mut walk = Walk::new(&app.address);
    let callback = walk.sign_in_at_provider("stockport", "/", "nadia").await;
    let answer = walk.get(&callback).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("nadia.bell@example.org"));

    let mut walk = Walk::new(&app.address);
    let callback = walk
        .sign_in_at_provider("stockport", "/", "unverified")
        .await;
    let answer = walk.get(&callback).await;
    assert_eq!(answer.status, 403);
    assert!(answer
        .body
        .contains("did not give councilflow a verified email address"));
}

#[tokio::test]
async fn a_provider_answering_as_another_issuer_is_not_used() {
    let (app, _provider, _dir) = stockport_with_its_provider().await;
    let mut walk = Walk::new(&app.address);
    let answer = walk
        .post("/sign-in/with/derbyshire-dales", &[("next", "/")])
        .await;
    assert_eq!(answer.status, 502);
    assert!(answer
        .body
        .contains("did not identify itself as the service councilflow is set up with"));
    assert!(answer.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn a_council_without_its_own_accounts_has_no_such_sign_in() {
    let (app, _provider, _dir) = stockport_with_its_provider().await;
    let mut walk = Walk::new(&app.address);
    let answer = walk.post("/sign-in/with/high-peak", &[]).await;
    assert_eq!(answer.status, 404);
    // A start from another site is refused before anything happens.
    let answer = reqwest::Client::new()
        .post(format!("{}/sign-in/with/stockport", app.address))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 403);
}

/// Types `text` into the provider's field named `name` (its login form has no ids).
async fn type_into(browser: &crate::support::browser::Browser, name: &str, text: &str) {
    browser
        .client
        .find(fantoccini::Locator::Css(&format!("input[name='{name}']")))
        .await
        .unwrap_or_else(|e| panic!("no field {name}: {e}"))
        .send_keys(text)
        .await
        .expect("type");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_with_the_council_account_in_a_browser_meets_wcag() {
    let (app, _provider, _dir) = stockport_with_its_provider().await;
    let browser = crate::support::browser::Browser::start(&app.address).await;

    browser.goto("/sign-in?next=/calendar").await;
    browser.check_page("sign-in-with-council-accounts").await;
    browser
        .press("Sign in with Stockport Metropolitan Borough Council account")
        .await;
    // The provider's own pages (not ours to check): its login form, then "Authorize".
    type_into(&browser, "login", "ravi").await;
    type_into(&browser, "password", "any").await;
    browser.press("Sign-in").await;
    browser.press("Continue").await;
    assert_eq!(browser.title().await, "Your calendar – councilflow");
    assert!(browser.html().await.contains("Ravi Patel"));

    // Someone the council's accounts know but councilflow does not.
    browser.press("Sign out Ravi Patel").await;
    browser.client.delete_all_cookies().await.unwrap();
    browser.goto("/sign-in").await;
    browser
        .press("Sign in with Stockport Metropolitan Borough Council account")
        .await;
    type_into(&browser, "login", "stranger").await;
    type_into(&browser, "password", "any").await;
    browser.press("Sign-in").await;
    browser.press("Continue").await;
    assert!(browser.title().await.starts_with("You are not signed in"));
    browser.check_page("sign-in-refused-unknown-email").await;
}

#[test]
fn serve_refuses_a_providers_file_with_a_mistake_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |file: &std::path::Path, env: &[(&str, &str)]| {
        std::process::Command::new(BINARY)
            .current_dir(dir.path())
            .args(["serve", "--data", "data", "--listen", "127.0.0.1:0"])
            .arg("--sign-in-providers")
            .arg(file)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[stockport]\nissuer = \n").unwrap();
    let out = serve(&bad, &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("line 2"),
        "{stderr}"
    );

    let unset = dir.path().join("unset.toml");
    std::fs::write(
        &unset,
        "[stockport]\nissuer = \"https://login.example/t/v2.0\"\nclient_id = \"c\"\n\
         client_secret_env = \"COUNCILFLOW_TEST_NO_SUCH_SECRET\"\n",
    )
    .unwrap();
    let out = serve(&unset, &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("COUNCILFLOW_TEST_NO_SUCH_SECRET is not set"),
        "{stderr}"
    );
    // Set, it starts; the secret itself is in no output.
    let mut child = std::process::Command::new(BINARY)
        .current_dir(dir.path())
        .args(["serve", "--data", "data", "--listen", "127.0.0.1:0"])
        .arg("--sign-in-providers")
        .arg(&unset)
        .env("COUNCILFLOW_TEST_NO_SUCH_SECRET", "hunter2-secret")
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(
        line.starts_with("councilflow listening on http://"),
        "{line}"
    );
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    assert!(!line.contains("hunter2"));
}
