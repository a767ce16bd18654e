//! Hostile GraphQL over HTTP: documents built to exhaust the parser, the validator or the executor,
//! bodies that are too big or not text, and inputs of the wrong shape. Each is refused fast with
//! `BAD_INPUT`, writes nothing, and the server keeps answering others.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;

/// A hang guard, not a timing: a refusal that takes this long means the server is stuck on the
/// request. (Times are printed; speed is measured in `bench/run`, never asserted in a test.)
const HANG: Duration = Duration::from_secs(30);

/// POSTs raw bytes to /graphql as `token`; the HTTP status and the body parsed as JSON.
async fn post_raw(app: &TestApp, token: &str, body: Vec<u8>) -> (u16, Value) {
    // The guard applies while waiting too: a server stuck on the request fails the test, rather
    // than hanging it.
    let client = reqwest::Client::builder().timeout(HANG).build().unwrap();
    let response = client
        .post(app.graphql_url())
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST failed: {e}\nserver output:\n{}", app.server_log()));
    let status = response.status().as_u16();
    let text = response.text().await.expect("read the answer");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the answer (HTTP {status}) is not JSON ({e}): {text}"));
    (status, value)
}

fn request(query: &str, variables: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "query": query, "variables": variables })).unwrap()
}

async fn assert_nothing_written(app: &TestApp, head: &str, what: &str) {
    assert_eq!(
        app.events_after(head).await,
        Vec::<Value>::new(),
        "{what} wrote events"
    );
}

async fn assert_still_serving(app: &TestApp, what: &str) {
    let response = app
        .graphql_as("fiona-grant", "query { me { id } }", json!({}))
        .await;
    assert_eq!(
        ok(&response)["me"]["id"],
        "fiona-grant",
        "after {what}, the server answers a normal query"
    );
}

/// The code of the first error of a response, or of the first response of a batch.
fn first_code(body: &Value) -> Option<&str> {
    let body = if body.is_array() { &body[0] } else { body };
    body.pointer("/errors/0/extensions/code")
        .and_then(Value::as_str)
}

/// A valid edit of `plan`, so that anything that got executed would show in the ledger.
fn edit_input(plan: &str) -> Value {
    json!({ "planId": plan, "sectionId": "achievements", "text": "A write that must not land." })
}

/// The hostile requests: a name and the raw body.
fn hostile_bodies(plan: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut cases = Vec::new();

    // Nested past the depth limit (validation) and far past the parser's recursion limit.
    let deep = |levels: usize| {
        let mut q = String::from("{ councils ");
        for _ in 0..levels {
            q.push_str("{ groups { members ");
        }
        q.push_str("{ id }");
        q.push_str(&" } }".repeat(levels));
        q.push_str(" }");
        q
    };
    cases.push(("selections nested 40 deep", request(&deep(20), json!({}))));
    cases.push((
        "selections nested 20,000 deep",
        request(&deep(10_000), json!({})),
    ));
    let mut brackets = String::from("mutation { editSection(input: ");
    brackets.push_str(&"{ text: [".repeat(5_000));
    brackets.push_str(&"] }".repeat(5_000));
    brackets.push_str(") { events { id } } }");
    cases.push((
        "an input value nested 10,000 deep",
        request(&brackets, json!({})),
    ));

    // Fragments that spread themselves, directly and through one another, on a mutation.
    cases.push((
        "a self-referencing fragment",
        request(
            "mutation($input: EditSectionInput!) { editSection(input: $input) { plan { ...P } } }
             fragment P on Plan { id councils { id } ...P }",
            json!({ "input": edit_input(plan) }),
        ),
    ));
    cases.push((
        "mutually recursive fragments",
        request(
            "mutation($input: EditSectionInput!) { editSection(input: $input) { plan { ...P } } }
             fragment P on Plan { id councils { ...C } }
             fragment C on Council { id plans { edges { node { ...P } } } }",
            json!({ "input": edit_input(plan) }),
        ),
    ));

    // 5,000 aliases of a mutation.
    let mut aliases = String::from("mutation($i: EditSectionInput!) {");
    for n in 0..5_000 {
        aliases.push_str(&format!(
            " a{n}: editSection(input: $i) {{ events {{ id }} }}"
        ));
    }
    aliases.push('}');
    cases.push((
        "5,000 aliases",
        request(&aliases, json!({ "i": edit_input(plan) })),
    ));

    // 1,000 directives on one field, on a query and on a mutation.
    let directives = " @include(if: true)".repeat(1_000);
    cases.push((
        "1,000 directives on a query field",
        request(&format!("{{ me{directives} {{ id }} }}"), json!({})),
    ));
    cases.push((
        "1,000 directives on a mutation field",
        request(
            &format!(
                "mutation($i: EditSectionInput!) {{ editSection(input: $i){directives} {{ events {{ id }} }} }}"
            ),
            json!({ "i": edit_input(plan) }),
        ),
    ));

    // A batch of 100 operations, each a valid write.
    let one = json!({
        "query": "mutation($i: EditSectionInput!) { editSection(input: $i) { events { id } } }",
        "variables": { "i": edit_input(plan) },
    });
    let batch: Vec<Value> = (0..100).map(|_| one.clone()).collect();
    cases.push(("a 100-operation batch", serde_json::to_vec(&batch).unwrap()));

    // Bytes that are not UTF-8: in the JSON text, and inside the query string.
    let mut bytes = request("{ me { id } }", json!({}));
    bytes.extend_from_slice(b"\xff\xfe\xfd");
    cases.push(("invalid UTF-8 after the JSON", bytes));
    let mut bytes = b"{\"query\": \"{ me { id \xc3\x28 \xa0\xa1 } }\"}".to_vec();
    bytes.extend_from_slice(b"\xed\xa0\x80");
    cases.push(("invalid UTF-8 inside the query", bytes));
    cases.push((
        "a lone surrogate escape",
        br#"{"query": "{ me { id } }\ud800"}"#.to_vec(),
    ));

    // Variables of the wrong types.
    cases.push((
        "variables of the wrong types",
        request(
            "mutation($i: EditSectionInput!) { editSection(input: $i) { events { id } } }",
            json!({ "i": { "planId": 5, "sectionId": ["achievements"], "text": { "a": 1 }, "expectedRevision": "one" } }),
        ),
    ));
    cases.push((
        "a revision that does not fit an Int",
        request(
            "mutation($i: EditSectionInput!) { editSection(input: $i) { events { id } } }",
            json!({ "i": { "planId": plan, "sectionId": "achievements", "text": "x", "expectedRevision": 99_999_999_999_999_i64 } }),
        ),
    ));
    cases.push((
        "a variable that is not declared's type",
        request(
            "mutation($i: String!) { editSection(input: $i) { events { id } } }",
            json!({ "i": "achievements" }),
        ),
    ));
    cases.push((
        "a date that is not a date",
        request(
            "mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) { events { id } } }",
            json!({ "i": { "planId": plan, "council": "stockport", "committee": "Cabinet", "meetingDate": "the 31st of Februaryish" } }),
        ),
    ));

    // An unknown enum value, inline and as a variable.
    cases.push((
        "an unknown enum value inline",
        request(
            &format!(
                "mutation {{ recordCommitteeDecision(input: {{ planId: \"{plan}\", council: \"stockport\", committee: \"Cabinet\", meetingDate: \"2024-06-01\", decision: MAYBE }}) {{ events {{ id }} }} }}"
            ),
            json!({}),
        ),
    ));
    cases.push((
        "an unknown enum value in a variable",
        request(
            "mutation($i: RecordCommitteeDecisionInput!) { recordCommitteeDecision(input: $i) { events { id } } }",
            json!({ "i": { "planId": plan, "council": "stockport", "committee": "Cabinet", "meetingDate": "2024-06-01", "decision": "MAYBE" } }),
        ),
    ));

    // Not GraphQL at all, not JSON at all, and nothing.
    cases.push((
        "a query that is not GraphQL",
        request("SELECT * FROM events; DROP TABLE events; --", json!({})),
    ));
    cases.push((
        "a body that is not JSON",
        b"<?xml version=\"1.0\"?><query>me</query>".to_vec(),
    ));
    cases.push((
        "JSON that is not a request",
        b"[1, 2, {\"q\": null}]".to_vec(),
    ));
    cases.push(("an empty body", Vec::new()));
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_documents_and_bodies_are_refused_fast_as_bad_input_and_write_nothing() {
    let app = spawn_app().await;
    let token = app.token("ravi-patel").await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let head = app.head_cursor().await;

    let mut wrong = Vec::new();
    for (what, body) in hostile_bodies(&plan) {
        let size = body.len();
        let started = Instant::now();
        let (status, answer) = post_raw(&app, &token, body).await;
        let took = started.elapsed();
        let code = first_code(&answer);
        eprintln!("{what} ({size} bytes): HTTP {status}, {code:?} in {took:?}");
        if code != Some("BAD_INPUT") || status >= 500 || took > HANG {
            let mut shown = answer.to_string();
            shown.truncate(600);
            wrong.push(format!(
                "{what} ({size} bytes): HTTP {status} in {took:?}, code {code:?}: {shown}"
            ));
        }
        assert_nothing_written(&app, &head, what).await;
        assert_still_serving(&app, what).await;
    }
    assert!(
        wrong.is_empty(),
        "{} hostile requests were not refused with BAD_INPUT:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// VmRSS of a process, in bytes.
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Streams a `Content-Length: size` body of `size` bytes to /graphql over a raw connection, without
/// ever holding it in memory; returns the status line and the answer's body. Writes stop as soon
/// as the server answers or closes.
fn stream_huge_body(address: &str, token: &str, size: usize) -> (String, String) {
    let host = address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&host).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("send the headers");
    let mut writer = stream.try_clone().expect("clone the socket");
    let sender = std::thread::spawn(move || {
        // A JSON string that never ends: valid-looking all the way to the limit.
        let prefix = b"{\"query\":\"";
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = match writer.write_all(prefix) {
            Ok(()) => prefix.len(),
            Err(_) => return 0,
        };
        while sent < size {
            let n = (size - sent).min(chunk.len());
            match writer.write(&chunk[..n]) {
                Ok(0) | Err(_) => break,
                Ok(k) => sent += k,
            }
        }
        sent
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                // Stop once the headers and a body of the announced length are in.
                let text = String::from_utf8_lossy(&answer);
                if let Some((headers, body)) = text.split_once("\r\n\r\n") {
                    let length = headers.lines().find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())
                            .flatten()
                    });
                    if length.is_some_and(|len| body.len() >= len) {
                        break;
                    }
                }
            }
            Err(_) => break,
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let sent = sender.join().expect("join the sender");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = headers.lines().next().unwrap_or("").to_owned();
    eprintln!("streamed {sent} of {size} bytes before the server answered: {status}");
    (status, body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_body_is_refused_with_413_bad_input_in_bounded_memory_and_the_server_stays_up() {
    const SIZE: usize = 50 * 1024 * 1024;
    let app = spawn_process_app().await; // its memory is measured
    let token = app.token("ravi-patel").await;
    let head = app.head_cursor().await;
    let pid = app.pid().expect("the server is running");
    let before = rss_bytes(pid).expect("the server's VmRSS");

    let started = Instant::now();
    let address = app.address.clone();
    let (status, body) = tokio::task::spawn_blocking({
        let token = token.clone();
        move || stream_huge_body(&address, &token, SIZE)
    })
    .await
    .expect("join the streamer");
    let took = started.elapsed();
    assert!(
        status.contains(" 413 "),
        "a 50 MB body gets HTTP 413, got `{status}` with {body}"
    );
    let answer: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("the 413 answer is JSON ({e}): {body}"));
    assert_eq!(first_code(&answer), Some("BAD_INPUT"), "{answer}");
    eprintln!("a 50 MB body refused in {took:?}");
    assert!(took < HANG, "the server hung on a 50 MB body: {took:?}");

    let after = rss_bytes(pid).expect("the server is still running");
    eprintln!("server RSS before {before} bytes, after {after} bytes");
    assert!(
        after < before + 100 * 1024 * 1024,
        "the server's RSS grew by {} bytes on a 50 MB body (before {before}, after {after})",
        after.saturating_sub(before)
    );
    assert_nothing_written(&app, &head, "the 50 MB body").await;
    assert_still_serving(&app, "the 50 MB body").await;

    // Several at once, while others are served.
    let mut streams = Vec::new();
    for _ in 0..4 {
        let (address, token) = (app.address.clone(), token.clone());
        streams.push(tokio::task::spawn_blocking(move || {
            stream_huge_body(&address, &token, SIZE)
        }));
    }
    assert_still_serving(&app, "four 50 MB bodies at once").await;
    for s in streams {
        let (status, body) = s.await.expect("join a streamer");
        assert!(status.contains(" 413 "), "got `{status}` with {body}");
    }
    let after = rss_bytes(pid).expect("the server is still running");
    assert!(
        after < before + 100 * 1024 * 1024,
        "the server's RSS grew by {} bytes on four 50 MB bodies",
        after.saturating_sub(before)
    );
    assert_still_serving(&app, "four 50 MB bodies").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_outside_2000_to_2100_is_refused_wherever_it_is_sent() {
    let app = spawn_app().await;
    let plan = app.start_plan("ravi-patel", &["stockport"]).await;
    let head = app.head_cursor().await;
    let extension = |due: &str, on: &str| {
        json!({
            "planId": plan, "due": due, "grantedBy": "the department",
            "grantedOn": on, "reference": "letter",
        })
    };
    let attempts = [
        (
            "hannah-moss",
            "scheduleMeeting",
            json!({ "planId": plan, "council": "stockport", "committee": "Cabinet", "meetingDate": "262000-01-05" }),
        ),
        (
            "hannah-moss",
            "scheduleMeeting",
            json!({ "planId": plan, "council": "stockport", "committee": "Cabinet", "meetingDate": "2101-01-01" }),
        ),
        (
            "ravi-patel",
            "setDeadline",
            json!({ "planId": plan, "stageId": "member-oversight", "due": "1999-12-31T12:00:00Z" }),
        ),
        (
            "joe-sutton",
            "recordExtension",
            extension("2100-12-31T23:59:59Z", "1999-01-01"),
        ),
        (
            "joe-sutton",
            "recordExtension",
            extension("+262143-12-31T23:59:59Z", "2024-07-05"),
        ),
    ];
    for (person, mutation, input) in attempts {
        let (code, message) = app.refused(person, mutation, input.clone()).await;
        assert_eq!(code, "BAD_INPUT", "{mutation} {input}: {message}");
        assert!(
            message.contains("2000") || message.contains("not a date"),
            "the refusal says what range is accepted: {message}"
        );
    }
    let as_of = app
        .graphql_as(
            "ravi-patel",
            "query($id: ID!, $at: DateTime) { plan(id: $id, asOf: $at) { id } }",
            json!({ "id": plan, "at": "2200-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(error_code(&as_of), "BAD_INPUT", "{as_of}");
    assert_nothing_written(&app, &head, "dates out of range").await;
    // The last day of the range is accepted.
    app.act(
        "joe-sutton",
        "recordExtension",
        extension("2100-12-31T23:59:59Z", "2100-12-31"),
    )
    .await;
}
