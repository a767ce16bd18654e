//! A real browser for the web application's tests: Debian's Chromium, headless, driven over
//! WebDriver (chromium-driver, one per test on a free port) with fantoccini; axe-core (npm,
//! pinned in `tests/js`) run inside the page; screenshots into `target/web-screenshots/` for a
//! person to look at.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use super::{repo_path, smtp::free_port};

pub struct Browser {
    pub client: Client,
    driver: Child,
    pub base: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromium-driver and a headless Chromium session for the app at `base`.
    pub async fn start(base: &str) -> Browser {
        // rustls needs one process-wide crypto provider; the first test to get here installs it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; scripts/test installs it)");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                             "--disable-gpu", "--window-size=1280,1024"] }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let guard = std::time::Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("a TLS configuration")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if std::time::Instant::now() < guard => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no WebDriver session at {url}: {e}"),
            }
        };
        Browser {
            client,
            driver,
            base: base.to_owned(),
        }
    }

    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        self.client.goto(&url).await.expect("navigate");
    }

    pub async fn html(&self) -> String {
        self.client.source().await.expect("page source")
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("title")
    }

    /// Clicks the button whose text is `text`, and waits for the page it leads to.
    pub async fn press(&self, text: &str) {
        self.submit(&format!("//button[normalize-space()='{text}']"))
            .await;
    }

    /// Clicks the element at `xpath` (a form's button) and waits until the next page has loaded:
    /// a click returns before the navigation it starts has finished.
    pub async fn submit(&self, xpath: &str) {
        self.client
            .execute("window.__councilflowOld = true;", vec![])
            .await
            .expect("mark the page");
        self.client
            .find(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("no {xpath}: {e}"))
            .click()
            .await
            .expect("click");
        self.wait_for_new_page().await;
    }

    /// Waits until the page marked before an action has been replaced and the new one loaded.
    pub async fn wait_for_new_page(&self) {
        let guard = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let loaded = self
                .client
                .execute(
                    "return window.__councilflowOld === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .map(|v| v == Value::Bool(true))
                .unwrap_or(false);
            if loaded {
                return;
            }
            assert!(
                std::time::Instant::now() < guard,
                "the next page never loaded"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types into the field with id `id`, replacing what it held.
    pub async fn fill(&self, id: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Runs axe-core in the page for WCAG 2.0, 2.1 and 2.2 A and AA; the violations.
    pub async fn axe(&self) -> Vec<Value> {
        let source =
            std::fs::read_to_string(repo_path("tests/js/node_modules/axe-core/axe.min.js"))
                .expect("axe-core is installed (npm ci --prefix tests/js; scripts/test does)");
        self.client
            .execute(&source, vec![])
            .await
            .expect("load axe-core");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values:
                   ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
                   .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                     help: v.help, nodes: v.nodes.map(n => n.html) }))))
                   .catch(e => done([{ id: 'axe-error', help: String(e) }]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        result.as_array().cloned().unwrap_or_default()
    }

    /// Checks the page with axe-core and saves a screenshot named `name`.
    pub async fn check_page(&self, name: &str) {
        let violations = self.axe().await;
        self.screenshot(name).await;
        assert!(
            violations.is_empty(),
            "{name} ({}): WCAG A/AA violations: {:#?}",
            self.title().await,
            violations
        );
    }

    /// Whether the page fits its window's width without scrolling sideways (WCAG 1.4.10 Reflow:
    /// 320 CSS pixels wide, which is also 1280 pixels at 400 % zoom).
    pub async fn fits_width(&self) -> bool {
        self.client
            .execute(
                "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .map(|v| v == Value::Bool(true))
            .unwrap_or(false)
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = repo_path("target/web-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// Signs `person` in by an emailed link (issued by the CLI), to land on `next`.
pub async fn sign_in(app: &super::TestApp, browser: &Browser, person: &str, next: &str) {
    let link = app.sign_in_link(person, Some(next)).await;
    browser.goto(&link).await;
    browser.press("Sign in").await;
}

impl Browser {
    /// Waits until the page's live region says `text` (a hang guard, never a timing assertion),
    /// and checks that focus did not move meanwhile.
    pub async fn wait_for_live(&self, text: &str) {
        let focus = "const a = document.activeElement; return a ? a.tagName + '#' + a.id : '';";
        let before = self.client.execute(focus, vec![]).await.expect("focus");
        let guard = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let said = self
                .client
                .execute(
                    "const r = document.getElementById('councilflow-live'); return r ? r.textContent : '';",
                    vec![],
                )
                .await
                .expect("read the live region");
            if said.as_str().is_some_and(|s| s.contains(text)) {
                break;
            }
            assert!(
                std::time::Instant::now() < guard,
                "the live region never said {text:?}; it says {said}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let after = self.client.execute(focus, vec![]).await.expect("focus");
        assert_eq!(before, after, "focus moved");
    }
}
