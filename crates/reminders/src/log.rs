//! The reminder events recorded in the ledger, and the log they fold into.
//!
//! Each reminder goes through: `ReminderDue` (the claim, appended before sending, with the key as
//! idempotency key so it is claimed once ever), then `ReminderSent` (with the Message-ID) or
//! `ReminderFailed` (with the error and, for a temporary failure, the next attempt), or
//! `ReminderCancelled` when a retry is no longer wanted (the stage completed, the deadline moved).
//! They live in a stream per subject: `reminders-plan-<id>` or `reminders-shared-<group>.<section>`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use councilflow_governance::{PersonId, StageId};
use serde::{Deserialize, Serialize};

pub const REMINDER_DUE: &str = "ReminderDue";
pub const REMINDER_SENT: &str = "ReminderSent";
pub const REMINDER_FAILED: &str = "ReminderFailed";
pub const REMINDER_CANCELLED: &str = "ReminderCancelled";

/// The event kinds this module owns.
pub const KINDS: [&str; 4] = [
    REMINDER_DUE,
    REMINDER_SENT,
    REMINDER_FAILED,
    REMINDER_CANCELLED,
];

/// The ledger stream of a subject's reminders.
pub fn stream(subject_name: &str) -> String {
    format!("reminders-{subject_name}")
}

/// The claim: this reminder is due and is about to be sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderDue {
    pub key: String,
    /// `plan-<id>` or `shared-<group>.<section>`.
    pub subject: String,
    pub deadline: String,
    pub deadline_title: String,
    pub stage: Option<StageId>,
    pub deadline_due: DateTime<Utc>,
    pub offset: String,
    pub due: DateTime<Utc>,
    pub recipient: PersonId,
    pub email: String,
    pub escalation: bool,
    /// The Message-ID every attempt uses.
    pub message_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderSent {
    pub key: String,
    pub message_id: String,
    pub attempt: u32,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderFailed {
    pub key: String,
    pub error: String,
    /// A permanent failure (an SMTP 5xx) is not retried.
    pub permanent: bool,
    pub attempt: u32,
    pub next_attempt: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderCancelled {
    pub key: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Where one reminder stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Claimed; no outcome recorded yet (being sent, or the server stopped mid-send).
    Claimed,
    Sent {
        at: DateTime<Utc>,
        message_id: String,
    },
    Failed {
        error: String,
        permanent: bool,
        next_attempt: Option<DateTime<Utc>>,
    },
    Cancelled {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub due: ReminderDue,
    pub status: Status,
    pub attempts: u32,
}

impl Record {
    /// Should another attempt go now? A claim without an outcome (the server stopped between
    /// claiming and recording) is retried: that is the one window where an email can go twice,
    /// and both copies carry the same Message-ID.
    pub fn retry_due(&self, now: DateTime<Utc>) -> bool {
        match &self.status {
            Status::Claimed => true,
            Status::Failed {
                permanent: false,
                next_attempt: Some(t),
                ..
            } => *t <= now,
            _ => false,
        }
    }
}

/// Every reminder recorded, by key. Serialisable for the service's projection snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderLog {
    by_key: BTreeMap<String, Record>,
}

impl ReminderLog {
    /// Folds one recorded event in; events of other kinds, or that do not decode, are ignored
    /// (the ledger holds them; this log only reads its own).
    pub fn apply(&mut self, kind: &str, payload: &str) {
        match kind {
            REMINDER_DUE => {
                if let Ok(due) = serde_json::from_str::<ReminderDue>(payload) {
                    self.by_key.entry(due.key.clone()).or_insert(Record {
                        due,
                        status: Status::Claimed,
                        attempts: 0,
                    });
                }
            }
            REMINDER_SENT => {
                if let Ok(sent) = serde_json::from_str::<ReminderSent>(payload) {
                    if let Some(r) = self.by_key.get_mut(&sent.key) {
                        r.attempts = r.attempts.max(sent.attempt);
                        r.status = Status::Sent {
                            at: sent.at,
                            message_id: sent.message_id,
                        };
                    }
                }
            }
            REMINDER_FAILED => {
                if let Ok(failed) = serde_json::from_str::<ReminderFailed>(payload) {
                    if let Some(r) = self.by_key.get_mut(&failed.key) {
                        r.attempts = r.attempts.max(failed.attempt);
                        // A late failure record never overrides a success.
                        if !matches!(r.status, Status::Sent { .. }) {
                            r.status = Status::Failed {
                                error: failed.error,
                                permanent: failed.permanent,
                                next_attempt: failed.next_attempt,
                            };
                        }
                    }
                }
            }
            REMINDER_CANCELLED => {
                if let Ok(cancelled) = serde_json::from_str::<ReminderCancelled>(payload) {
                    if let Some(r) = self.by_key.get_mut(&cancelled.key) {
                        if !matches!(r.status, Status::Sent { .. }) {
                            r.status = Status::Cancelled {
                                reason: cancelled.reason,
                            };
                        }
                    }
                }
            }
            _ => {}
        }
    }

    pub fn get(&self, key: &str) -> Option<&Record> {
        self.by_key.get(key)
    }

    /// The records of one subject (`plan-<id>`), in key order.
    pub fn of_subject<'a>(&'a self, subject: &'a str) -> impl Iterator<Item = &'a Record> + 'a {
        self.by_key
            .values()
            .filter(move |r| r.due.subject == subject)
    }

    /// Records whose next attempt is due.
    pub fn retries_due(&self, now: DateTime<Utc>) -> Vec<&Record> {
        self.by_key.values().filter(|r| r.retry_due(now)).collect()
    }
}

/// When to try again after `attempt` failed: exponential from `base`, capped at six hours, with up
/// to a fifth of jitter so many failed reminders do not retry in one burst.
pub fn next_attempt(
    now: DateTime<Utc>,
    attempt: u32,
    base: std::time::Duration,
    jitter: f64,
) -> DateTime<Utc> {
    let cap = 6.0 * 3600.0;
    let exponential = base.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(20) as i32);
    let seconds = exponential.min(cap) * (1.0 + 0.2 * jitter.clamp(0.0, 1.0));
    now + chrono::Duration::milliseconds((seconds * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(key: &str) -> String {
        serde_json::to_string(&ReminderDue {
            key: key.into(),
            subject: "plan-p".into(),
            deadline: "submission".into(),
            deadline_title: "Submission".into(),
            stage: None,
            deadline_due: Utc::now(),
            offset: "7d-before".into(),
            due: Utc::now(),
            recipient: PersonId::parse("amy").unwrap(),
            email: "amy@example.org".into(),
            escalation: false,
            message_id: "<x@councilflow>".into(),
        })
        .unwrap()
    }

    #[test]
    fn a_claim_without_an_outcome_is_retried_and_a_sent_one_never_is() {
        let now = Utc::now();
        let mut log = ReminderLog::default();
        log.apply(REMINDER_DUE, &due("k"));
        assert!(log.get("k").unwrap().retry_due(now));
        let sent = ReminderSent {
            key: "k".into(),
            message_id: "<x@councilflow>".into(),
            attempt: 1,
            at: now,
        };
        log.apply(REMINDER_SENT, &serde_json::to_string(&sent).unwrap());
        assert!(!log.get("k").unwrap().retry_due(now));
        // A failure recorded after the success (out of order) does not undo it.
        let failed = ReminderFailed {
            key: "k".into(),
            error: "x".into(),
            permanent: false,
            attempt: 1,
            next_attempt: Some(now),
            at: now,
        };
        log.apply(REMINDER_FAILED, &serde_json::to_string(&failed).unwrap());
        assert!(matches!(log.get("k").unwrap().status, Status::Sent { .. }));
    }

    #[test]
    fn temporary_failures_retry_at_their_time_and_permanent_ones_never() {
        let now = Utc::now();
        let mut log = ReminderLog::default();
        for key in ["temp", "perm"] {
            log.apply(REMINDER_DUE, &due(key));
            let failed = ReminderFailed {
                key: key.into(),
                error: "421 try later".into(),
                permanent: key == "perm",
                attempt: 1,
                next_attempt: (key == "temp").then(|| now + chrono::Duration::seconds(60)),
                at: now,
            };
            log.apply(REMINDER_FAILED, &serde_json::to_string(&failed).unwrap());
        }
        assert!(log.retries_due(now).is_empty());
        let later = now + chrono::Duration::seconds(61);
        let due: Vec<&str> = log
            .retries_due(later)
            .iter()
            .map(|r| r.due.key.as_str())
            .collect();
        assert_eq!(due, ["temp"]);
    }

    #[test]
    fn backoff_doubles_from_its_base_and_is_capped() {
        let now = Utc::now();
        let base = std::time::Duration::from_secs(60);
        let secs = |attempt| (next_attempt(now, attempt, base, 0.0) - now).num_seconds();
        assert_eq!([secs(1), secs(2), secs(3)], [60, 120, 240]);
        assert_eq!(secs(30), 6 * 3600);
        let jittered = (next_attempt(now, 1, base, 1.0) - now).num_seconds();
        assert_eq!(jittered, 72);
    }
}
