//! A reader of a live page's event stream (`text/event-stream`), as `EventSource` reads it: one
//! event per blank-line-separated block, its `id:` and `data:` lines; comments (keep-alives)
//! skipped.

use std::time::Duration;

use reqwest::header::COOKIE;

/// How long a test waits for an event before giving up (a hang guard, never an assertion).
const GUARD: Duration = Duration::from_secs(30);

pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

/// One event: its id (a ledger position) and its sentence.
#[derive(Debug)]
pub struct LiveEvent {
    pub id: u64,
    pub data: String,
}

impl EventStream {
    /// Opens `address` + `path` with a session cookie and, when resuming, `Last-Event-ID`.
    /// Err is the status of a refused stream.
    pub async fn open(
        address: &str,
        path: &str,
        cookie: Option<&str>,
        last_event_id: Option<u64>,
    ) -> Result<EventStream, u16> {
        let mut request = reqwest::Client::new().get(format!("{address}{path}"));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.expect("an answer");
        if response.status() != 200 {
            return Err(response.status().as_u16());
        }
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Ok(EventStream {
            response,
            buffer: String::new(),
        })
    }

    /// The next event, or None when the server ended the stream.
    pub async fn next(&mut self) -> Option<LiveEvent> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                    }
                }
                if let Some(id) = id {
                    return Some(LiveEvent {
                        id,
                        data: data.join("\n"),
                    });
                }
            }
            let chunk = tokio::time::timeout(GUARD, self.response.chunk())
                .await
                .expect("an event within the guard")
                .ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// The live region's stream address on a page (`data-stream`), as a browser decodes it.
pub fn stream_of(html: &str) -> String {
    let start = html.find("data-stream=\"").expect("a live region") + "data-stream=\"".len();
    html[start..][..html[start..].find('"').unwrap()]
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}
