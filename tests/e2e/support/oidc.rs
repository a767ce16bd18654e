//! A real OpenID Connect provider (`tests/js/oidc.mjs`: panva's `oidc-provider` on node), and a
//! browser-less walk through its development login form.
//!
//! The walk keeps cookies as a browser does on one host (127.0.0.1, whatever the port: the
//! provider's and councilflow's cookies have different names) and follows no redirect by
//! itself, so each step's answer can be checked.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use super::web::Answer;

const TOOLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/js");

pub const CLIENT_ID: &str = "councilflow-test";
pub const CLIENT_SECRET: &str = "a-secret-only-these-tests-know";

/// A provider process, stopped on drop.
pub struct Provider {
    pub issuer: String,
    child: Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts a provider whose one client sends answers to councilflow on 127.0.0.1 (any port);
    /// `accounts` maps a login name to its email claims.
    pub fn start(accounts: serde_json::Value) -> Provider {
        let config = json!({
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": "http://127.0.0.1/sign-in/with/callback",
            "accounts": accounts,
        });
        let mut child = Command::new("node")
            .arg(format!("{TOOLS}/oidc.mjs"))
            .arg(config.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node (scripts/test installs it) runs tests/js/oidc.mjs");
        let stdout = child.stdout.take().expect("the provider's output");
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the provider says where it listens");
        // Keep reading what it writes, so it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let issuer = line
            .trim()
            .strip_prefix("issuer ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .to_owned();
        Provider { issuer, child }
    }
}

/// Writes a providers file naming `council`'s provider at `issuer`, its secret in a file beside.
pub fn providers_file(dir: &Path, entries: &[(&str, &str)]) -> std::path::PathBuf {
    let secret = dir.join("client-secret");
    std::fs::write(&secret, format!("{CLIENT_SECRET}\n")).unwrap();
    let mut text = String::new();
    for (council, issuer) in entries {
        text.push_str(&format!(
            "[{council}]\nissuer = \"{issuer}\"\nclient_id = \"{CLIENT_ID}\"\n\
             client_secret_file = \"{}\"\n\n",
            secret.display()
        ));
    }
    let path = dir.join("sign-in-providers.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// One browser's cookies and requests, without the browser.
pub struct Walk {
    pub app: String,
    cookies: BTreeMap<String, String>,
    http: reqwest::Client,
}

impl Walk {
    pub fn new(app: &str) -> Walk {
        Walk {
            app: app.to_owned(),
            cookies: BTreeMap::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Forgets every cookie (another browser).
    pub fn forget_cookies(&mut self) {
        self.cookies.clear();
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let jar = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = if jar.is_empty() {
            request
        } else {
            request.header(COOKIE, jar)
        };
        let response = request.send().await.expect("an answer");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all(SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || set.to_str().unwrap().contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Answer {
            status,
            headers,
            body: response.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Answer {
        let url = self.absolute(url);
        let request = self.http.get(url);
        self.send(request).await
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Answer {
        let url = self.absolute(url);
        let request = self
            .http
            .post(url)
            .header("sec-fetch-site", "same-origin")
            .form(form);
        self.send(request).await
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.app)
        }
    }

    /// Presses "Sign in with ..." for `council` (going to `next` afterwards), signs in at the
    /// provider's login form as `login`, and stops at the provider's answer: the callback
    /// address, not yet opened.
    pub async fn sign_in_at_provider(&mut self, council: &str, next: &str, login: &str) -> String {
        let started = self
            .post(&format!("/sign-in/with/{council}"), &[("next", next)])
            .await;
        assert_eq!(started.status, 303, "{}", started.body);
        let mut at = location(&started);
        assert!(at.contains("code_challenge="), "PKCE is used: {at}");
        assert!(at.contains("nonce="), "a nonce is sent: {at}");
        // The provider sends us to its login form, and after it back to the authorization.
        for _ in 0..10 {
            if at.starts_with(&self.app) {
                return at;
            }
            let answer = self.get(&at).await;
            if answer.status == 200 && answer.body.contains("<form") {
                // The provider's login form, then its "Authorize" form (it always asks for a
                // native client's go-ahead).
                let fields: &[(&str, &str)] = if answer.body.contains("name=\"login\"") {
                    &[("prompt", "login"), ("login", login), ("password", "any")]
                } else {
                    &[("prompt", "consent")]
                };
                let action = absolute_on(&at, &form_action(&answer.body));
                let answer = self.post(&action, fields).await;
                at = absolute_on(&at, &location(&answer));
            } else {
                assert!(
                    (300..400).contains(&answer.status),
                    "the provider answered {}: {}",
                    answer.status,
                    answer.body
                );
                at = absolute_on(&at, &location(&answer));
            }
        }
        panic!("the provider never sent the browser back");
    }
}

fn location(answer: &Answer) -> String {
    answer
        .headers
        .get(LOCATION)
        .unwrap_or_else(|| panic!("a redirect ({}): {}", answer.status, answer.body))
        .to_str()
        .unwrap()
        .to_owned()
}

fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form") + "action=\"".len();
    html[start..][..html[start..].find('"').unwrap()].replace("&amp;", "&")
}

/// `path` made absolute on the origin of `base`.
fn absolute_on(base: &str, path: &str) -> String {
    if path.starts_with("http") {
        return path.to_owned();
    }
    let origin_end = base[8..].find('/').map_or(base.len(), |i| i + 8);
    format!("{}{path}", &base[..origin_end])
}
