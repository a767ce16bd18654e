//! The harness: `spawn_app()` starts the real `councilflow` binary on a free port with its own data
//! folder and the repository's workflows and seeds, and `TestApp` talks to it over HTTP GraphQL,
//! graphql-transport-ws and the CLI.

#![allow(dead_code)]

pub mod lazyfs;
pub mod plans;
pub mod smtp;
pub mod ws;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

pub use plans::*;

pub const BINARY: &str = env!("CARGO_BIN_EXE_councilflow");
const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../workflows");
const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds");
const LISTENING: &str = "councilflow listening on http://";

/// How long the harness waits for the server before giving up (a hang guard, never an assertion).
const STARTUP_GUARD: Duration = Duration::from_secs(120);

/// A running server and everything a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    data: DataDir,
    /// More environment for the server (a log filter, say).
    env: Vec<(String, String)>,
    /// The seeds folder the next start uses.
    seeds: PathBuf,
    /// More `serve` arguments (mail settings, intervals).
    extra_args: Vec<String>,
    child: Option<Child>,
    log: Arc<Mutex<String>>,
    http: reqwest::Client,
    tokens: Mutex<HashMap<String, String>>,
}

/// Starts the binary with a fresh data folder.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Where a test's data folder is.
enum DataDir {
    /// A temporary folder of its own, removed with the app.
    Temp(tempfile::TempDir),
    /// A folder the test chose (on a file system it mounted, say).
    At(PathBuf),
}

impl DataDir {
    fn path(&self) -> &Path {
        match self {
            DataDir::Temp(dir) => dir.path(),
            DataDir::At(path) => path,
        }
    }
}

/// Starts the binary with a fresh data folder and more `serve` arguments.
pub async fn spawn_app_with(extra_args: &[&str]) -> TestApp {
    let data = tempfile::Builder::new()
        .prefix("councilflow-e2e-")
        .tempdir()
        .expect("create a temporary data folder");
    spawn(DataDir::Temp(data), extra_args, &[]).await
}

/// Starts the binary on the data folder `data` (which may exist), with more environment.
pub async fn spawn_app_at(data: &Path, env: &[(&str, &str)]) -> TestApp {
    spawn(DataDir::At(data.to_owned()), &[], env).await
}

async fn spawn(data: DataDir, extra_args: &[&str], env: &[(&str, &str)]) -> TestApp {
    let mut app = TestApp {
        address: String::new(),
        data,
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        seeds: PathBuf::from(SEEDS),
        extra_args: Vec::new(),
        child: None,
        log: Arc::new(Mutex::new(String::new())),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("build an HTTP client"),
        tokens: Mutex::new(HashMap::new()),
    };
    app.extra_args = extra_args.iter().map(|a| (*a).to_owned()).collect();
    app.start().await;
    app
}

impl TestApp {
    /// Makes the next (re)start load seeds from `dir`.
    pub fn use_seeds(&mut self, dir: &Path) {
        self.seeds = dir.to_owned();
    }

    /// The server process's id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The data folder the server writes to.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// `http://127.0.0.1:PORT/graphql`
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.address)
    }

    /// `ws://127.0.0.1:PORT/graphql/ws`
    pub fn ws_url(&self) -> String {
        format!(
            "{}/graphql/ws",
            self.address.replacen("http://", "ws://", 1)
        )
    }

    /// What the server wrote to stdout and stderr so far.
    pub fn server_log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    async fn start(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let mut child = Command::new(BINARY)
            .arg("serve")
            .arg("--data")
            .arg(self.data.path())
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--workflows")
            .arg(WORKFLOWS)
            .arg("--seeds")
            .arg(&self.seeds)
            .args(&self.extra_args)
            // Tests that are not about reminders must not see a reminder round mid-test; those
            // that are pass --reminder-interval-secs, which wins over the environment.
            .env("COUNCILFLOW_REMINDER_INTERVAL_SECS", "3600")
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start `councilflow serve`");
        let (tx, rx) = mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("piped stdout");
        let log = self.log.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let mut tx = Some(tx);
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        log.lock().unwrap().push_str(&line);
                        if let Some(rest) = line.trim().strip_prefix(LISTENING) {
                            if let Some(tx) = tx.take() {
                                let _ = tx.send(format!("http://{}", rest.trim()));
                            }
                        }
                    }
                }
            }
        });
        let stderr = child.stderr.take().expect("piped stderr");
        let log = self.log.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => log
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
        });
        self.child = Some(child);
        let address = tokio::task::spawn_blocking(move || rx.recv_timeout(STARTUP_GUARD))
            .await
            .expect("join the startup waiter");
        match address {
            Ok(address) => self.address = address,
            Err(_) => {
                self.kill();
                panic!(
                    "`councilflow serve` never printed `{LISTENING}...`; its output:\n{}",
                    self.server_log()
                );
            }
        }
    }

    /// SIGKILL: the process dies at once, whatever it was doing.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the process to exit and returns how it exited.
    pub async fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM failed");
        let waited = tokio::task::spawn_blocking(move || {
            for _ in 0..1200 {
                if let Some(status) = child.try_wait().expect("wait for the server") {
                    return Ok(status);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            Err(())
        })
        .await
        .expect("join the stop waiter");
        match waited {
            Ok(status) => status,
            Err(()) => panic!(
                "the server did not exit within a minute of SIGTERM (killed it); its output:\n{}",
                self.server_log()
            ),
        }
    }

    /// Starts the server again on the same data folder (and a new port). Kills it first if it runs.
    pub async fn restart(&mut self) {
        self.kill();
        self.log.lock().unwrap().push_str("\n---- restart ----\n");
        self.start().await;
    }

    /// Runs `councilflow ARGS --data DIR` to completion.
    pub async fn cli(&self, args: &[&str]) -> Output {
        let mut command = Command::new(BINARY);
        command
            .args(args)
            .arg("--data")
            .arg(self.data.path())
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || command.output().expect("run the councilflow CLI"))
            .await
            .expect("join the CLI")
    }

    /// A bearer token for `person`, made by `councilflow token --person ID` (cached per person).
    pub async fn token(&self, person: &str) -> String {
        if let Some(t) = self.tokens.lock().unwrap().get(person) {
            return t.clone();
        }
        let out = self.cli(&["token", "--person", person]).await;
        assert!(
            out.status.success(),
            "`councilflow token --person {person}` failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let token = stdout
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or_else(|| panic!("`councilflow token` printed nothing"))
            .to_owned();
        self.tokens
            .lock()
            .unwrap()
            .insert(person.to_owned(), token.clone());
        token
    }

    /// A cheap, cloneable handle for sending GraphQL from spawned tasks.
    pub fn client(&self) -> GraphqlClient {
        GraphqlClient {
            http: self.http.clone(),
            url: self.graphql_url(),
        }
    }

    /// POST /graphql with `Authorization: Bearer TOKEN`; the JSON response (data and/or errors).
    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.client()
            .graphql(Some(token), query, variables)
            .await
            .unwrap_or_else(|e| panic!("{e}\nserver output:\n{}", self.server_log()))
    }

    /// POST /graphql without an Authorization header.
    pub async fn graphql_without_token(&self, query: &str, variables: Value) -> Value {
        self.client()
            .graphql(None, query, variables)
            .await
            .unwrap_or_else(|e| panic!("{e}\nserver output:\n{}", self.server_log()))
    }

    /// `graphql` with the token of `person`.
    pub async fn graphql_as(&self, person: &str, query: &str, variables: Value) -> Value {
        let token = self.token(person).await;
        self.graphql(&token, query, variables).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- councilflow output (data in {}) ----\n{}",
                self.data.path().display(),
                self.server_log()
            );
        }
    }
}

/// Sends GraphQL over HTTP; `Err` only when no answer came (connection refused or reset, timeout).
#[derive(Clone)]
pub struct GraphqlClient {
    http: reqwest::Client,
    url: String,
}

impl GraphqlClient {
    pub async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Value, String> {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("POST {} failed: {e}", self.url))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| format!("reading the answer from {} failed: {e}", self.url))?;
        serde_json::from_str(&body)
            .map_err(|e| format!("the answer (HTTP {status}) is not JSON ({e}): {body}"))
    }
}

/// The `data` of a response, panicking with the whole response when it carries errors.
pub fn ok(response: &Value) -> &Value {
    if let Some(errors) = response.get("errors").filter(|e| !e.is_null()) {
        panic!(
            "expected success, got errors: {}",
            serde_json::to_string_pretty(errors).unwrap()
        );
    }
    response
        .get("data")
        .filter(|d| !d.is_null())
        .unwrap_or_else(|| panic!("no data in {response}"))
}

/// The first error's `extensions.code` and message, panicking when the response has no error.
pub fn refusal(response: &Value) -> (String, String) {
    let error = response
        .get("errors")
        .and_then(|e| e.get(0))
        .unwrap_or_else(|| panic!("expected an error, got {response}"));
    let code = error
        .pointer("/extensions/code")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("error without extensions.code: {error}"))
        .to_owned();
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    (code, message)
}

/// The error code of a refused response (see `refusal`).
pub fn error_code(response: &Value) -> String {
    refusal(response).0
}

/// A path relative to the repository root.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}
