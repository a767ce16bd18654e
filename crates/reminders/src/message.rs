//! The email a reminder sends: plain text with an HTML alternative, a subject naming the council,
//! the plan, the stage and the time left (or overdue), the blockers, a link, and the headers
//! that mark it as automatic (`Auto-Submitted: auto-generated`) and make it recognisable (a
//! Message-ID derived from the reminder's key, the same on every attempt).

use chrono::{DateTime, Utc};
use chrono_tz::Europe::London;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use sha2::{Digest, Sha256};

/// The `Auto-Submitted` header (RFC 3834): tells mail systems not to auto-reply.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// The Message-ID of a reminder: derived from its key, so a copy sent twice (the one window a
/// crash between sending and recording leaves) is recognisable as the same message.
pub fn message_id(key: &str) -> String {
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    format!("<{}@reminders.councilflow>", &digest[..32])
}

/// What the email says.
pub struct Content {
    /// The council (or councils) the reminder is about.
    pub councils: String,
    /// The plan's title, or the shared section's.
    pub title: String,
    /// The deadline's title ("Report authorisation", "Submission").
    pub deadline_title: String,
    pub deadline_due: DateTime<Utc>,
    /// Why the plan is waiting, one line each.
    pub blockers: Vec<String>,
    /// Where to look.
    pub link: String,
    pub recipient_name: String,
    /// Sent to the escalation role because the act is long overdue.
    pub escalation: bool,
}

/// "due in 3 days", "due today", "overdue by 2 days", counted in London calendar days.
pub fn time_phrase(deadline_due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = (deadline_due.with_timezone(&London).date_naive()
        - now.with_timezone(&London).date_naive())
    .num_days();
    match days {
        0 if now <= deadline_due => "due today".into(),
        1 => "due tomorrow".into(),
        d if d > 1 => format!("due in {d} days"),
        _ => {
            let late = (-days).max(1);
            format!("overdue by {late} day{}", if late == 1 { "" } else { "s" })
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Builds the message.
pub fn compose(
    content: &Content,
    from: &Mailbox,
    to: Mailbox,
    message_id: &str,
    now: DateTime<Utc>,
) -> Result<Message, lettre::error::Error> {
    let when = time_phrase(content.deadline_due, now);
    let due_text = content
        .deadline_due
        .with_timezone(&London)
        .format("%-d %B %Y, %H:%M")
        .to_string();
    // Plan titles usually name their council already; say it once.
    let subject = if content.title.contains(&content.councils) {
        format!("{} — {} {when}", content.title, content.deadline_title)
    } else {
        format!(
            "{}: {} — {} {when}",
            content.councils, content.title, content.deadline_title
        )
    };
    let opening = if content.escalation {
        format!(
            "{} is overdue, and as it has been overdue for a while this reminder also goes to you.",
            content.deadline_title
        )
    } else {
        format!(
            "{} for {} is {when} (deadline {due_text}, London time).",
            content.deadline_title, content.title
        )
    };
    let mut text = format!("Dear {},\n\n{opening}\n\n", content.recipient_name);
    let mut html = format!(
        "<p>Dear {},</p>\n<p>{}</p>\n",
        escape(&content.recipient_name),
        escape(&opening)
    );
    if !content.blockers.is_empty() {
        text.push_str("What it is waiting for:\n");
        html.push_str("<p>What it is waiting for:</p>\n<ul>\n");
        for b in &content.blockers {
            text.push_str(&format!("- {b}\n"));
            html.push_str(&format!("<li>{}</li>\n", escape(b)));
        }
        html.push_str("</ul>\n");
        text.push('\n');
    }
    text.push_str(&format!(
        "See it here: {}\n\nThis is an automatic reminder from councilflow; replies are not read.\n",
        content.link
    ));
    html.push_str(&format!(
        "<p><a href=\"{0}\">See it here: {0}</a></p>\n<p>This is an automatic reminder from councilflow; replies are not read.</p>\n",
        escape(&content.link)
    ));
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(message_id.to_owned()))
        .header(AutoSubmitted)
        .date(now.into())
        .multipart(MultiPart::alternative_plain_html(text, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_time_phrase_counts_london_days() {
        let deadline = at("2024-07-19T22:59:59Z"); // end of 19 July, London summer time
        assert_eq!(
            time_phrase(deadline, at("2024-07-16T08:00:00Z")),
            "due in 3 days"
        );
        assert_eq!(
            time_phrase(deadline, at("2024-07-18T08:00:00Z")),
            "due tomorrow"
        );
        assert_eq!(
            time_phrase(deadline, at("2024-07-19T08:00:00Z")),
            "due today"
        );
        assert_eq!(
            time_phrase(deadline, at("2024-07-20T08:00:00Z")),
            "overdue by 1 day"
        );
        assert_eq!(
            time_phrase(deadline, at("2024-07-22T08:00:00Z")),
            "overdue by 3 days"
        );
    }

    #[test]
    fn the_message_id_is_stable_per_key_and_differs_between_keys() {
        assert_eq!(message_id("a"), message_id("a"));
        assert_ne!(message_id("a"), message_id("b"));
        assert!(message_id("a").ends_with("@reminders.councilflow>"));
    }

    #[test]
    fn the_message_names_council_plan_stage_and_time_and_is_marked_automatic() {
        let content = Content {
            councils: "Stockport Metropolitan Borough Council".into(),
            title: "Productivity plan 2024".into(),
            deadline_title: "Submission".into(),
            deadline_due: at("2024-07-19T22:59:59Z"),
            blockers: vec!["Member oversight: waiting on the S151 Officer".into()],
            link: "http://127.0.0.1:8080/plans/p".into(),
            recipient_name: "Ravi Patel".into(),
            escalation: false,
        };
        let message = compose(
            &content,
            &"councilflow <reminders@example.org>".parse().unwrap(),
            "Ravi Patel <ravi.patel@example.org>".parse().unwrap(),
            &message_id("k"),
            at("2024-07-16T08:00:00Z"),
        )
        .unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
        assert!(
            raw.contains(&format!("Message-ID: {}", message_id("k"))),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/html"), "{raw}");
    }
}
