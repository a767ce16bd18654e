//! The web application over HTTP, as a browser without JavaScript uses it: signing in by an
//! emailed link, sessions, cross-site forms refused, the pages each person may see, acts through
//! forms, refusals and conflicts in the engine's words. (`browser.rs` drives a real browser.)

use serde_json::json;

use crate::support::web::WebClient;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_link_opens_a_page_whose_button_signs_in_once() {
    let app = spawn_app().await;
    let link = app
        .sign_in_link("nadia-bell", Some("/councils/derbyshire-dales"))
        .await;
    let mut browser = WebClient::new(&app);
    // A mail scanner opens the link first: that uses nothing up.
    for _ in 0..2 {
        let page = browser.get(&link).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(">Sign in</button>"), "{}", page.body);
    }
    let signed_in = browser.post(&link, &[]).await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.location(), Some("/councils/derbyshire-dales"));
    let cookie = signed_in.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain loopback HTTP: {cookie}");
    let home = browser.get("/").await;
    assert!(home
        .body
        .contains("<h1 class=\"govuk-heading-l\">Waiting on you</h1>"));
    assert!(home.body.contains("Sign out Nadia Bell"));

    // The link works once.
    let mut other = WebClient::new(&app);
    let again = other.post(&link, &[]).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("used already"), "{}", again.body);
    assert!(other.cookie.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_link_answers_the_same_whether_or_not_the_address_is_known() {
    let app = spawn_app().await;
    let mut browser = WebClient::new(&app);
    let known = browser
        .post("/sign-in", &[("email", "Nadia.Bell@example.org")])
        .await;
    let unknown = browser
        .post("/sign-in", &[("email", "nobody@example.org")])
        .await;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(
        known.body.replace("Nadia.Bell@example.org", "X"),
        unknown.body.replace("nobody@example.org", "X"),
        "the answers differ only by the address typed"
    );
    // The known address gets an email whose link signs in.
    let link = emailed_link(&app, "nadia.bell@example.org").await;
    assert_eq!(browser.post(&link, &[]).await.status, 303);
    assert!(!std::fs::read_dir(app.data_dir().join("mail"))
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .any(|m| m.contains("nobody@example.org")));
}

/// The sign-in link in an email to `address` (`.eml` files: no SMTP server here).
async fn emailed_link(app: &TestApp, address: &str) -> String {
    let mail = app.data_dir().join("mail");
    let guard = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = std::fs::read_dir(&mail).ok().and_then(|d| {
            d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .find(|m| m.contains("Sign in to councilflow") && m.contains(address))
        });
        if let Some(email) = found {
            // Quoted-printable, as a mail client reads it.
            let email = email
                .replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=");
            return email
                .split_whitespace()
                .find(|w| w.contains("/sign-in/"))
                .expect("a link in the email")
                .to_owned();
        }
        assert!(
            std::time::Instant::now() < guard,
            "no sign-in email to {address} in {}: {:?}",
            mail.display(),
            std::fs::read_dir(&mail).map(|d| d
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect::<Vec<_>>())
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_from_another_site_or_of_unknown_origin_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let mut ravi = app.web_session("ravi-patel").await;
    let head = app.head_cursor().await;
    let form = [
        ("form_id", "section-achievements"),
        ("section", "achievements"),
        ("expected_revision", "0"),
        ("text", "Forged."),
    ];
    let path = format!("/plans/{plan}/acts/edit-section");
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "http://evil.example")],
        vec![],
    ] {
        let answer = ravi.post_with(&path, &form, &headers).await;
        assert_eq!(answer.status, 403, "{headers:?}: {}", answer.body);
    }
    assert!(app.events_after(&head).await.is_empty(), "nothing written");
    // From our own page it goes through.
    let origin = app.address.clone();
    let answer = ravi
        .post_with(&path, &form, &[("origin", origin.as_str())])
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_councils_officer_sees_no_such_plan_and_a_reminder_link_returns_after_sign_in() {
    let app = spawn_app().await;
    let plan = app.start_plan("nadia-bell", &["derbyshire-dales"]).await;
    let mut ravi = app.web_session("ravi-patel").await;
    let page = ravi.get(&format!("/plans/{plan}")).await;
    assert_eq!(page.status, 404);
    assert!(!page.body.contains("Derbyshire Dales"), "{}", page.body);

    let mut stranger = WebClient::new(&app);
    let answer = stranger.get(&format!("/plans/{plan}")).await;
    assert_eq!(answer.status, 303);
    let to = answer.location().unwrap().to_owned();
    assert_eq!(to, format!("/sign-in?next=/plans/{plan}"));
    assert_eq!(stranger.get(&to).await.status, 200);
    // The sign-in form carries where they were going; the emailed link returns them there.
    let next = format!("/plans/{plan}");
    let sent = stranger
        .post(
            "/sign-in",
            &[("email", "nadia.bell@example.org"), ("next", &next)],
        )
        .await;
    assert_eq!(sent.status, 200);
    let link = emailed_link(&app, "nadia.bell@example.org").await;
    let signed_in = stranger.post(&link, &[]).await;
    assert_eq!(signed_in.location(), Some(next.as_str()));
    assert_eq!(stranger.get(&next).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_off_on_a_revision_edited_since_shows_a_conflict_naming_the_change() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &plan).await;
    let mut maria = app.web_session("maria-costa").await;
    let page = maria.get(&format!("/plans/{plan}")).await;
    assert!(page.body.contains(">Sign off</button>"), "{}", page.body);
    let read = app.plan("maria-costa", &plan).await["revision"].clone();

    // Ravi saves a section while Maria reads.
    app.act(
        "ravi-patel",
        "editSection",
        json!({ "planId": plan, "sectionId": "achievements", "text": "Changed while she read." }),
    )
    .await;
    let head = app.head_cursor().await;
    let revision = read.to_string();
    let answer = maria
        .post(
            &format!("/plans/{plan}/acts/sign-off"),
            &[
                ("form_id", "sign-off"),
                ("stage", "member-oversight"),
                ("role", "portfolio-holder"),
                ("council", "stockport"),
                ("expected_revision", revision.as_str()),
            ],
        )
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(
        answer.body.contains("govuk-error-summary"),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("Ravi Patel"),
        "names who changed it: {}",
        answer.body
    );
    assert!(answer.body.contains("<title>Error: "), "the title says so");
    assert!(app.events_after(&head).await.is_empty(), "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_a_person_may_not_use_are_not_shown_and_the_server_refuses_them_anyway() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &plan).await;
    let mut ravi = app.web_session("ravi-patel").await;
    let page = ravi.get(&format!("/plans/{plan}")).await;
    assert!(
        page.body.contains("Save section"),
        "{} {}",
        page.status,
        page.body
    );
    for absent in [
        ">Sign off<",
        ">Submit plan<",
        ">Publish plan<",
        ">Record decision<",
    ] {
        assert!(!page.body.contains(absent), "{absent} shown to the drafter");
    }
    let head = app.head_cursor().await;
    let answer = ravi
        .post(
            &format!("/plans/{plan}/acts/sign-off"),
            &[
                ("form_id", "sign-off"),
                ("stage", "member-oversight"),
                ("role", "portfolio-holder"),
                ("council", "stockport"),
                ("expected_revision", "6"),
            ],
        )
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("govuk-error-summary"));
    assert!(app.events_after(&head).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_and_revoking_a_person_end_their_sessions() {
    let app = spawn_app().await;
    let mut first = app.web_session("ravi-patel").await;
    let mut second = app.web_session("ravi-patel").await;
    let cookie = first.cookie.clone();
    let out = first.post("/sign-out", &[]).await;
    assert_eq!(out.status, 200);
    // The old cookie no longer works, even if kept.
    first.cookie = cookie;
    assert_eq!(first.get("/").await.status, 303);
    assert_eq!(second.get("/").await.status, 200);

    let revoked = app
        .cli(&["sessions", "--revoke-person", "ravi-patel"])
        .await;
    assert!(revoked.status.success());
    assert_eq!(second.get("/").await.status, 303, "signed out everywhere");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_visit_is_under_100_kb_compressed_with_nothing_from_another_site() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &plan).await;
    let mut ravi = app.web_session("ravi-patel").await;
    let http = reqwest::Client::new();
    let mut total = 0;
    for path in [
        format!("/plans/{plan}"),
        "/assets/councilflow.css".to_owned(),
    ] {
        let mut request = http
            .get(format!("{}{path}", app.address))
            .header("accept-encoding", "gzip");
        if let Some(cookie) = &ravi.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-encoding"], "gzip", "{path}");
        total += response.bytes().await.unwrap().len();
    }
    assert!(total < 100_000, "a first visit is {total} bytes compressed");
    let page = ravi.get(&format!("/plans/{plan}")).await;
    assert!(!page.body.contains("http://") && !page.body.contains("https://"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_says_who_did_what_and_which_approvals_an_edit_made_out_of_date() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &plan).await;
    app.act(
        "maria-costa",
        "signOff",
        json!({ "planId": plan, "stageId": "member-oversight", "role": "portfolio-holder" }),
    )
    .await;
    app.act(
        "ravi-patel",
        "editSection",
        json!({ "planId": plan, "sectionId": "achievements", "text": "Rewritten after sign-off." }),
    )
    .await;
    let mut ravi = app.web_session("ravi-patel").await;
    let page = ravi.get(&format!("/plans/{plan}")).await;
    let history = page.body.split("History</h2>").nth(1).unwrap();
    assert!(
        history.contains("Cllr Maria Costa signed off as Portfolio Holder (member-oversight)"),
        "{history}"
    );
    assert!(
        history.contains("Ravi Patel edited the section &#x27;achievements&#x27; (revision 7). This made out of date: Cllr Maria Costa&#x27;s sign-off as Portfolio Holder of Stockport"),
        "{history}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_on_you_lists_what_each_person_can_do_now_and_nothing_else() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let mut ravi = app.web_session("ravi-patel").await;
    let home = ravi.get("/").await;
    assert!(
        home.body
            .contains("Draft the section &#x27;achievements&#x27;"),
        "{}",
        home.body
    );
    assert!(home.body.contains(&format!("href=\"/plans/{plan}\"")));

    app.draft_sections("ravi-patel", &plan).await;
    let home = ravi.get("/").await;
    assert!(
        !home.body.contains("Draft the section"),
        "all drafted: {}",
        home.body
    );
    let mut maria = app.web_session("maria-costa").await;
    let home = maria.get("/").await;
    assert!(
        home.body
            .contains("Sign off as Portfolio Holder of Stockport Metropolitan Borough Council"),
        "{}",
        home.body
    );
    assert!(
        !home.body.contains("S151 Officer"),
        "not hers: {}",
        home.body
    );
    let mut nadia = app.web_session("nadia-bell").await;
    assert!(nadia
        .get("/")
        .await
        .body
        .contains("Nothing is waiting on you now."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_pages_read_while_writes_land_never_hang() {
    // A page that took the projections' read lock twice deadlocked as soon as the projector
    // queued for the write lock between the two (found by bench/run). Pages and writes at once:
    // every page must come back (the guard below is a hang guard, not a timing). A process of
    // its own: a deadlocked in-process server would hold this test's runtime threads too, and
    // the guard could never fire.
    let app = spawn_process_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let ravi = app.web_session("ravi-patel").await;
    let cookie = ravi.cookie.clone().unwrap();
    let url = format!("{}/plans/{plan}", app.address);
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (url, cookie) = (url.clone(), cookie.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for _ in 0..100 {
                    let page = http
                        .get(&url)
                        .header("cookie", &cookie)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(page.status(), 200);
                }
            })
        })
        .collect();
    let client = app.client();
    let token = app.token("ravi-patel").await;
    let writer = tokio::spawn(async move {
        for i in 0..60 {
            let response = client
                .graphql(
                    Some(&token),
                    "mutation($p: ID!, $t: String!) { editSection(input: {planId: $p, sectionId: \"achievements\", text: $t}) { plan { revision } } }",
                    json!({ "p": plan, "t": format!("Edit {i}.") }),
                )
                .await
                .expect("a GraphQL answer");
            assert!(response["errors"].is_null(), "{response}");
        }
    });
    let all = async {
        for r in readers {
            r.await.unwrap();
        }
        writer.await.unwrap();
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), all)
        .await
        .expect("pages and writes at once finished (no deadlock)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_plan_read_from_another_council_shows_its_approvals_but_not_its_history() {
    let app = spawn_app().await;
    let plan = app.published_stockport_plan().await;
    let mut ravi = app.web_session("ravi-patel").await;
    let own = ravi.get(&format!("/plans/{plan}")).await;
    assert!(own.body.contains("published the plan"), "{}", own.body);

    let mut nadia = app.web_session("nadia-bell").await;
    let page = nadia.get(&format!("/plans/{plan}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Kwame Mensah"),
        "the record of approvals"
    );
    let history = page.body.split("History</h2>").nth(1).unwrap();
    assert!(
        history.contains("kept by its councils") && !history.contains("published the plan"),
        "{history}"
    );
    assert!(!page.body.contains("<form method=\"post\" action=\"/plans/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_shows_an_act_done_since_the_page_was_last_read() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let mut ravi = app.web_session("ravi-patel").await;
    let before = ravi.get(&format!("/plans/{plan}")).await;
    assert!(!before.body.contains("Later text."));
    app.act(
        "ravi-patel",
        "editSection",
        json!({ "planId": plan, "sectionId": "barriers", "text": "Later text." }),
    )
    .await;
    let after = ravi.get(&format!("/plans/{plan}")).await;
    let history = after.body.split("History</h2>").nth(1).unwrap();
    assert!(
        history.contains("Ravi Patel edited the section &#x27;barriers&#x27;"),
        "{history}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_on_you_comes_a_page_at_a_time_and_a_page_past_the_end_is_not_found() {
    let app = spawn_app().await;
    // Five plans with six sections each to draft: 30 acts, two pages of 25.
    for _ in 0..5 {
        app.start_plan("ravi-patel", &["stockport"]).await;
    }
    let mut ravi = app.web_session("ravi-patel").await;
    let first = ravi.get("/").await;
    assert_eq!(first.body.matches("Draft the section").count(), 25);
    assert!(
        first.body.contains("Showing 1 to 25 of 30"),
        "{}",
        first.body
    );
    assert!(first.body.contains("<title>Waiting on you (page 1 of 2)"));
    assert!(first.body.contains("href=\"&#x2f;?page=2\" rel=\"next\""));
    let second = ravi.get("/?page=2").await;
    assert_eq!(second.body.matches("Draft the section").count(), 5);
    assert!(second.body.contains("Showing 26 to 30 of 30"));
    assert!(second.body.contains("rel=\"prev\""));
    assert!(second.body.contains("Drafting: 5 plans"), "{}", second.body);
    // A council's plans are listed 50 to a page: these five fit on one.
    let council = ravi.get("/councils/stockport?page=1").await;
    assert_eq!(
        council
            .body
            .matches("<tr class=\"govuk-table__row\">")
            .count(),
        6
    );
    for missing in [
        "/?page=3",
        "/?page=0",
        "/?page=two",
        "/councils/stockport?page=2",
    ] {
        assert_eq!(ravi.get(missing).await.status, 404, "{missing}");
    }
}
