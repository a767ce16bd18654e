//! What the projector maintains, applying every committed event in order: the governance
//! projections, the reminder log, and the ledger facts a writer needs (each stream's version, the
//! last position and its hash). Nothing else writes it; readers hold its lock briefly and never
//! across an `.await`.

use std::collections::HashMap;

use councilflow_governance::{DomainEvent, EventMeta, Projections, Workflows};
use councilflow_ledger::{self as ledger, StoredEvent};
use councilflow_reminders::log as reminder_log;
use councilflow_reminders::ReminderLog;

use crate::snapshot::Snapshot;

/// What the projector maintains: the governance projections plus the ledger facts a writer needs.
pub struct ReadModel {
    pub projections: Projections,
    /// Every reminder recorded (claimed, sent, failed, cancelled).
    pub reminders: ReminderLog,
    /// Ledger stream -> its version, for the expected version of the next append.
    versions: HashMap<String, u64>,
    /// The last ledger position applied.
    pub position: u64,
    /// The hash of the event at `position` (what a snapshot is checked against).
    hash: ledger::Hash,
}

impl ReadModel {
    pub(super) fn new(projections: Projections) -> ReadModel {
        ReadModel {
            projections,
            reminders: ReminderLog::default(),
            versions: HashMap::new(),
            position: 0,
            hash: ledger::GENESIS,
        }
    }

    /// The state a snapshot recorded, over the workflow definitions loaded now.
    pub(super) fn from_snapshot(
        workflows: Workflows,
        snapshot: Snapshot,
        hash: ledger::Hash,
    ) -> ReadModel {
        ReadModel {
            projections: Projections::from_snapshot(workflows, snapshot.projections),
            reminders: snapshot.reminders,
            versions: snapshot.versions,
            position: snapshot.position,
            hash,
        }
    }

    pub(super) fn snapshot(&self, definitions: &str) -> Snapshot {
        Snapshot::new(
            definitions,
            self.position,
            &self.hash,
            self.projections.snapshot(),
            self.reminders.clone(),
            self.versions.clone(),
        )
    }

    /// Applies one committed ledger event. Events of kinds the governance engine does not know
    /// (reminders, say) only move the position.
    pub(super) fn apply(&mut self, event: &StoredEvent) {
        self.versions.insert(event.stream.clone(), event.version);
        self.position = event.position;
        self.hash = event.hash;
        if reminder_log::KINDS.contains(&event.kind.as_str()) {
            self.reminders.apply(&event.kind, &event.payload);
            return;
        }
        if !DomainEvent::kinds().any(|k| k == event.kind) {
            return;
        }
        match DomainEvent::from_parts(&event.kind, &event.payload_json()) {
            Ok(domain) => {
                let meta = EventMeta {
                    position: event.position,
                    recorded_at: event.at,
                };
                self.projections.apply(&meta, &domain);
            }
            // The ledger holds it, so it was valid when written; say so loudly and go on.
            Err(e) => tracing::error!(position = event.position, error = %e,
                "a stored governance event does not decode"),
        }
    }

    /// The ledger version of a stream (0 when it has no events).
    pub fn version(&self, stream: &str) -> u64 {
        self.versions.get(stream).copied().unwrap_or(0)
    }
}

/// The result of a write.
pub struct Written {
    /// The events this call appended; empty when an idempotency key repeated an earlier call.
    pub events: Vec<StoredEvent>,
    /// The events of the first call with that idempotency key (equal to `events` otherwise).
    pub committed: Vec<StoredEvent>,
}
