//! The reminder task: every interval, work out which reminders are due, claim each in the ledger,
//! send it, and record how it went.
//!
//! At most one email per (plan, deadline, offset, recipient), also across restarts: a reminder is
//! claimed by appending `ReminderDue` with its key as the idempotency key, so a key is claimed once
//! ever; once `ReminderSent` is recorded it is never sent again. The one window left: a crash after
//! the mail server accepted the message and before `ReminderSent` is durable. The claim is then
//! found without an outcome and sent again after the restart; both copies carry the same
//! Message-ID (derived from the key), so the duplicate is recognisable (ARCHITECTURE.md).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use chrono::{DateTime, Utc};
use councilflow_api::Service;
use councilflow_governance::{Organisation, PlanView, Projections};
use councilflow_reminders::log::{
    self as reminder_log, ReminderCancelled, ReminderDue, ReminderFailed, ReminderSent,
};
use councilflow_reminders::message::{self, Content};
use councilflow_reminders::{
    due_now, plan_schedule, shared_schedule, Mailer, Planned, SendError, Subject,
};
use lettre::message::Mailbox;

/// How the task runs.
#[derive(Clone)]
pub struct ReminderSettings {
    pub interval: Duration,
    /// The first retry waits this long; each later one twice as long (capped).
    pub retry_base: Duration,
    /// The server's public address, for the link in each email.
    pub public_url: String,
    pub from: Mailbox,
}

/// Starts the task; it runs until the runtime stops.
pub fn spawn(
    service: Service,
    mailer: Arc<Mailer>,
    settings: ReminderSettings,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    // Supervised: a panic in a round is logged with its cause and the task starts again, so
    // reminders do not stop for good because of one bad round.
    councilflow_api::supervise::spawn("reminders", move || {
        run(
            service.clone(),
            Arc::clone(&mailer),
            settings.clone(),
            stop.clone(),
        )
    })
}

async fn run(
    service: Service,
    mailer: Arc<Mailer>,
    settings: ReminderSettings,
    mut stop: watch::Receiver<bool>,
) {
    // The first round waits one interval: a server that just started (or restarted after a
    // crash) serves first, and reminders are never that urgent.
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::now() + settings.interval,
        settings.interval,
    );
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if *stop.borrow() {
            return;
        }
        // A round under way finishes (each send is under its own timeout); then the task
        // ends, so a clean stop waits for it.
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        fail::fail_point!("reminder-round");
        if let Err(e) = tick(&service, &mailer, &settings, Utc::now()).await {
            tracing::error!(error = %e, "the reminder round failed; next round will retry");
        }
    }
}

/// One reminder ready to send: what it is and the message's content.
struct Outgoing {
    planned: Planned,
    content: Content,
    to: Option<Mailbox>,
    attempt: u32,
}

/// Everything the schedule plans now, over all plans and shared sections.
fn planned_now(
    projections: &Projections,
    now: DateTime<Utc>,
) -> (Vec<Planned>, Vec<Arc<PlanView>>) {
    let org = projections.organisation();
    let views: Vec<Arc<PlanView>> = projections
        .plans()
        .filter_map(|p| projections.plan_view(&p.id))
        .collect();
    let mut planned = Vec::new();
    for view in &views {
        if let Some(workflow) = projections.workflows().get(&view.plan.workflow) {
            planned.extend(plan_schedule(view, workflow, org, now));
        }
    }
    let pairs = views.iter().filter_map(|v| {
        projections
            .workflows()
            .get(&v.plan.workflow)
            .map(|w| (&**v, w))
    });
    planned.extend(shared_schedule(pairs, org, now));
    (planned, views)
}

fn content(
    planned: &Planned,
    views: &[Arc<PlanView>],
    org: &Organisation,
    public_url: &str,
) -> Content {
    let councils = planned
        .councils
        .iter()
        .map(|c| org.council_name(c))
        .collect::<Vec<_>>()
        .join(" and ");
    let recipient_name = org.person_name(&planned.recipient);
    match &planned.subject {
        Subject::Plan(id) => {
            let view = views.iter().find(|v| &v.plan.id == id);
            Content {
                councils,
                title: view
                    .map(|v| v.plan.title.clone())
                    .unwrap_or_else(|| id.to_string()),
                deadline_title: planned.deadline_title.clone(),
                deadline_due: planned.deadline_due,
                blockers: view
                    .map(|v| v.blockers.iter().map(|b| b.message.clone()).collect())
                    .unwrap_or_default(),
                link: format!("{}/plans/{id}", public_url.trim_end_matches('/')),
                recipient_name,
                escalation: planned.escalation,
            }
        }
        Subject::Shared(group, section) => Content {
            councils: org.group_name(group),
            title: format!("the shared section '{section}'"),
            deadline_title: planned.deadline_title.clone(),
            deadline_due: planned.deadline_due,
            blockers: vec![format!(
                "the chief executives of {councils} have not agreed the current text yet"
            )],
            link: format!("{}/graphql", public_url.trim_end_matches('/')),
            recipient_name,
            escalation: false,
        },
    }
}

/// One round: claim and send what is newly due, retry what failed for a while, cancel retries
/// no longer wanted.
pub async fn tick(
    service: &Service,
    mailer: &Mailer,
    settings: &ReminderSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut outgoing = Vec::new();
    let mut cancel = Vec::new();
    {
        let state = service.read();
        let org = state.projections.organisation();
        let (planned, views) = planned_now(&state.projections, now);
        let mailbox = |p: &Planned| {
            org.person(&p.recipient).and_then(|person| {
                format!("{} <{}>", person.name, person.email)
                    .parse::<Mailbox>()
                    .ok()
            })
        };
        for p in due_now(&planned, now) {
            if state.reminders.get(&p.key).is_none() {
                outgoing.push(Outgoing {
                    content: content(p, &views, org, &settings.public_url),
                    to: mailbox(p),
                    planned: p.clone(),
                    attempt: 1,
                });
            }
        }
        for record in state.reminders.retries_due(now) {
            match planned.iter().find(|p| p.key == record.due.key) {
                Some(p) => outgoing.push(Outgoing {
                    content: content(p, &views, org, &settings.public_url),
                    to: mailbox(p),
                    planned: p.clone(),
                    attempt: record.attempts + 1,
                }),
                None => cancel.push((record.due.subject.clone(), record.due.key.clone())),
            }
        }
    }
    for (subject, key) in cancel {
        let event = ReminderCancelled {
            key,
            reason: "no longer due: the stage completed or the deadline moved".into(),
            at: now,
        };
        service
            .record(
                &reminder_log::stream(&subject),
                vec![(
                    reminder_log::REMINDER_CANCELLED,
                    serde_json::to_value(&event)?,
                )],
                None,
            )
            .await?;
    }
    for o in outgoing {
        send_one(service, mailer, settings, o, now).await?;
    }
    Ok(())
}

async fn send_one(
    service: &Service,
    mailer: &Mailer,
    settings: &ReminderSettings,
    o: Outgoing,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let p = &o.planned;
    let stream = reminder_log::stream(&p.subject.name());
    let message_id = message::message_id(&p.key);
    if o.attempt == 1 {
        let claim = ReminderDue {
            key: p.key.clone(),
            subject: p.subject.name(),
            deadline: p.deadline.clone(),
            deadline_title: p.deadline_title.clone(),
            stage: p.stage.clone(),
            deadline_due: p.deadline_due,
            offset: p.offset.label(),
            due: p.due,
            recipient: p.recipient.clone(),
            email: o
                .to
                .as_ref()
                .map(|m| m.email.to_string())
                .unwrap_or_default(),
            escalation: p.escalation,
            message_id: message_id.clone(),
        };
        // The key as idempotency key: whoever claims first sends; a repeat claims nothing.
        let claimed = service
            .record(
                &stream,
                vec![(reminder_log::REMINDER_DUE, serde_json::to_value(&claim)?)],
                Some(&format!("reminder/{}", p.key)),
            )
            .await?;
        if claimed.duplicate {
            return Ok(());
        }
    }
    let result = match &o.to {
        None => Err(SendError::Permanent(format!(
            "{} has no usable email address",
            p.recipient
        ))),
        Some(to) => {
            match message::compose(&o.content, &settings.from, to.clone(), &message_id, now) {
                Ok(message) => mailer.send(message).await,
                Err(e) => Err(SendError::Permanent(format!(
                    "the message could not be built: {e}"
                ))),
            }
        }
    };
    let sent_or_failed = match result {
        Ok(()) => {
            tracing::info!(key = %p.key, "reminder sent");
            let sent = ReminderSent {
                key: p.key.clone(),
                message_id,
                attempt: o.attempt,
                at: Utc::now(),
            };
            (reminder_log::REMINDER_SENT, serde_json::to_value(&sent)?)
        }
        Err(e) => {
            let permanent = matches!(e, SendError::Permanent(_));
            let next = (!permanent).then(|| {
                reminder_log::next_attempt(
                    Utc::now(),
                    o.attempt,
                    settings.retry_base,
                    fastrand::f64(),
                )
            });
            tracing::warn!(key = %p.key, error = %e, permanent, next_attempt = ?next, "reminder not sent");
            let failed = ReminderFailed {
                key: p.key.clone(),
                error: e.to_string(),
                permanent,
                attempt: o.attempt,
                next_attempt: next,
                at: Utc::now(),
            };
            (
                reminder_log::REMINDER_FAILED,
                serde_json::to_value(&failed)?,
            )
        }
    };
    service.record(&stream, vec![sent_or_failed], None).await?;
    Ok(())
}
