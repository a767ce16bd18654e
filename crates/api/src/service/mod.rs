//! The service: the ledger and the governance engine wired together, with no GraphQL in sight.
//!
//! Writes go through one path, [`Service::execute`] (`execute.rs`). Reads: one projector task
//! follows the ledger's subscription and applies every committed event, in order, to the
//! [`ReadModel`] (`read_model.rs`). It is the only writer of the projections, so they never see
//! events out of order, and they never see an event before it is durable.
//!
//! Start-up: the state comes from the projection snapshot when one matches the ledger
//! ([`crate::snapshot`]), and the events after it are replayed; otherwise the whole log is.

mod error;
mod execute;
mod read_model;
mod visibility;

pub use error::{ServiceError, StartError};
pub use execute::Operation;
pub use read_model::{ReadModel, Written};
pub use visibility::reads_event;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use chrono::Utc;
use councilflow_governance::{
    load_seeds, streams, CouncilId, DomainEvent, GovernanceError, PersonId, Plan, PlanId,
    Projections, Scope, WorkflowId, Workflows,
};
use councilflow_ledger::{self as ledger, Config, ExpectedVersion, Ledger, LedgerError, NewEvent};
use tokio::sync::watch;

use crate::snapshot;
use crate::tokens::TokenStore;

/// The actor recorded for events councilflow makes itself (seed changes).
pub const SYSTEM_ACTOR: &str = "councilflow";

/// Longest idempotency key a client may send.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// What the service needs to start: the data folder and the definition files' texts.
pub struct Settings {
    pub data: PathBuf,
    /// `(file name, text)` of every workflow definition.
    pub workflows: Vec<(String, String)>,
    /// `(file name, text)` of every organisation seed file.
    pub seeds: Vec<(String, String)>,
    /// How long a write waits for the projections to show it before it is answered
    /// `UNAVAILABLE` (it is recorded all the same).
    pub write_visible_within: Duration,
}

impl Settings {
    /// The settings for a data folder and definitions, with the default bounds.
    pub fn new(
        data: PathBuf,
        workflows: Vec<(String, String)>,
        seeds: Vec<(String, String)>,
    ) -> Settings {
        Settings {
            data,
            workflows,
            seeds,
            write_visible_within: DEFAULT_WRITE_VISIBLE_WITHIN,
        }
    }
}

/// How long a write waits, by default, for the projections to show it.
pub const DEFAULT_WRITE_VISIBLE_WITHIN: Duration = Duration::from_secs(10);

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
    state: RwLock<ReadModel>,
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
    write_visible_within: Duration,
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
        let (state, snapshot_position) = replay(&ledger, &settings.data, &definitions, workflows)?;
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
                write_visible_within: settings.write_visible_within,
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
        let recorded = service.sync_seeds(&seed).await.map_err(StartError::Seeds)?;
        if recorded > 0 {
            tracing::info!(
                events = recorded,
                "recorded organisation changes from the seeds"
            );
        }
        service.write_people_snapshot();
        Ok(service)
    }

    /// Starts the projector, supervised: after a panic it starts again from what the projections
    /// hold (rebuilt from the ledger first, if the panic came while applying an event).
    fn spawn_projector(&self) {
        let service = self.clone();
        let handle = crate::supervise::spawn("projector", move || service.clone().project());
        *self
            .inner
            .projector
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }

    /// Follows the ledger from the projections' position until the ledger closes.
    async fn project(self) {
        if self.inner.state.is_poisoned() {
            self.rebuild();
        }
        let from = self.read().position + 1;
        let mut subscription = self.inner.ledger.subscribe(from);
        loop {
            match subscription.next().await {
                Ok(event) => self.apply(&event),
                Err(LedgerError::Closed) => break,
                Err(e) => {
                    tracing::error!(error = %e, "the projector cannot read the ledger; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn apply(&self, event: &ledger::StoredEvent) {
        {
            let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
            fail::fail_point!("projector-apply");
            state.apply(event);
        }
        self.inner.applied.send_replace(event.position);
        // `try_lock`: while a snapshot is being written (its lock held) none is due, and the
        // projector never waits on the file system.
        let due = match self.inner.projection_snapshot.try_lock() {
            Ok(last) => event.position >= *last + snapshot::EVERY,
            Err(std::sync::TryLockError::Poisoned(last)) => {
                event.position >= *last.into_inner() + snapshot::EVERY
            }
            Err(std::sync::TryLockError::WouldBlock) => false,
        };
        if due {
            let service = self.clone();
            // Off the runtime's threads: it serialises the whole state.
            tokio::task::spawn_blocking(move || service.write_snapshot_after(snapshot::EVERY));
        }
        if event.stream == streams::ORG {
            self.write_people_snapshot();
        }
    }

    /// Replaces the projections with ones replayed from the ledger: after a panic while applying
    /// an event, the state may hold half of it. Reads see the old state until the new one is
    /// ready; on failure the old one stays and the projector's next start tries again.
    fn rebuild(&self) {
        tracing::warn!(
            "rebuilding the projections from the ledger after a failure applying an event"
        );
        let workflows = self.read().projections.workflows().clone();
        match replay(
            &self.inner.ledger,
            &self.inner.data,
            &self.inner.definitions,
            workflows,
        ) {
            Ok((model, _)) => {
                let position = model.position;
                *self.inner.state.write().unwrap_or_else(|e| e.into_inner()) = model;
                self.inner.state.clear_poison();
                self.inner.applied.send_replace(position);
                tracing::info!(position, "projections rebuilt");
            }
            Err(e) => tracing::error!(error = %e, "rebuilding the projections failed"),
        }
    }

    /// The projections and ledger facts, for reading. Hold the guard briefly and never across an
    /// `.await`: the projector needs it to apply new events.
    pub fn read(&self) -> RwLockReadGuard<'_, ReadModel> {
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

    /// Waits until the projections show a write recorded at `position`, for at most the bound in
    /// the settings; then `UNAVAILABLE`, saying that the write is recorded.
    pub(crate) async fn wait_to_show(&self, position: u64) -> Result<(), ServiceError> {
        let bound = self.inner.write_visible_within;
        if tokio::time::timeout(bound, self.wait_for(position))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tracing::error!(
            position,
            waited_ms = bound.as_millis() as u64,
            "a write is recorded but the projections have not shown it"
        );
        Err(ServiceError::Unavailable(format!(
            "your change was recorded (at ledger position {position}), but the server cannot show \
             it yet. Do not send it again: read it back in a moment (a request repeated with \
             the same idempotencyKey answers with what was recorded)."
        )))
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
            let domain =
                DomainEvent::from_parts(&event.kind, &event.payload_json()).map_err(|e| {
                    tracing::error!(position = event.position, error = %e,
                    "a stored governance event does not decode");
                    ServiceError::Internal
                })?;
            match domain {
                DomainEvent::Plan(event) => events.push(event),
                other => {
                    tracing::error!(
                        position = event.position,
                        kind = other.kind(),
                        "a plan's stream holds an event of another aggregate"
                    );
                    return Err(ServiceError::Internal);
                }
            }
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
    pub(super) fn check_may_write(&self, actor: &PersonId) -> Result<(), ServiceError> {
        let state = self.read();
        let person = state
            .projections
            .organisation()
            .person(actor)
            .ok_or_else(|| GovernanceError::Forbidden(format!("{actor} is not a known person")))?;
        if person
            .roles
            .iter()
            .all(|a| a.role == councilflow_governance::Role::Reader)
        {
            return Err(GovernanceError::Forbidden(format!(
                "{} holds only the reader role, which never writes",
                person.name
            ))
            .into());
        }
        Ok(())
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

/// `person-id<TAB>role<TAB>council-or-group` per role assignment (`*` for every council),
/// sorted.
pub fn people_lines(organisation: &councilflow_governance::Organisation) -> String {
    let mut out = String::new();
    for person in organisation.people.values() {
        for assignment in &person.roles {
            let scope = match &assignment.scope {
                Scope::Council(c) => c.to_string(),
                Scope::Group(g) => g.to_string(),
                Scope::AllCouncils => "*".to_owned(),
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

/// The read model from the projection snapshot (when one matches the ledger and the definitions)
/// and the events after it; with the snapshot's position (0: the whole log was replayed).
fn replay(
    ledger: &Ledger,
    data: &Path,
    definitions: &str,
    workflows: Workflows,
) -> Result<(ReadModel, u64), LedgerError> {
    let mut state = match snapshot::load(data, definitions, ledger) {
        Some((snapshot, hash)) => ReadModel::from_snapshot(workflows, snapshot, hash),
        None => ReadModel::new(Projections::new(workflows)),
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
            None => return Ok((state, snapshot_position)),
        }
    }
}

/// A plan id for a new plan: the first council, the workflow and a random suffix.
pub fn new_plan_id(council: &CouncilId, workflow: &WorkflowId) -> PlanId {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let mut base = format!("{council}-{workflow}");
    base.truncate(90);
    PlanId::parse(&format!("{}-{suffix}", base.trim_end_matches('-')))
        .expect("slugs joined by hyphens with a hex suffix are a slug")
}
