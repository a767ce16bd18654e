//! The web application in a real browser (headless Chromium over WebDriver): the Derbyshire Dales
//! route walked by the people who act on it, each page and each error and conflict state checked
//! with axe-core for WCAG 2.x A and AA, one act done with the keyboard alone. Screenshots go to
//! `target/web-screenshots/`.

use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::json;

use crate::support::browser::{sign_in, Browser};
use crate::support::smtp::{free_port, SmtpServer};
use crate::support::*;

/// Opens the plan page, presses `button` in the form whose fieldset has id `form`, and checks the
/// banner that says it was done.
async fn act(browser: &Browser, plan: &str, form: &str, button: &str) {
    browser.goto(&format!("/plans/{plan}")).await;
    let xpath = format!("//fieldset[@id='{form}']//button[normalize-space()='{button}']");
    browser.submit(&xpath).await;
    let html = browser.html().await;
    assert!(
        html.contains("govuk-notification-banner--success"),
        "{form}: {button} was not done:\n{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_derbyshire_dales_route_walked_in_a_browser_meets_wcag_on_every_page() {
    let smtp = SmtpServer::start(free_port()).await;
    let app = spawn_app_with(&["--smtp-url", &smtp.url()]).await;
    let browser = Browser::start(&app.address).await;

    // Sign in through the emailed link, by the keyboard alone.
    browser.goto("/").await;
    assert_eq!(browser.title().await, "Sign in – councilflow");
    browser.check_page("01-sign-in").await;
    // A malformed address: the error summary, linked to the field.
    browser.fill("email", "not an address").await;
    browser.press("Send me a sign-in link").await;
    assert!(browser.title().await.starts_with("Error: "));
    browser.check_page("02-sign-in-error").await;
    browser.fill("email", "nadia.bell@example.org").await;
    browser.press("Send me a sign-in link").await;
    browser.check_page("03-check-your-email").await;
    let guard = Instant::now() + Duration::from_secs(60);
    let link = loop {
        let messages = smtp.messages();
        if let Some(m) = messages
            .iter()
            .find(|m| m.subject == "Sign in to councilflow")
        {
            break m
                .text
                .split_whitespace()
                .find(|w| w.contains("/sign-in/"))
                .expect("a link")
                .to_owned();
        }
        assert!(Instant::now() < guard, "no sign-in email: {}", smtp.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    browser.goto(&link).await;
    browser.check_page("04-sign-in-button").await;
    // Tab to the "Sign in" button and press Enter.
    let body = browser.client.find(Locator::Css("body")).await.unwrap();
    body.click().await.unwrap();
    for _ in 0..10 {
        let active = browser.client.active_element().await.unwrap();
        if active.text().await.unwrap_or_default().trim() == "Sign in" {
            break;
        }
        active.send_keys(&Key::Tab.to_string()).await.unwrap();
    }
    let active = browser.client.active_element().await.unwrap();
    assert_eq!(
        active.text().await.unwrap().trim(),
        "Sign in",
        "reached by Tab"
    );
    browser
        .client
        .execute("window.__councilflowOld = true;", vec![])
        .await
        .unwrap();
    active.send_keys(&Key::Enter.to_string()).await.unwrap();
    browser.wait_for_new_page().await;
    assert_eq!(browser.title().await, "Waiting on you – councilflow");
    browser.check_page("05-waiting-on-you").await;

    // Nadia starts the plan from her council's page and drafts it.
    browser.goto("/councils/derbyshire-dales").await;
    browser.check_page("06-council").await;
    browser
        .client
        .find(Locator::Css("input[value='productivity-plan-2024']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.press("Start a plan").await;
    let url = browser.client.current_url().await.unwrap();
    let plan = url.path().trim_start_matches("/plans/").to_owned();
    browser.check_page("07-plan-new").await;
    for section in [
        "achievements",
        "transforming-services",
        "technology-and-data",
        "reducing-wasteful-spend",
    ] {
        browser.goto(&format!("/plans/{plan}")).await;
        if browser
            .client
            .find(Locator::Id(&format!("section-{section}")))
            .await
            .is_err()
        {
            continue;
        }
        browser
            .fill(
                &format!("section-{section}"),
                &format!("Derbyshire Dales on {section}."),
            )
            .await;
        let xpath = format!(
            "//textarea[@id='section-{section}']/ancestor::form//button[normalize-space()='Save section']"
        );
        browser.submit(&xpath).await;
        let saved = browser.html().await;
        assert!(saved.contains("Section saved"), "{section}: {saved}");
    }
    // The group's barriers text, agreed through GraphQL, adopted in the browser.
    app.agree_barriers("Barriers the government can remove, agreed by the group.")
        .await;
    act(&browser, &plan, "adopt-barriers", "Adopt section").await;
    browser.check_page("08-plan-drafted").await;

    // Another council's officer: a draft of Derbyshire Dales does not exist for him.
    let ravi = Browser::start(&app.address).await;
    sign_in(&app, &ravi, "ravi-patel", "/").await;
    ravi.goto(&format!("/plans/{plan}")).await;
    assert_eq!(ravi.title().await, "Page not found – councilflow");
    ravi.check_page("13-not-found").await;

    // The statutory officers sign, each in their own session.
    let signers = [
        ("martin-ashby", "leadership-team", "chief-executive"),
        (
            "harriet-doyle",
            "report-authorisation",
            "monitoring-officer",
        ),
        ("martin-ashby", "report-authorisation", "chief-executive"),
        ("claire-fenwick", "report-authorisation", "s151-officer"),
    ];
    for (i, (person, stage, role)) in signers.iter().enumerate() {
        let officer = Browser::start(&app.address).await;
        sign_in(&app, &officer, person, &format!("/plans/{plan}")).await;
        if i == 0 {
            officer.check_page("09-plan-before-sign-off").await;
        }
        act(
            &officer,
            &plan,
            &format!("sign-off-{stage}-{role}-derbyshire-dales"),
            "Sign off",
        )
        .await;
        officer.close().await;
    }

    // The clerk records the committee's approval.
    let clerk = Browser::start(&app.address).await;
    sign_in(&app, &clerk, "gareth-lowe", &format!("/plans/{plan}")).await;
    clerk.goto(&format!("/plans/{plan}")).await;
    let form = "decision-committee-approval-derbyshire-dales";
    // Without a date: the engine's refusal, in an error summary, the form kept.
    clerk
        .fill(
            &format!("{form}-committee"),
            "Governance and Resources Committee",
        )
        .await;
    clerk
        .submit(&format!(
            "//fieldset[@id='{form}']//button[normalize-space()='Record decision']"
        ))
        .await;
    assert!(
        clerk.title().await.starts_with("Error: "),
        "{}",
        clerk.html().await
    );
    assert!(
        clerk
            .html()
            .await
            .contains("Governance and Resources Committee"),
        "kept as typed"
    );
    clerk.check_page("10-decision-error").await;
    clerk
        .fill(
            &format!("{form}-committee"),
            "Governance and Resources Committee",
        )
        .await;
    clerk.fill(&format!("{form}-date"), "2024-07-18").await;
    clerk.fill(&format!("{form}-minute"), "GRC/24/31").await;
    clerk
        .submit(&format!(
            "//fieldset[@id='{form}']//button[normalize-space()='Record decision']"
        ))
        .await;
    assert!(
        clerk.html().await.contains("Committee decision recorded"),
        "{}",
        clerk.html().await
    );
    clerk.close().await;

    // The submitter submits and publishes.
    let submitter = Browser::start(&app.address).await;
    sign_in(&app, &submitter, "ellie-shaw", "/").await;
    submitter.check_page("11-waiting-on-submitter").await;
    act(&submitter, &plan, "submit", "Submit plan").await;
    submitter.goto(&format!("/plans/{plan}")).await;
    submitter
        .fill(
            "publish-url",
            "https://www.derbyshiredales.gov.uk/productivity-plan",
        )
        .await;
    submitter.press("Publish plan").await;
    assert!(submitter.html().await.contains("Plan published"));
    submitter.check_page("12-plan-published").await;
    // At 320 CSS pixels wide (and so at 400 % zoom) the pages reflow, with nothing cut off.
    submitter.client.set_window_size(320, 800).await.unwrap();
    for (path, name) in [
        (format!("/plans/{plan}"), "14-plan-320px"),
        ("/".to_owned(), "15-home-320px"),
        ("/councils/derbyshire-dales".to_owned(), "16-council-320px"),
    ] {
        submitter.goto(&path).await;
        submitter.check_page(name).await;
        assert!(
            submitter.fits_width().await,
            "{path} scrolls sideways at 320 px"
        );
    }
    submitter.client.set_window_size(1280, 1024).await.unwrap();
    submitter.goto(&format!("/plans/{plan}/print")).await;
    assert!(submitter.html().await.contains("Record of approvals"));
    submitter.close().await;

    // Once published, anyone signed in reads it, with nothing to act on.
    ravi.goto(&format!("/plans/{plan}")).await;
    assert_eq!(
        ravi.title().await,
        "Productivity plan 2024: Derbyshire Dales District Council – councilflow"
    );
    assert!(!ravi.html().await.contains("What you can do now"));
    assert!(ravi.html().await.contains("kept by its councils"));
    ravi.check_page("17-published-plan-from-another-council")
        .await;
    ravi.close().await;

    // With more to do than one page holds, "Waiting on you" comes a page at a time.
    for _ in 0..5 {
        app.start_plan("nadia-bell", &["derbyshire-dales"]).await;
    }
    browser.goto("/").await;
    assert_eq!(
        browser.title().await,
        "Waiting on you (page 1 of 2) – councilflow"
    );
    browser.check_page("18-home-first-page").await;
    browser.submit("//a[@rel='next']").await;
    assert_eq!(
        browser.title().await,
        "Waiting on you (page 2 of 2) – councilflow"
    );
    browser.check_page("19-home-second-page").await;

    // The calendar page: a feed made, its address shown once, then revoked.
    browser.goto("/calendar").await;
    browser.check_page("20-calendar").await;
    browser
        .press("Create a calendar feed of Derbyshire Dales District Council")
        .await;
    assert!(browser.html().await.contains("Calendar feed created"));
    browser.check_page("21-calendar-feed-created").await;
    browser
        .submit("//button[starts-with(normalize-space(), 'Revoke')]")
        .await;
    assert!(browser.html().await.contains("Calendar feed revoked"));
    browser.check_page("22-calendar-feed-revoked").await;

    // The group's board, and the same sorted by deadline.
    browser.goto("/groups/derbyshire-chief-executives").await;
    browser.check_page("23-group-board").await;
    browser
        .submit("//a[contains(@href, 'sort=deadline')]")
        .await;
    assert!(browser.html().await.contains("Next deadline (sorted)"));
    browser.check_page("24-group-board-by-deadline").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_signing_while_the_drafter_saves_gets_a_conflict_page_naming_the_change() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &plan).await;
    let officer = Browser::start(&app.address).await;
    sign_in(&app, &officer, "maria-costa", &format!("/plans/{plan}")).await;
    let drafter = Browser::start(&app.address).await;
    sign_in(&app, &drafter, "ravi-patel", &format!("/plans/{plan}")).await;

    // Both have the page open; the drafter saves first.
    officer.goto(&format!("/plans/{plan}")).await;
    drafter.goto(&format!("/plans/{plan}")).await;
    drafter
        .fill("section-achievements", "Changed while the officer read.")
        .await;
    let xpath = "//textarea[@id='section-achievements']/ancestor::form//button[normalize-space()='Save section']";
    drafter.submit(xpath).await;
    let saved = drafter.html().await;
    assert!(saved.contains("Section saved"), "{saved}");

    officer.press("Sign off").await;
    let html = officer.html().await;
    assert!(officer.title().await.starts_with("Error: "), "{html}");
    assert!(html.contains("Ravi Patel"), "names who changed it: {html}");
    assert!(html.contains("Nothing was recorded"), "{html}");
    officer.check_page("20-conflict").await;
    let signed = app.plan("ravi-patel", &plan).await;
    assert_eq!(stage(&signed, "member-oversight")["signOffs"], json!([]));
    officer.close().await;
    drafter.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_section_page_meets_wcag_with_its_forms_a_refusal_and_a_difference() {
    let app = spawn_app().await;
    app.start_plan("nadia-bell", &["derbyshire-dales"]).await;
    let browser = Browser::start(&app.address).await;
    let page = "/groups/derbyshire-chief-executives/sections/barriers";
    sign_in(&app, &browser, "rachel-ingham", page).await;
    assert!(browser
        .html()
        .await
        .contains("No text has been proposed yet"));
    browser.check_page("30-shared-section-empty").await;

    // An empty text is refused: the engine's words in the error summary, linked to the field.
    browser.press("Propose revision").await;
    assert!(browser.title().await.starts_with("Error: "));
    browser.check_page("31-shared-section-refused").await;

    browser
        .fill("propose", "Funding certainty is the main barrier.")
        .await;
    browser.press("Propose revision").await;
    assert!(browser.html().await.contains("Revision proposed"));
    browser.check_page("32-shared-section-proposed").await;
    browser
        .fill(
            "propose",
            "Funding certainty and housing are the main barriers.",
        )
        .await;
    browser.press("Propose revision").await;
    browser.press("Show the difference").await;
    let html = browser.html().await;
    assert!(
        html.contains("Difference from revision 1 to revision 2"),
        "{html}"
    );
    assert!(html.contains("<ins>"), "{html}");
    browser.check_page("33-shared-section-difference").await;
    browser.close().await;
}
