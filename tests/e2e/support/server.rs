//! The server under test, started one of two ways:
//! - **in process** (the default): `Application::build` on port 0 with the test's data folder,
//!   run on a task of the test's runtime and stopped through `run_until`, as `serve` does. No
//!   process starts, so most tests cost a few milliseconds of set-up.
//! - **as a process**: the real `councilflow serve` binary, for the tests that kill it, cut its
//!   power, fill its disk, read its log or its memory, or run the CLI beside it.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use councilflow_server::app::{serve_settings, Application};
use councilflow_server::cli::{Cli, Command as CliCommand};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{BINARY, LISTENING, STARTUP_GUARD, WORKFLOWS};

/// How a [`super::TestApp`] runs its server.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    InProcess,
    Process,
}

/// What a start needs.
pub(super) struct Launch {
    pub data: PathBuf,
    pub seeds: PathBuf,
    pub extra_args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub log: Arc<Mutex<String>>,
}

impl Launch {
    /// `serve`'s arguments. Tests that are not about reminders must not see a reminder round
    /// mid-test; those that are pass `--reminder-interval-secs`.
    fn serve_args(&self) -> Vec<String> {
        let mut args: Vec<String> = ["serve", "--data"].map(String::from).to_vec();
        args.push(self.data.display().to_string());
        // A free port, unless the test chose one (to restart on the same address, say).
        if !self.extra_args.iter().any(|a| a == "--listen") {
            args.extend(["--listen", "127.0.0.1:0"].map(String::from));
        }
        args.extend(["--workflows", WORKFLOWS, "--seeds"].map(String::from));
        args.push(self.seeds.display().to_string());
        if !self
            .extra_args
            .iter()
            .any(|a| a == "--reminder-interval-secs")
        {
            args.extend(["--reminder-interval-secs", "3600"].map(String::from));
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }
}

pub(super) enum Server {
    Process(Child),
    InProcess {
        stop: oneshot::Sender<()>,
        task: JoinHandle<anyhow::Result<()>>,
    },
}

/// Starts the server; its address (`http://127.0.0.1:PORT`).
pub(super) async fn start(mode: Mode, launch: &Launch) -> (Server, String) {
    match mode {
        Mode::InProcess => start_in_process(launch).await,
        Mode::Process => start_process(launch).await,
    }
}

async fn start_in_process(launch: &Launch) -> (Server, String) {
    assert!(
        launch.env.is_empty(),
        "an in-process server cannot have an environment of its own: spawn a process"
    );
    let cli =
        Cli::try_parse_from(std::iter::once("councilflow".to_owned()).chain(launch.serve_args()))
            .unwrap_or_else(|e| panic!("serve's arguments: {e}"));
    let CliCommand::Serve(args) = cli.command else {
        unreachable!("the arguments start with serve")
    };
    let (settings, _) = serve_settings(&args).unwrap_or_else(|e| panic!("{e:#}"));
    let app = Application::build(settings)
        .await
        .unwrap_or_else(|e| panic!("the application did not start: {e:#}"));
    let address = format!("http://{}", app.address());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    (Server::InProcess { stop, task }, address)
}

async fn start_process(launch: &Launch) -> (Server, String) {
    let mut child = Command::new(BINARY)
        .args(launch.serve_args())
        .env("RUST_LOG", "info")
        .envs(launch.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start `councilflow serve`");
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().expect("piped stdout");
    let log = launch.log.clone();
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
    let log = launch.log.clone();
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
    let address = tokio::task::spawn_blocking(move || rx.recv_timeout(STARTUP_GUARD))
        .await
        .expect("join the startup waiter");
    match address {
        Ok(address) => (Server::Process(child), address),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`councilflow serve` never printed `{LISTENING}...`; its output:\n{}",
                launch.log.lock().unwrap()
            );
        }
    }
}

impl Server {
    pub(super) fn pid(&self) -> Option<u32> {
        match self {
            Server::Process(child) => Some(child.id()),
            Server::InProcess { .. } => None,
        }
    }

    /// SIGKILL: the process dies at once, whatever it was doing.
    pub(super) fn kill(self) {
        match self {
            Server::Process(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Server::InProcess { .. } => {
                panic!("an in-process server cannot be killed: spawn a process for this test")
            }
        }
    }

    /// A clean stop (SIGTERM for a process); how it ended, as an exit status. `Err` with what
    /// to say when it did not end within a minute.
    pub(super) async fn stop(self) -> Result<ExitStatus, String> {
        match self {
            Server::Process(mut child) => {
                let status = Command::new("kill")
                    .arg("-TERM")
                    .arg(child.id().to_string())
                    .status()
                    .expect("run kill -TERM");
                assert!(status.success(), "kill -TERM failed");
                tokio::task::spawn_blocking(move || {
                    for _ in 0..1200 {
                        if let Some(status) = child.try_wait().expect("wait for the server") {
                            return Ok(status);
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    Err("the server did not exit within a minute of SIGTERM (killed it)".into())
                })
                .await
                .expect("join the stop waiter")
            }
            Server::InProcess { stop, task } => {
                let _ = stop.send(());
                match tokio::time::timeout(Duration::from_secs(60), task).await {
                    Ok(Ok(Ok(()))) => Ok(ExitStatus::from_raw(0)),
                    Ok(Ok(Err(e))) => {
                        eprintln!("the application stopped with an error: {e:#}");
                        Ok(ExitStatus::from_raw(1 << 8))
                    }
                    Ok(Err(e)) => Err(format!("the application's task failed: {e}")),
                    Err(_) => Err("the application did not stop within a minute".into()),
                }
            }
        }
    }
}
