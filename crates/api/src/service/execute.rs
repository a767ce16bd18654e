//! Every write, one path: a command is decided against the current projections, its events are
//! appended to the aggregate's stream with the stream's version as the expected one (optimistic
//! concurrency) and the caller's idempotency key, and the call returns once the projector has
//! applied them, so an answer already shows its own write. A ledger conflict (another write to
//! the same stream came first) means "decide again on the newer state": the command's own
//! preconditions, such as an edit's expected revision, then decide whether it still holds.

use chrono::Utc;
use councilflow_governance::{
    Aggregate, DomainEvent, GovernanceError, Organisation, PersonId, PlanCommand,
    SharedSectionCommand,
};
use councilflow_ledger::{ExpectedVersion, LedgerError, NewEvent};

use super::{Service, ServiceError, Written, MAX_IDEMPOTENCY_KEY, SYSTEM_ACTOR};

/// How many times a command is decided again after losing a race to another write.
const ATTEMPTS: usize = 5;

/// The name of what a command does, which scopes its idempotency keys (`actor/operation/key`):
/// one client's key never answers another operation's. These are the GraphQL mutations' names,
/// and keys are stored with them, so a name never changes.
pub trait Operation {
    fn operation(&self) -> &'static str;
}

impl Operation for PlanCommand {
    fn operation(&self) -> &'static str {
        match self {
            PlanCommand::Start { .. } => "startPlan",
            PlanCommand::EditSection { .. } => "editSection",
            PlanCommand::AdoptSharedSection { .. } => "adoptSharedSection",
            PlanCommand::SignOff { .. } => "signOff",
            PlanCommand::WithdrawSignOff { .. } => "withdrawSignOff",
            PlanCommand::ScheduleMeeting { .. } => "scheduleMeeting",
            PlanCommand::RecordCommitteeDecision { .. } => "recordCommitteeDecision",
            PlanCommand::Submit { .. } => "submitPlan",
            PlanCommand::Publish { .. } => "publishPlan",
            PlanCommand::SetDeadline { .. } => "setDeadline",
            PlanCommand::RecordExtension { .. } => "recordExtension",
            PlanCommand::SetKeyDate { .. } => "setKeyDate",
        }
    }
}

impl Operation for SharedSectionCommand {
    fn operation(&self) -> &'static str {
        match self {
            SharedSectionCommand::Propose { .. } => "proposeSharedSection",
            SharedSectionCommand::Agree { .. } => "agreeSharedSection",
        }
    }
}

impl Service {
    /// Runs `command` on the aggregate `id` as `actor`: decide, append, wait for the
    /// projections. A repeated idempotency key answers with the first call's events and writes
    /// nothing.
    pub async fn execute<A>(
        &self,
        actor: &PersonId,
        id: &A::Id,
        command: A::Command,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError>
    where
        A: Aggregate,
        A::Command: Operation,
    {
        self.check_may_write(actor)?;
        let key = match idempotency_key {
            Some(k) if k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY => {
                return Err(GovernanceError::BadInput(format!(
                    "idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
                ))
                .into())
            }
            Some(k) => Some(format!("{actor}/{}/{k}", command.operation())),
            None => None,
        };
        if let Some(key) = &key {
            // Checked before deciding: a retried "submit" must return the first answer, not be
            // refused because the plan is now submitted.
            if let Some(committed) = self.inner.ledger.idempotent_result(key)? {
                if let Some(last) = committed.last() {
                    self.wait_to_show(last.position).await?;
                }
                return Ok(Written {
                    events: Vec::new(),
                    committed,
                });
            }
        }
        for _ in 0..ATTEMPTS {
            let decided = self.decide_and_append::<A>(actor, id, &command, key.as_deref());
            if let Some(written) = decided.await? {
                return Ok(written);
            }
        }
        Err(GovernanceError::Conflict(
            "this is changing too fast to act on; read it again and retry".into(),
        )
        .into())
    }

    /// Decides `command` on the current state and appends what it records at the stream version
    /// it was decided on. `None` when another write to the stream came first: the caller
    /// decides again on the newer state.
    async fn decide_and_append<A: Aggregate>(
        &self,
        actor: &PersonId,
        id: &A::Id,
        command: &A::Command,
        key: Option<&str>,
    ) -> Result<Option<Written>, ServiceError> {
        let stream = A::stream(id);
        let now = Utc::now();
        let (events, version) = {
            let state = self.read();
            let projections = &state.projections;
            let current = A::find(projections, id);
            let events = A::decide(&projections.context(), current, command, actor, now)?;
            (events, state.version(&stream))
        };
        let new = events
            .into_iter()
            .map(|e| {
                let e: DomainEvent = e.into();
                NewEvent::new(e.kind(), actor.as_str(), &e.payload())
            })
            .collect::<Result<Vec<_>, _>>()?;
        if new.is_empty() {
            return Ok(Some(Written {
                events: Vec::new(),
                committed: Vec::new(),
            }));
        }
        let appended = self
            .inner
            .ledger
            .append(&stream, ExpectedVersion::Exact(version), new, key)
            .await;
        match appended {
            Ok(appended) => {
                if let Some(last) = appended.events.last() {
                    self.wait_to_show(last.position).await?;
                }
                Ok(Some(if appended.duplicate {
                    Written {
                        events: Vec::new(),
                        committed: appended.events,
                    }
                } else {
                    Written {
                        committed: appended.events.clone(),
                        events: appended.events,
                    }
                }))
            }
            Err(LedgerError::Conflict { .. }) => {
                // Another write to this stream came first: catch up, then decide again.
                self.wait_to_show(self.inner.ledger.head().position).await?;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records the organisation changes that bring the recorded organisation up to `seed`, as
    /// councilflow itself; nothing when they agree.
    pub(super) async fn sync_seeds(&self, seed: &Organisation) -> Result<usize, ServiceError> {
        let system = PersonId::parse(SYSTEM_ACTOR).expect("the system actor is a valid id");
        for _ in 0..ATTEMPTS {
            let decided = self.decide_and_append::<Organisation>(&system, &(), seed, None);
            if let Some(written) = decided.await? {
                return Ok(written.events.len());
            }
        }
        Err(GovernanceError::Conflict(
            "the organisation kept changing while the seeds were recorded".into(),
        )
        .into())
    }
}
