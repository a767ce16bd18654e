//! The SMTP harness itself, against the real aiosmtpd: the reminder tests trust `SmtpServer` to
//! show exactly what was delivered and `StallServer` to stall exactly where lettre's timeout does
//! not reach, so both are proven here first. Mail is sent with Python's smtplib, a client the
//! harness does not share code with, so a bug in the harness cannot hide itself.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine as _;

use crate::support::smtp::{free_port, Received, SmtpServer, StallServer};

/// A hang guard for waiting on delivery, never an assertion of speed.
const DELIVERY_GUARD: Duration = Duration::from_secs(30);

/// Sends `message` as it is (no re-encoding) to 127.0.0.1:`port` with Python's smtplib.
fn send_with_smtplib(port: u16, from: &str, recipients: &[&str], message: &str) -> Output {
    let script = "import smtplib, sys\n\
                  s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
                  s.sendmail(sys.argv[2], sys.argv[3].split(','), sys.stdin.buffer.read())\n\
                  s.quit()\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(port.to_string())
        .arg(from)
        .arg(recipients.join(","))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3 smtplib");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(message.as_bytes())
        .expect("write the message to smtplib");
    child.wait_with_output().expect("wait for smtplib")
}

fn assert_sent(out: &Output) {
    assert!(
        out.status.success(),
        "smtplib failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A short message with a plain subject, for tests that only count messages.
fn simple_message(subject: &str) -> String {
    format!(
        "From: councilflow <reminders@councilflow.test>\r\n\
         To: jo@stockport.gov.uk\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{subject}@councilflow.test>\r\n\
         \r\n\
         {subject}\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_to_aiosmtpd_reads_back_with_its_headers_and_both_parts_decoded() {
    let server = SmtpServer::start(free_port()).await;
    let b64 = base64::engine::general_purpose::STANDARD;
    // Shaped like lettre's output: a non-ASCII subject as two folded encoded words (one B, one Q),
    // a multipart/alternative body with a quoted-printable text part and a base64 HTML part.
    let html = "<p>Two blockers remain \u{2014} <a href=\"https://councilflow.test/plans/1\">see the plan</a>.</p>\r\n";
    let message = format!(
        "From: councilflow <reminders@councilflow.test>\r\n\
         To: \"Smith, Jo\" <jo@stockport.gov.uk>, bo@stockport.gov.uk\r\n\
         Subject: =?utf-8?b?{}?=\r\n =?utf-8?q?_caf=C3=A9?=\r\n\
         Message-ID: <reminder-7d-abc@councilflow.test>\r\n\
         Auto-Submitted: auto-generated\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative;\r\n boundary=\"XYZ-boundary\"\r\n\
         \r\n\
         --XYZ-boundary\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         Two blockers remain =E2=80=94 see=\r\n the plan.\r\n\
         --XYZ-boundary\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {}\r\n\
         --XYZ-boundary--\r\n",
        b64.encode("Stockport: deadline in 7 days \u{2014}"),
        b64.encode(html),
    );
    // The third recipient is in no header, like a Bcc: `to` lists who the server delivered to.
    let recipients = [
        "jo@stockport.gov.uk",
        "bo@stockport.gov.uk",
        "ceo@stockport.gov.uk",
    ];
    assert_sent(&send_with_smtplib(
        server.port(),
        "reminders@councilflow.test",
        &recipients,
        &message,
    ));

    let messages = server.wait_for_messages(1, DELIVERY_GUARD).await;
    assert_eq!(messages.len(), 1, "one message arrives: {messages:#?}");
    let received = &messages[0];
    assert_eq!(
        received.subject,
        "Stockport: deadline in 7 days \u{2014} caf\u{e9}"
    );
    assert_eq!(received.message_id, "<reminder-7d-abc@councilflow.test>");
    assert_eq!(received.from, "councilflow <reminders@councilflow.test>");
    assert_eq!(received.to, recipients);
    assert_eq!(received.header("auto-submitted"), Some("auto-generated"));
    assert_eq!(
        received.header("X-MailFrom"),
        Some("reminders@councilflow.test")
    );
    assert_eq!(received.text, "Two blockers remain \u{2014} see the plan.");
    assert_eq!(
        received.html.as_deref(),
        Some(html.replace("\r\n", "\n").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stall_server_greets_and_accepts_data_but_never_answers_the_content() {
    let server = StallServer::start(free_port()).await;
    let port = server.port();
    // Blocking socket work, off the runtime's threads.
    tokio::task::spawn_blocking(move || {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the stall server");
        // Hang guards: every reply but the last comes at once; the last must not come at all,
        // and two seconds of silence stand for "never" here.
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("set a read timeout");
        let mut writer = stream.try_clone().expect("clone the stream");
        let mut reader = BufReader::new(stream);
        let mut reply = |command: Option<&str>| -> String {
            if let Some(command) = command {
                writer
                    .write_all(format!("{command}\r\n").as_bytes())
                    .expect("send a command");
            }
            // A multi-line reply ends with the line whose code is followed by a space.
            let mut all = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("read a reply line");
                all.push_str(&line);
                if line.len() < 4 || line.as_bytes()[3] != b'-' {
                    return all;
                }
            }
        };
        assert!(reply(None).starts_with("220 "), "the greeting");
        assert!(reply(Some("EHLO councilflow.test")).starts_with("250"));
        assert!(reply(Some("MAIL FROM:<reminders@councilflow.test>")).starts_with("250"));
        assert!(reply(Some("RCPT TO:<jo@stockport.gov.uk>")).starts_with("250"));
        assert!(reply(Some("DATA")).starts_with("354"));

        writer
            .write_all(b"Subject: stalled\r\n\r\nNobody will answer this.\r\n.\r\n")
            .expect("send the content");
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
                "only the read timeout ends the wait: {e}"
            ),
            Ok(0) => panic!("the stall server closed the connection instead of stalling"),
            Ok(_) => panic!("the stall server answered the content: {line:?}"),
        }
    })
    .await
    .expect("the raw SMTP client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_keeps_its_port_and_the_messages_it_received_before() {
    let mut server = SmtpServer::start(free_port()).await;
    let port = server.port();
    let from = "reminders@councilflow.test";
    let to = ["jo@stockport.gov.uk"];
    assert_sent(&send_with_smtplib(
        port,
        from,
        &to,
        &simple_message("before"),
    ));
    assert_eq!(server.wait_for_messages(1, DELIVERY_GUARD).await.len(), 1);

    server.stop();
    assert!(
        !send_with_smtplib(port, from, &to, &simple_message("while-down"))
            .status
            .success(),
        "a stopped server refuses mail"
    );

    server.restart().await;
    assert_eq!(server.port(), port);
    assert_sent(&send_with_smtplib(
        port,
        from,
        &to,
        &simple_message("after"),
    ));
    let subjects: Vec<String> = server
        .wait_for_messages(2, DELIVERY_GUARD)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert_eq!(subjects, ["before", "after"]);
}

#[test]
fn a_message_without_envelope_headers_takes_its_recipients_from_to_and_cc() {
    // What a file transport or another server would store: no X-RcptTo. Display names with a
    // comma come quoted or, from lettre, RFC 2047 encoded ("Smith, Al").
    let received = Received::parse(
        "To: \"Smith, Jo\" <jo@a.gov.uk>, =?utf-8?b?U21pdGgsIEFs?= <al@a.gov.uk>,\r\n \
         bo@b.gov.uk\r\nCc: <ceo@a.gov.uk>\r\n\
         Subject: =?UTF-8?B?ww==?=\r\n =?UTF-8?B?qQ==?= and\r\n folded\r\n\r\nbody\r\n",
    );
    assert_eq!(
        received.to,
        ["jo@a.gov.uk", "al@a.gov.uk", "bo@b.gov.uk", "ceo@a.gov.uk"]
    );
    // One character split across two words, then plain text after a fold.
    assert_eq!(received.subject, "\u{e9} and folded");
    assert_eq!(received.text, "body\n");
    assert_eq!(received.html, None);
}
