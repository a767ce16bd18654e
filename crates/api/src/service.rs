//! The service: the ledger and the governance engine wired together, with no GraphQL in sight.
//!
//! Writes: a command is decided against the current projections, its events are appended to the
//! ledger with the stream's expected version (optimistic concurrency) and the caller's idempotency
//! key, and the call returns once the projector has applied them — so a mutation's answer already
//! reflects its own write. A ledger conflict (another write to the same stream came first) means
//! "decide again on the newer state": the command's own preconditions, such as an edit's expected
//! revision, then decide whether it still holds.
//!
//! Reads: one projector task follows the ledger's subscription and applies every committed event,
//! in order, to [`State`]. It is the only writer of the projections, so they never see events out
//! of order, and they never see an event before it is durable.
//!
//! Start-up: the state comes from the projection snapshot when one matches the ledger
//! ([`crate::snapshot`]), and the events after it are replayed; otherwise the whole log is.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use chrono::Utc;
use councilflow_governance::{
    load_seeds, plan, shared_section, streams, sync_events, DefinitionError, Event, EventMeta,
    GovernanceError, GroupId, PersonId, Plan, PlanCommand, PlanId, Projections, Scope, SectionId,
    SharedSectionCommand, Workflows,
};
use councilflow_ledger::{self as ledger, Config, ExpectedVersion, Ledger, LedgerError, NewEvent};
use tokio::sync::watch;

use councilflow_reminders::log as reminder_log;
use councilflow_reminders::ReminderLog;

use crate::snapshot::{self, Snapshot};
use crate::tokens::TokenStore;

/// The actor recorded for events councilflow makes itself (seed changes).
pub const SYSTEM_ACTOR: &str = "councilflow";

/// How many times a command is decided again after losing a race to another write.
const ATTEMPTS: usize = 5;

/// Longest idempotency key a client may send.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// What the service needs to start: the data folder and the definition files' texts.
pub struct Settings {
    pub data: PathBuf,
    /// `(file name, text)` of every workflow definition.
    pub workflows: Vec<(String, String)>,
    /// `(file name, text)` of every organisation seed file.
    pub seeds: Vec<(String, String)>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Definition(#[from] DefinitionError),
    #[error("the ledger: {0}")]
    Ledger(#[from] LedgerError),
}

/// A refused or failed request, with the contract's error code.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ServiceError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    GovernanceViolation(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadInput(String),
    /// The server cannot take writes for now (its disk is full); nothing was recorded, and the
    /// same request succeeds once the cause is fixed.
    #[error("{0}")]
    Unavailable(String),
    /// Logged with its cause where it happens; the client sees only an opaque message.
    #[error("internal error")]
    Internal,
}

impl ServiceError {
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Unauthenticated(_) => "UNAUTHENTICATED",
            ServiceError::Forbidden(_) => "FORBIDDEN",
            ServiceError::GovernanceViolation(_) => "GOVERNANCE_VIOLATION",
            ServiceError::Conflict(_) => "CONFLICT",
            ServiceError::NotFound(_) => "NOT_FOUND",
            ServiceError::BadInput(_) => "BAD_INPUT",
            ServiceError::Unavailable(_) => "UNAVAILABLE",
            ServiceError::Internal => "INTERNAL",
        }
    }
}

impl From<GovernanceError> for ServiceError {
    fn from(e: GovernanceError) -> Self {
        let message = e.message().to_owned();
        match e {
            GovernanceError::Forbidden(_) => ServiceError::Forbidden(message),
            GovernanceError::GovernanceViolation(_) => ServiceError::GovernanceViolation(message),
            GovernanceError::Conflict(_) => ServiceError::Conflict(message),
            GovernanceError::NotFound(_) => ServiceError::NotFound(message),
            GovernanceError::BadInput(_) => ServiceError::BadInput(message),
        }
    }
}

impl From<LedgerError> for ServiceError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Invalid(message) => ServiceError::BadInput(message),
            LedgerError::Conflict { .. } => ServiceError::Conflict(
                "someone else changed this at the same moment; read it again and retry".into(),
            ),
            LedgerError::NoSpace(cause) => {
                tracing::error!(%cause, "a write was refused: the data folder's disk is full");
                ServiceError::Unavailable(
                    "councilflow cannot record anything just now: the disk that holds its records \
                     is full. Nothing was recorded, and reading works as usual. Once the server's \
                     operator has freed space, send the same request again (with the same \
                     idempotencyKey, if you gave one)."
                        .into(),
                )
            }
            other => {
                tracing::error!(error = %other, "ledger failure");
                ServiceError::Internal
            }
        }
    }
}

/// What the projector maintains: the governance projections plus the ledger facts a writer needs.
pub struct State {
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

impl State {
    fn new(projections: Projections) -> State {
        State {
            projections,
            reminders: ReminderLog::default(),
            versions: HashMap::new(),
            position: 0,
            hash: ledger::GENESIS,
        }
    }

    /// The state a snapshot recorded, over the workflow definitions loaded now.
    fn from_snapshot(workflows: Workflows, snapshot: Snapshot, hash: ledger::Hash) -> State {
        State {
            projections: Projections::from_snapshot(workflows, snapshot.projections),
            reminders: snapshot.reminders,
            versions: snapshot.versions,
            position: snapshot.position,
            hash,
        }
    }

    fn snapshot(&self, definitions: &str) -> Snapshot {
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
    fn apply(&mut self, event: &ledger::Event) {
        self.versions.insert(event.stream.clone(), event.version);
        self.position = event.position;
        self.hash = event.hash;
        if reminder_log::KINDS.contains(&event.kind.as_str()) {
            self.reminders.apply(&event.kind, &event.payload);
            return;
        }
        if !Event::KINDS.contains(&event.kind.as_str()) {
            return;
        }
        match Event::from_parts(&event.kind, &event.payload_json()) {
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
    pub events: Vec<ledger::Event>,
    /// The events of the first call with that idempotency key (equal to `events` otherwise).
    pub committed: Vec<ledger::Event>,
}

/// How the projections were rebuilt at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartReport {
    /// The position of the projection snapshot used (0: none, the whole log was replayed).
    pub snapshot_position: u64,
    /// Events replayed after it.
    pub replayed: u64,
}

/// The service handle, shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    ledger: Ledger,
    state: RwLock<State>,
    applied: watch::Sender<u64>,
    tokens: TokenStore,
    data: PathBuf,
    /// Serialises `people.tsv` rewrites (the projector and start-up both write it).
    snapshot: std::sync::Mutex<()>,
    /// The workflow definitions' digest, which a projection snapshot must match.
    definitions: String,
    /// The position of the last projection snapshot written or loaded; one writer at a time.
    projection_snapshot: std::sync::Mutex<u64>,
    started: StartReport,
    /// The projector task, so [`Service::close`] can wait for it to let go of the ledger.
    projector: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Service {
    /// Loads the definitions (refusing a bad file with its line), opens the ledger, replays it
    /// into the projections, starts the projector, and records any change the seeds bring.
    /// Must run inside a tokio runtime.
    pub async fn open(settings: Settings) -> Result<Service, StartError> {
        let workflows = Workflows::load(
            settings
                .workflows
                .iter()
                .map(|(name, text)| (name.as_str(), text.as_str())),
        )?;
        let seed = load_seeds(
            settings
                .seeds
                .iter()
                .map(|(name, text)| (name.as_str(), text.as_str())),
        )?;
        let ledger = Ledger::open(Config::new(&settings.data))?;
        let definitions = snapshot::definitions_digest(&settings.workflows);
        let mut state = match snapshot::load(&settings.data, &definitions, &ledger) {
            Some((snapshot, hash)) => State::from_snapshot(workflows, snapshot, hash),
            None => State::new(Projections::new(workflows)),
        };
        let snapshot_position = state.position;
        let mut from = state.position + 1;
        loop {
            let page = ledger.read_all(from, 4096)?;
            for event in &page.events {
                state.apply(event);
            }
            match page.next {
                Some(next) => from = next,
                None => break,
            }
        }
        let replayed = state.position - snapshot_position;
        tracing::info!(
            from_snapshot = snapshot_position,
            replayed,
            position = state.position,
            "projections ready"
        );
        let (applied, _) = watch::channel(state.position);
        let service = Service {
            inner: Arc::new(Inner {
                tokens: TokenStore::new(&settings.data),
                data: settings.data,
                snapshot: std::sync::Mutex::new(()),
                definitions,
                projection_snapshot: std::sync::Mutex::new(snapshot_position),
                started: StartReport {
                    snapshot_position,
                    replayed,
                },
                projector: std::sync::Mutex::new(None),
                state: RwLock::new(state),
                applied,
                ledger,
            }),
        };
        if replayed >= snapshot::EVERY {
            // A long replay is not repeated after a crash. Off the runtime's threads, like the
            // projector's: it serialises the whole state, and serving need not wait for it.
            let service = service.clone();
            tokio::task::spawn_blocking(move || service.write_projection_snapshot());
        }
        service.spawn_projector();
        service.sync_seeds(&seed).await?;
        service.write_people_snapshot();
        Ok(service)
    }

    fn spawn_projector(&self) {
        let inner = self.inner.clone();
        let from = self.read().position + 1;
        let slot = self.inner.clone();
        let handle = tokio::spawn(async move {
            let mut subscription = inner.ledger.subscribe(from);
            loop {
                match subscription.next().await {
                    Ok(event) => {
                        let org = event.stream == streams::ORG;
                        inner
                            .state
                            .write()
                            .unwrap_or_else(|e| e.into_inner())
                            .apply(&event);
                        inner.applied.send_replace(event.position);
                        // `try_lock`: while a snapshot is being written (its lock held) none is
                        // due, and the projector never waits on the file system.
                        let due = match inner.projection_snapshot.try_lock() {
                            Ok(last) => event.position >= *last + snapshot::EVERY,
                            Err(std::sync::TryLockError::Poisoned(last)) => {
                                event.position >= *last.into_inner() + snapshot::EVERY
                            }
                            Err(std::sync::TryLockError::WouldBlock) => false,
                        };
                        if due {
                            let service = Service {
                                inner: inner.clone(),
                            };
                            // Off the runtime's threads: it serialises the whole state.
                            tokio::task::spawn_blocking(move || {
                                service.write_snapshot_after(snapshot::EVERY)
                            });
                        }
                        if org {
                            Service {
                                inner: inner.clone(),
                            }
                            .write_people_snapshot();
                        }
                    }
                    Err(LedgerError::Closed) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "the projector cannot read the ledger; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        *slot.projector.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }

    /// Appends the organisation events that bring the recorded organisation up to the seeds.
    async fn sync_seeds(
        &self,
        seed: &councilflow_governance::Organisation,
    ) -> Result<(), StartError> {
        let (events, version) = {
            let state = self.read();
            (
                sync_events(state.projections.organisation(), seed),
                state.version(streams::ORG),
            )
        };
        if events.is_empty() {
            return Ok(());
        }
        let new = events
            .iter()
            .map(|e| NewEvent::new(e.kind(), SYSTEM_ACTOR, &e.payload()))
            .collect::<Result<Vec<_>, _>>()?;
        let appended = self
            .inner
            .ledger
            .append(streams::ORG, ExpectedVersion::Exact(version), new, None)
            .await?;
        if let Some(last) = appended.events.last() {
            self.wait_for(last.position).await;
        }
        tracing::info!(
            events = appended.events.len(),
            "recorded organisation changes from the seeds"
        );
        Ok(())
    }

    /// The projections and ledger facts, for reading. Hold the guard briefly and never across an
    /// `.await`: the projector needs it to apply new events.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        // A poisoned lock means a panic while applying an event; the state is still the best
        // record there is, and every event in it is durable in the ledger.
        self.inner.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// How the projections were rebuilt at start-up.
    pub fn start_report(&self) -> StartReport {
        self.inner.started
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    pub fn tokens(&self) -> &TokenStore {
        &self.inner.tokens
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data
    }

    /// Waits until the projections have applied `position`.
    pub async fn wait_for(&self, position: u64) {
        let mut applied = self.inner.applied.subscribe();
        // The sender lives as long as the service, which outlives this call.
        let _ = applied.wait_for(|&p| p >= position).await;
    }

    /// The plan as it stood at `as_of`: its own events recorded up to then, read from the ledger
    /// and folded. The projections keep no history (their memory follows the plans, not the
    /// log), so this reads one stream: as many events as the plan has, whatever the log holds.
    pub fn plan_as_of(
        &self,
        id: &PlanId,
        as_of: chrono::DateTime<Utc>,
    ) -> Result<Option<Plan>, ServiceError> {
        let stored = self
            .inner
            .ledger
            .read_stream(&streams::plan(id), 1, usize::MAX)?;
        let mut events = Vec::with_capacity(stored.len());
        for event in stored.iter().take_while(|e| e.at <= as_of) {
            let domain = Event::from_parts(&event.kind, &event.payload_json()).map_err(|e| {
                tracing::error!(position = event.position, error = %e,
                    "a stored governance event does not decode");
                ServiceError::Internal
            })?;
            events.push(domain);
        }
        Ok(Plan::replay(&events))
    }

    /// The person a bearer token belongs to, if they still exist.
    pub fn authenticate(&self, token: &str) -> Result<PersonId, ServiceError> {
        let person = self.inner.tokens.authenticate(token).ok_or_else(|| {
            ServiceError::Unauthenticated(
                "this token is not valid (unknown or revoked); get one with `councilflow token \
                 --person ID`"
                    .into(),
            )
        })?;
        if self
            .read()
            .projections
            .organisation()
            .person(&person)
            .is_none()
        {
            return Err(ServiceError::Unauthenticated(format!(
                "the token's person {person} is no longer in the organisation"
            )));
        }
        Ok(person)
    }

    /// Refuses any write by someone who holds only the `reader` role (integrators).
    fn check_may_write(&self, actor: &PersonId) -> Result<(), ServiceError> {
        let state = self.read();
        let person = state
            .projections
            .organisation()
            .person(actor)
            .ok_or_else(|| ServiceError::Forbidden(format!("{actor} is not a known person")))?;
        if person
            .roles
            .iter()
            .all(|a| a.role == councilflow_governance::Role::Reader)
        {
            return Err(ServiceError::Forbidden(format!(
                "{} holds only the reader role, which never writes",
                person.name
            )));
        }
        Ok(())
    }

    /// Runs a plan command: decide, append, wait for the projections.
    pub async fn plan_command(
        &self,
        actor: &PersonId,
        operation: &str,
        plan: &PlanId,
        command: PlanCommand,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        let stream = streams::plan(plan);
        let now = Utc::now();
        self.execute(actor, operation, &stream, idempotency_key, |state| {
            let projections = &state.projections;
            plan::decide(
                &projections.context(),
                projections.plan(plan),
                &command,
                actor,
                now,
            )
        })
        .await
    }

    /// Runs a shared-section command.
    pub async fn shared_section_command(
        &self,
        actor: &PersonId,
        operation: &str,
        group: &GroupId,
        section: &SectionId,
        command: SharedSectionCommand,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        let stream = streams::shared(group, section);
        let now = Utc::now();
        self.execute(actor, operation, &stream, idempotency_key, |state| {
            let projections = &state.projections;
            shared_section::decide(
                &projections.context(),
                projections.shared_section(group, section),
                &command,
                actor,
                now,
            )
        })
        .await
    }

    async fn execute(
        &self,
        actor: &PersonId,
        operation: &str,
        stream: &str,
        idempotency_key: Option<&str>,
        decide: impl Fn(&State) -> Result<Vec<Event>, GovernanceError>,
    ) -> Result<Written, ServiceError> {
        self.check_may_write(actor)?;
        // Keys are scoped by person and operation, so one client's key never answers another's.
        let key = match idempotency_key {
            Some(k) if k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY => {
                return Err(ServiceError::BadInput(format!(
                    "idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
                )))
            }
            Some(k) => Some(format!("{actor}/{operation}/{k}")),
            None => None,
        };
        if let Some(key) = &key {
            // Checked before deciding: a retried "submit" must return the first answer, not be
            // refused because the plan is now submitted.
            if let Some(committed) = self.inner.ledger.idempotent_result(key)? {
                if let Some(last) = committed.last() {
                    self.wait_for(last.position).await;
                }
                return Ok(Written {
                    events: Vec::new(),
                    committed,
                });
            }
        }
        for _ in 0..ATTEMPTS {
            let (events, version) = {
                let state = self.read();
                (decide(&state)?, state.version(stream))
            };
            if let Some(other) = events.iter().find(|e| e.stream() != stream) {
                tracing::error!(
                    kind = other.kind(),
                    stream,
                    "a command produced an event for another stream"
                );
                return Err(ServiceError::Internal);
            }
            let new = events
                .iter()
                .map(|e| NewEvent::new(e.kind(), actor.as_str(), &e.payload()))
                .collect::<Result<Vec<_>, _>>()?;
            if new.is_empty() {
                return Ok(Written {
                    events: Vec::new(),
                    committed: Vec::new(),
                });
            }
            match self
                .inner
                .ledger
                .append(stream, ExpectedVersion::Exact(version), new, key.as_deref())
                .await
            {
                Ok(appended) => {
                    if let Some(last) = appended.events.last() {
                        self.wait_for(last.position).await;
                    }
                    return Ok(if appended.duplicate {
                        Written {
                            events: Vec::new(),
                            committed: appended.events,
                        }
                    } else {
                        Written {
                            committed: appended.events.clone(),
                            events: appended.events,
                        }
                    });
                }
                Err(LedgerError::Conflict { .. }) => {
                    // Another write to this stream came first: catch up and decide again.
                    self.wait_for(self.inner.ledger.head().position).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Conflict(
            "this plan is changing too fast to act on; read it again and retry".into(),
        ))
    }

    /// Appends events councilflow records itself (reminders), as `SYSTEM_ACTOR`, and waits until
    /// the projections show them. `events` are `(kind, payload)`.
    pub async fn record(
        &self,
        stream: &str,
        events: Vec<(&str, serde_json::Value)>,
        idempotency_key: Option<&str>,
    ) -> Result<ledger::Appended, ServiceError> {
        let new = events
            .into_iter()
            .map(|(kind, payload)| NewEvent::new(kind, SYSTEM_ACTOR, &payload))
            .collect::<Result<Vec<_>, _>>()?;
        let appended = self
            .inner
            .ledger
            .append(stream, ExpectedVersion::Any, new, idempotency_key)
            .await?;
        if let Some(last) = appended.events.last() {
            self.wait_for(last.position).await;
        }
        Ok(appended)
    }

    /// Writes `people.tsv` (one role assignment a line) beside the ledger, so `councilflow people`
    /// and `councilflow token` can answer while this server holds the ledger.
    fn write_people_snapshot(&self) {
        let _one_writer = self
            .inner
            .snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let text = people_lines(self.read().projections.organisation());
        let path = self.inner.data.join(PEOPLE_FILE);
        let written = councilflow_ledger::durable::replace_file(&path, |out| {
            std::io::Write::write_all(out, text.as_bytes())
        });
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not write the people snapshot");
        }
    }

    /// Writes the projection snapshot of the state applied so far (see [`crate::snapshot`]).
    /// A failure is logged, not returned: without a snapshot the next start replays more.
    pub fn write_projection_snapshot(&self) {
        self.write_snapshot_after(1);
    }

    /// Writes the projection snapshot if at least `events` were applied since the last one (the
    /// projector asks for [`snapshot::EVERY`], so requests queued meanwhile write nothing twice).
    fn write_snapshot_after(&self, events: u64) {
        let mut last = self
            .inner
            .projection_snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Copied under the read lock (a consistent state at one position, and the projector is
        // held up only for the copy); encoded and written after it.
        let snapshot = {
            let state = self.read();
            if state.position == 0 || state.position < *last + events {
                // Nothing (or not enough) applied since the snapshot on disk.
                return;
            }
            state.snapshot(&self.inner.definitions)
        };
        let position = snapshot.position;
        // Also on failure: do not try again at every event, wait for the next interval.
        *last = position;
        match snapshot::write(&self.inner.data, &snapshot) {
            Ok(()) => tracing::info!(position, "projection snapshot written"),
            Err(e) => tracing::warn!(error = %e, "could not write the projection snapshot"),
        }
    }

    /// Stops accepting writes, finishes those in flight, and leaves a projection snapshot so the
    /// next start is quick.
    pub fn shutdown(&self) {
        self.write_projection_snapshot();
        self.inner.ledger.shutdown();
    }

    /// [`Service::shutdown`], then waits for the projector to stop, so that once every other
    /// clone is dropped the data folder can be opened again in this process (tests, tools).
    pub async fn close(self) {
        let service = self.clone();
        // Shutting the ledger down joins its threads: not on the runtime's.
        let _ = tokio::task::spawn_blocking(move || service.shutdown()).await;
        let projector = self
            .inner
            .projector
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(projector) = projector {
            let _ = projector.await;
        }
    }
}

/// The snapshot of role assignments the server keeps beside the ledger.
pub const PEOPLE_FILE: &str = "people.tsv";

/// `person-id<TAB>role<TAB>council-or-group` per role assignment, sorted.
pub fn people_lines(organisation: &councilflow_governance::Organisation) -> String {
    let mut out = String::new();
    for person in organisation.people.values() {
        for assignment in &person.roles {
            let scope = match &assignment.scope {
                Scope::Council(c) => c.to_string(),
                Scope::Group(g) => g.to_string(),
            };
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                person.id,
                assignment.role.as_str(),
                scope
            ));
        }
    }
    out
}
