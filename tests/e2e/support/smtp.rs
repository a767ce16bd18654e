//! Real SMTP servers for the reminder tests: the issue asks for reminders to be proven against a
//! maintained SMTP implementation, not a hand-written socket stub, so this starts Python's aiosmtpd
//! (installed by `scripts/test`) as a separate process.
//!
//! - [`SmtpServer`] runs `python3 -m aiosmtpd` with its `Mailbox` handler, which stores every
//!   accepted message in a maildir; [`SmtpServer::messages`] reads them back as [`Received`], with
//!   headers unfolded, RFC 2047 words decoded and the text and HTML alternatives decoded. It can be
//!   stopped and restarted on the same port and maildir, to test "the server was down".
//! - [`StallServer`] runs `tests/e2e/smtp/stall_server.py`, aiosmtpd with a handler that never
//!   answers the message content, to test that a send which stalls mid-conversation times out.
//!
//! Every wait here is a hang guard that panics (or returns what there is) rather than a timing
//! assertion: a slow machine makes a test slower, never wrong.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;

const STALL_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/e2e/smtp/stall_server.py"
);

/// How long a server may take to start listening before the harness gives up (a hang guard).
const STARTUP_GUARD: Duration = Duration::from_secs(30);
/// How often the harness looks again while waiting for a port or for messages.
const POLL: Duration = Duration::from_millis(50);

/// A port that was free a moment ago: bind 127.0.0.1:0, read the port, release it. Another process
/// could take it in between, which is unlikely enough for tests and far simpler than passing
/// sockets to Python.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("the local address of a bound listener")
        .port()
}

/// Everything a child process wrote to stdout and stderr, collected by reader threads so a pipe
/// never fills up and blocks it, and so a failure can show what the process said.
type Log = Arc<Mutex<String>>;

fn collect_into(log: Log, stream: impl Read + Send + 'static) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
            log.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
}

/// Kills a child and reaps it, so its port is closed once this returns.
fn kill_and_wait(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Panics with what the process said, when it exited before it was ready.
fn panic_if_exited(child: &mut Child, what: &str, log: &Log) {
    if let Ok(Some(status)) = child.try_wait() {
        panic!(
            "{what} exited before it was ready ({status}); is aiosmtpd installed \
             (`scripts/test` installs it)? Its output:\n{}",
            log.lock().unwrap()
        );
    }
}

/// aiosmtpd with the `Mailbox` handler, storing every accepted message in a maildir of its own.
pub struct SmtpServer {
    port: u16,
    maildir: tempfile::TempDir,
    child: Option<Child>,
    log: Log,
}

impl SmtpServer {
    /// Starts aiosmtpd on 127.0.0.1:`port` (use [`free_port`]) with a fresh maildir and returns
    /// once the port accepts TCP connections.
    pub async fn start(port: u16) -> SmtpServer {
        let maildir = tempfile::Builder::new()
            .prefix("councilflow-smtp-")
            .tempdir()
            .expect("create a temporary maildir");
        // Python's `mailbox.Maildir` creates the subfolders only when the maildir itself does not
        // exist yet, and a tempdir always does, so deliveries would fail without these.
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.path().join(sub)).expect("create the maildir folders");
        }
        let mut server = SmtpServer {
            port,
            maildir,
            child: None,
            log: Arc::new(Mutex::new(String::new())),
        };
        server.spawn().await;
        server
    }

    /// The port the server listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server in lettre's URL form, for `COUNCILFLOW_SMTP_URL`: plain SMTP without TLS, which
    /// is all aiosmtpd offers without certificates.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The maildir aiosmtpd writes to (`new/`, `cur/`, `tmp/`).
    pub fn maildir(&self) -> &Path {
        self.maildir.path()
    }

    /// What aiosmtpd wrote to stdout and stderr so far, for failure messages.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Whether the process is running (false after [`SmtpServer::stop`]).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Every message in the maildir so far (in `new/` and `cur/`; `tmp/` holds only messages
    /// still being written), oldest first as far as file times and names tell.
    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<(SystemTime, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.path().join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_file() {
                    let modified = entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(SystemTime::UNIX_EPOCH);
                    files.push((modified, path));
                }
            }
        }
        // Maildir names start with the delivery time, so they break ties between equal mtimes.
        files.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.file_name().cmp(&b.1.file_name()))
        });
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read(&path).ok())
            .map(|bytes| Received::parse(&String::from_utf8_lossy(&bytes)))
            .collect()
    }

    /// Polls until the maildir holds at least `n` messages or `guard` has passed, and returns the
    /// messages there are either way: `guard` only stops a broken test from hanging, so callers
    /// assert on what comes back, never on how long it took.
    pub async fn wait_for_messages(&self, n: usize, guard: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= n || started.elapsed() >= guard {
                return messages;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Kills the server and waits for it to exit, so the port refuses connections afterwards.
    /// The maildir stays, for [`SmtpServer::messages`] and [`SmtpServer::restart`].
    pub fn stop(&mut self) {
        kill_and_wait(&mut self.child);
    }

    /// Stops the server if it runs and starts it again on the same port with the same maildir, so
    /// the messages it received before stay visible.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        assert!(self.child.is_none(), "the SMTP server is already running");
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start `python3 -m aiosmtpd`");
        collect_into(self.log.clone(), child.stdout.take().expect("piped stdout"));
        collect_into(self.log.clone(), child.stderr.take().expect("piped stderr"));
        // Kept in self before waiting, so Drop kills the process even if the wait panics.
        self.child = Some(child);

        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        loop {
            let child = self.child.as_mut().expect("the child just started");
            panic_if_exited(child, "aiosmtpd", &self.log);
            if tokio::net::TcpStream::connect(address).await.is_ok() {
                // The port answers; make sure it was this process (and not one that held the
                // port already, which would make aiosmtpd fail to bind and exit).
                tokio::time::sleep(POLL).await;
                panic_if_exited(child, "aiosmtpd", &self.log);
                return;
            }
            if started.elapsed() >= STARTUP_GUARD {
                self.stop();
                panic!(
                    "aiosmtpd did not accept connections on {address} within {STARTUP_GUARD:?}. \
                     Its output:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        kill_and_wait(&mut self.child);
        if std::thread::panicking() {
            let log = self.log();
            if !log.is_empty() {
                eprintln!("--- aiosmtpd on port {} said ---\n{log}", self.port);
            }
        }
    }
}

/// aiosmtpd with a handler that never answers the message content: the greeting, EHLO, MAIL,
/// RCPT and DATA get their replies, the final "." gets none, and the connection stays open.
pub struct StallServer {
    port: u16,
    child: Option<Child>,
    log: Log,
}

impl StallServer {
    /// Starts `tests/e2e/smtp/stall_server.py` on 127.0.0.1:`port` (0 picks one) and returns once
    /// it reports `ready <port>`.
    pub async fn start(port: u16) -> StallServer {
        let mut child = Command::new("python3")
            .arg(STALL_SERVER)
            .args(["--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tests/e2e/smtp/stall_server.py");
        let log: Log = Arc::new(Mutex::new(String::new()));
        let ready = watch_for_ready(child.stdout.take().expect("piped stdout"), log.clone());
        collect_into(log.clone(), child.stderr.take().expect("piped stderr"));
        let mut server = StallServer {
            port,
            child: Some(child),
            log,
        };

        let started = Instant::now();
        loop {
            if let Ok(bound) = ready.try_recv() {
                server.port = bound;
                return server;
            }
            let child = server.child.as_mut().expect("the child just started");
            panic_if_exited(child, "stall_server.py", &server.log);
            if started.elapsed() >= STARTUP_GUARD {
                server.stop();
                panic!(
                    "stall_server.py did not report `ready` within {STARTUP_GUARD:?}. \
                     Its output:\n{}",
                    server.log()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server in lettre's URL form, for `COUNCILFLOW_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// What the server wrote to stdout and stderr so far, for failure messages.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Kills the server and waits for it to exit.
    pub fn stop(&mut self) {
        kill_and_wait(&mut self.child);
    }
}

impl Drop for StallServer {
    fn drop(&mut self) {
        kill_and_wait(&mut self.child);
    }
}

/// Reads the stall server's stdout into the log and sends the port of its `ready <port>` line.
fn watch_for_ready(stdout: ChildStdout, log: Log) -> mpsc::Receiver<u16> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
            log.lock().unwrap().push_str(&line);
            if let Some(port) = line.trim().strip_prefix("ready ") {
                if let Ok(port) = port.trim().parse::<u16>() {
                    let _ = tx.send(port);
                }
            }
            line.clear();
        }
    });
    rx
}

/// One message as aiosmtpd stored it, parsed just enough for assertions.
#[derive(Debug, Clone)]
pub struct Received {
    /// The `From` header, encoded words decoded (for example `councilflow <reminders@x.gov.uk>`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`, which aiosmtpd records as `X-RcptTo`), bare addresses:
    /// who the message was actually delivered to, Bcc included. Falls back to the addresses in
    /// `To` and `Cc` for a message without that header.
    pub to: Vec<String>,
    /// The `Subject` header with RFC 2047 encoded words decoded.
    pub subject: String,
    /// The `Message-ID` header verbatim, angle brackets included.
    pub message_id: String,
    /// Every header in order, unfolded, RFC 2047 encoded words decoded. aiosmtpd adds `X-Peer`,
    /// `X-MailFrom` (the envelope sender) and `X-RcptTo`.
    pub headers: Vec<(String, String)>,
    /// The text/plain part (or the whole body of a single-part message that is not HTML), transfer
    /// encoding decoded, line endings normalised to `\n`.
    pub text: String,
    /// The text/html part, decoded the same way, if there is one.
    pub html: Option<String>,
    /// The whole stored message as text.
    pub raw: String,
}

impl Received {
    /// The first header called `name` (case-insensitive), unfolded and decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// Every header called `name` (case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Parses a message: headers unfolded per RFC 5322, multipart bodies split by their boundary
    /// (nested parts too), quoted-printable and base64 parts decoded. Text is assumed to be UTF-8,
    /// which is what lettre writes.
    pub fn parse(raw: &str) -> Received {
        let (headers, body) = split_entity(raw);
        let mut text = None;
        let mut html = None;
        collect_parts(&headers, body, &mut text, &mut html);

        let get = |name: &str| header_in(&headers, name).unwrap_or_default().to_string();
        let mut to: Vec<String> = header_in(&headers, "X-RcptTo")
            .map(|v| {
                v.split(',')
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if to.is_empty() {
            for name in ["To", "Cc"] {
                for value in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    to.extend(addresses(&value.1));
                }
            }
        }
        Received {
            from: get("From"),
            to,
            subject: get("Subject"),
            message_id: get("Message-ID"),
            text: text.unwrap_or_default(),
            html,
            headers,
            raw: raw.to_string(),
        }
    }
}

fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Splits an entity (a message or a MIME part) into its unfolded, decoded headers and its body.
/// The header block ends at the first empty line; a line starting with a space or tab continues
/// the header before it (RFC 5322 section 2.2.3: unfolding removes the line break only).
fn split_entity(raw: &str) -> (Vec<(String, String)>, &str) {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut rest = raw;
    loop {
        let (line, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            rest = next;
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.to_string()));
        }
        rest = next;
        if rest.is_empty() {
            break;
        }
    }
    let headers = headers
        .into_iter()
        .map(|(name, value)| (name, decode_words(value.trim())))
        .collect();
    (headers, rest)
}

/// Finds the first text/plain and text/html leaves of an entity, descending into multiparts.
fn collect_parts(
    headers: &[(String, String)],
    body: &str,
    text: &mut Option<String>,
    html: &mut Option<String>,
) {
    let content_type = header_in(headers, "Content-Type").unwrap_or("text/plain");
    let (mime, params) = parse_content_type(content_type);
    if mime.starts_with("multipart/") {
        if let Some(boundary) = params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        {
            for part in split_multipart(body, &boundary.1) {
                let (part_headers, part_body) = split_entity(&part);
                collect_parts(&part_headers, part_body, text, html);
            }
        }
        return;
    }
    let encoding = header_in(headers, "Content-Transfer-Encoding").unwrap_or("7bit");
    let decoded = decode_body(body, encoding);
    let slot = if mime == "text/html" { html } else { text };
    if slot.is_none() && (mime == "text/html" || mime == "text/plain") {
        *slot = Some(decoded);
    }
}

/// The lowercased media type and the parameters (quotes removed) of a Content-Type value.
fn parse_content_type(value: &str) -> (String, Vec<(String, String)>) {
    let mut pieces = value.split(';');
    let mime = pieces
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let params = pieces
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect();
    (mime, params)
}

/// The parts of a multipart body: the text between `--boundary` lines, up to `--boundary--`
/// (RFC 2046 section 5.1.1). The line break before a delimiter belongs to the delimiter, which
/// splitting by lines and joining them again gives for free.
fn split_multipart(body: &str, boundary: &str) -> Vec<String> {
    let delimiter = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in body.lines() {
        let trimmed = line.trim_end();
        if trimmed == close {
            break;
        }
        if trimmed == delimiter {
            if let Some(lines) = current.take() {
                parts.push(lines.join("\n"));
            }
            current = Some(Vec::new());
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some(lines) = current {
        parts.push(lines.join("\n"));
    }
    parts
}

/// Decodes a leaf body by its Content-Transfer-Encoding, as UTF-8 with `\n` line endings.
fn decode_body(body: &str, encoding: &str) -> String {
    let bytes = match encoding.trim().to_ascii_lowercase().as_str() {
        "quoted-printable" => {
            quoted_printable::decode(body.as_bytes(), quoted_printable::ParseMode::Robust)
                .unwrap_or_else(|_| body.as_bytes().to_vec())
        }
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_else(|_| body.as_bytes().to_vec())
        }
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
}

/// Decodes RFC 2047 encoded words (`=?charset?B?...?=` and `=?charset?Q?...?=`) in a header value.
/// Whitespace between two adjacent encoded words is dropped (section 6.2), and the bytes of
/// adjacent words are joined before they are read as UTF-8, because an encoder may split a
/// character across words. Charsets are assumed to be UTF-8 or ASCII, which is what lettre writes.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    // Whitespace seen since the last encoded word, kept only if plain text follows.
    let mut gap = String::new();
    let mut rest = value;
    while !rest.is_empty() {
        if let Some((decoded, after)) = encoded_word(rest) {
            // Two adjacent words: the gap between them is folding, not content.
            gap.clear();
            pending.extend(decoded);
            rest = after;
            continue;
        }
        let ch = rest.chars().next().expect("rest is not empty");
        rest = &rest[ch.len_utf8()..];
        if ch.is_whitespace() && !pending.is_empty() {
            gap.push(ch);
            continue;
        }
        if !pending.is_empty() {
            out.push_str(&String::from_utf8_lossy(&pending));
            pending.clear();
        }
        out.push_str(&gap);
        gap.clear();
        out.push(ch);
    }
    out.push_str(&String::from_utf8_lossy(&pending));
    out.push_str(&gap);
    out
}

/// If `s` starts with an encoded word, its decoded bytes and the text after it.
fn encoded_word(s: &str) -> Option<(Vec<u8>, &str)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let (payload, after) = (&inner[..end], &inner[end + 2..]);
    if payload.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(payload)
            .ok()?,
        "Q" | "q" => {
            // In Q encoding `_` is a space; a literal underscore arrives as `=5F`.
            let payload = payload.replace('_', " ");
            quoted_printable::decode(payload.as_bytes(), quoted_printable::ParseMode::Robust)
                .ok()?
        }
        _ => return None,
    };
    Some((bytes, after))
}

/// The bare addresses in an address-list header: the part in angle brackets, or the whole entry.
/// Commas inside quoted display names do not split entries.
fn addresses(value: &str) -> Vec<String> {
    let mut entries = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for ch in value.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                current.push(ch);
            }
            ',' if !quoted => entries.push(std::mem::take(&mut current)),
            _ => current.push(ch),
        }
    }
    entries.push(current);
    entries
        .iter()
        .map(|entry| {
            let entry = entry.trim();
            match (entry.rfind('<'), entry.rfind('>')) {
                (Some(open), Some(close)) if open < close => entry[open + 1..close].to_string(),
                _ => entry.to_string(),
            }
        })
        // A display name with a comma that arrived RFC 2047 encoded is split once decoded; its
        // first half is no address, and every real address has an `@`.
        .filter(|a| a.contains('@'))
        .collect()
}
