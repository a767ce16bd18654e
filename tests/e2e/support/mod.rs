//! The harness: `spawn_app()` builds the application in the test's own process on a free port,
//! with its own data folder and the repository's workflows and seeds (`spawn_process_app()` runs
//! the real `councilflow` binary instead; see `server.rs`), and `TestApp` talks to it over HTTP
//! GraphQL, graphql-transport-ws and the CLI.

#![allow(dead_code)]

pub mod browser;
pub mod lazyfs;
pub mod oidc;
pub mod plans;
mod server;
pub mod smtp;
pub mod sse;
pub mod web;
pub mod ws;

use std::collections::HashMap;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

pub use plans::*;
pub use server::Mode;

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
    mode: Mode,
    server: Option<server::Server>,
    log: Arc<Mutex<String>>,
    http: reqwest::Client,
    tokens: Mutex<HashMap<String, String>>,
}

/// Starts the application in this process with a fresh data folder.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the binary, in a process of its own, with a fresh data folder.
pub async fn spawn_process_app() -> TestApp {
    spawn_process_app_with(&[]).await
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

fn temporary_data() -> DataDir {
    DataDir::Temp(
        tempfile::Builder::new()
            .prefix("councilflow-e2e-")
            .tempdir()
            .expect("create a temporary data folder"),
    )
}

/// Starts the application in this process with a fresh data folder and more `serve` arguments.
pub async fn spawn_app_with(extra_args: &[&str]) -> TestApp {
    spawn(Mode::InProcess, temporary_data(), extra_args, &[]).await
}

/// Starts the binary with a fresh data folder and more `serve` arguments.
pub async fn spawn_process_app_with(extra_args: &[&str]) -> TestApp {
    spawn(Mode::Process, temporary_data(), extra_args, &[]).await
}

/// Starts the binary on the data folder `data` (which may exist), with more environment.
pub async fn spawn_process_app_at(data: &Path, env: &[(&str, &str)]) -> TestApp {
    spawn(Mode::Process, DataDir::At(data.to_owned()), &[], env).await
}

async fn spawn(mode: Mode, data: DataDir, extra_args: &[&str], env: &[(&str, &str)]) -> TestApp {
    let mut app = TestApp {
        address: String::new(),
        data,
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        seeds: PathBuf::from(SEEDS),
        extra_args: Vec::new(),
        mode,
        server: None,
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
    /// Sets an environment variable for the next (re)start of a process server.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Makes the next (re)start load seeds from `dir`.
    pub fn use_seeds(&mut self, dir: &Path) {
        self.seeds = dir.to_owned();
    }

    /// The server process's id, while it runs (`None` in process).
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().and_then(server::Server::pid)
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

    /// What the server wrote to stdout and stderr so far (a process's only: an in-process
    /// server's log goes to the test's own output).
    pub fn server_log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    async fn start(&mut self) {
        assert!(self.server.is_none(), "the server is already running");
        let launch = server::Launch {
            data: self.data.path().to_owned(),
            seeds: self.seeds.clone(),
            extra_args: self.extra_args.clone(),
            env: self.env.clone(),
            log: self.log.clone(),
        };
        let (server, address) = server::start(self.mode, &launch).await;
        self.server = Some(server);
        self.address = address;
    }

    /// SIGKILL: the process dies at once, whatever it was doing (process mode only).
    pub fn kill(&mut self) {
        if let Some(server) = self.server.take() {
            server.kill();
        }
    }

    /// A clean stop (SIGTERM for a process); waits for it and returns how it ended.
    pub async fn stop(&mut self) -> ExitStatus {
        let server = self.server.take().expect("the server is running");
        match server.stop().await {
            Ok(status) => status,
            Err(why) => panic!("{why}; its output:\n{}", self.server_log()),
        }
    }

    /// Starts the server again on the same data folder (and a new port): a process is killed
    /// first if it runs, an in-process server stopped.
    pub async fn restart(&mut self) {
        match self.mode {
            Mode::Process => self.kill(),
            Mode::InProcess => {
                if self.server.is_some() {
                    self.stop().await;
                }
            }
        }
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

    /// A bearer token for `person` (cached per person), issued into the data folder's token
    /// file as `councilflow token --person ID` does (`cli.rs` tests that command itself).
    pub async fn token(&self, person: &str) -> String {
        if let Some(t) = self.tokens.lock().unwrap().get(person) {
            return t.clone();
        }
        let id = councilflow_governance::PersonId::parse(person)
            .unwrap_or_else(|e| panic!("{person:?} is not a person id: {e}"));
        let token = councilflow_api::TokenStore::new(self.data.path())
            .issue(&id)
            .expect("issue a token");
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
        // A process is killed; an in-process server stops on its own once its stop signal's
        // sender is dropped.
        if self.mode == Mode::Process {
            self.kill();
        }
        self.server.take();
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
