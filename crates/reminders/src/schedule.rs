//! Which reminders a plan's state calls for, and which of them are due: a pure function of the
//! plan, its workflow's reminder policy, the organisation and the time.
//!
//! For each open deadline (the current stage's own deadline, and the submission deadline until the
//! plan is submitted) the schedule holds, per recipient:
//! - one reminder `d` days before the deadline for each `d` of the policy, at the policy's hour,
//!   London time (so 09:00 is 09:00 in summer and in winter);
//! - once overdue, one every `overdue_every_days` at that hour, with the escalation role (the
//!   council's chief executive) added after `escalate_after_days_overdue` days.
//!
//! Recipients are the holders of the roles the plan waits on, at the councils still waiting, plus
//! the plan's drafters; someone whose part is done is not waited on, so never reminded. A shared
//! section the group has not agreed is reminded once for the group (not once per member plan): to
//! the chief executives of the member councils that have not agreed, before the earliest deadline
//! of the member plans that need it.
//!
//! Keys carry the deadline's instant, so a deadline that moves takes its schedule with it: the old
//! keys are simply no longer planned. Of the reminders already fallen due for one deadline and
//! recipient, only the most recent is sent ([`due_now`]): a deadline set late sends one reminder,
//! not a burst.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;
use councilflow_governance::{
    BlockerCode, CouncilId, DeadlineKind, GroupId, Organisation, PersonId, PlanView, Role, Scope,
    SectionId, StageId, Workflow,
};

/// How far ahead overdue reminders are planned (a bound on work, not a rule).
const MAX_OVERDUE_OCCURRENCES: u32 = 366;

/// What a reminder is about: a plan, or a group's shared section.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    Plan(councilflow_governance::PlanId),
    Shared(GroupId, SectionId),
}

impl Subject {
    /// `plan-<id>` or `shared-<group>.<section>` (the same names as the governance streams).
    pub fn name(&self) -> String {
        match self {
            Subject::Plan(id) => councilflow_governance::streams::plan(id),
            Subject::Shared(g, s) => councilflow_governance::streams::shared(g, s),
        }
    }
}

/// When, relative to its deadline, a reminder goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Offset {
    /// This many days before.
    Before(u32),
    /// The n-th reminder after the deadline passed (1, 2, ...).
    Overdue(u32),
}

impl Offset {
    pub fn label(self) -> String {
        match self {
            Offset::Before(d) => format!("{d}d-before"),
            Offset::Overdue(n) => format!("overdue-{n}"),
        }
    }
}

/// One planned reminder to one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// `(subject, deadline, offset, recipient)` as text: at most one email per key, ever.
    pub key: String,
    pub subject: Subject,
    /// The deadline's id: `submission` or `stage:<id>`.
    pub deadline: String,
    /// The deadline's title, for people ("Report authorisation").
    pub deadline_title: String,
    /// The stage the plan waits on.
    pub stage: Option<StageId>,
    pub deadline_due: DateTime<Utc>,
    pub offset: Offset,
    /// When this reminder is due to go.
    pub due: DateTime<Utc>,
    pub recipient: PersonId,
    /// The councils this reminder is about (the plan's owners, or the councils not yet agreed).
    pub councils: Vec<CouncilId>,
    /// Sent because the act is overdue long enough to tell the escalation role too.
    pub escalation: bool,
}

/// The instant `hour:00` London time on `date`, days after (or before, if negative) `deadline`'s
/// London date.
fn at_hour(date: NaiveDate, hour: u32) -> Option<DateTime<Utc>> {
    let naive = date.and_hms_opt(hour, 0, 0)?;
    // `earliest` settles the hour that does not exist (spring forward) or exists twice (fall back).
    London
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

fn london_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&London).date_naive()
}

/// The occurrences of a deadline's reminders: before it, then overdue up to `now` and one more.
fn occurrences(
    workflow: &Workflow,
    deadline_due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<(Offset, DateTime<Utc>)> {
    let policy = &workflow.reminders;
    let day = london_date(deadline_due);
    let mut out = Vec::new();
    for &d in &policy.days_before {
        if let Some(due) = at_hour(day - Duration::days(i64::from(d)), policy.hour) {
            if due < deadline_due {
                out.push((Offset::Before(d), due));
            }
        }
    }
    if policy.overdue_every_days > 0 {
        for n in 1..=MAX_OVERDUE_OCCURRENCES {
            let days = i64::from(n * policy.overdue_every_days);
            let Some(due) = at_hour(day + Duration::days(days), policy.hour) else {
                continue;
            };
            out.push((Offset::Overdue(n), due));
            if due > now {
                break;
            }
        }
    }
    out
}

/// The people holding `role` at `scope` (deputies included).
fn holders(org: &Organisation, role: Role, scope: &Scope) -> Vec<PersonId> {
    org.holders(role, scope)
        .into_iter()
        .map(|(p, _)| p.id.clone())
        .collect()
}

/// The plan's open deadlines: the current stage's own, and the submission deadline until submitted.
fn open_deadlines(view: &PlanView, workflow: &Workflow) -> Vec<(String, String, DateTime<Utc>)> {
    let Some(current) = &view.current_stage else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // The submission stage's own deadline is the plan's submission deadline under another name;
    // remind once, against the plan's.
    let is_submission = workflow
        .stage(current)
        .is_some_and(|s| s.kind == councilflow_governance::StageKind::Submission);
    for deadline in &view.deadlines {
        match &deadline.kind {
            DeadlineKind::Stage { stage } if stage == current && !is_submission => {
                let title = workflow
                    .stage(stage)
                    .map(|s| s.title.clone())
                    .unwrap_or_else(|| stage.to_string());
                out.push((format!("stage:{stage}"), title, deadline.due));
            }
            DeadlineKind::Submission if view.submitted_at.is_none() => {
                out.push(("submission".into(), "Submission".into(), deadline.due));
            }
            _ => {}
        }
    }
    out
}

/// The plan's reminders, past and future, for its open deadlines (shared sections not agreed are
/// left to [`shared_schedule`]).
pub fn plan_schedule(
    view: &PlanView,
    workflow: &Workflow,
    org: &Organisation,
    now: DateTime<Utc>,
) -> Vec<Planned> {
    let plan = &view.plan;
    let waiting: Vec<_> = view
        .blockers
        .iter()
        .filter(|b| b.code != BlockerCode::SharedSectionNotAgreed)
        .collect();
    if view.blockers.is_empty() {
        return Vec::new();
    }
    let mut recipients: BTreeSet<PersonId> = BTreeSet::new();
    let mut waiting_councils: BTreeSet<CouncilId> = BTreeSet::new();
    for blocker in &waiting {
        for w in &blocker.waiting_on {
            recipients.extend(holders(org, w.role, &w.scope));
            if let Scope::Council(c) = &w.scope {
                if plan.councils.contains(c) {
                    waiting_councils.insert(c.clone());
                }
            }
        }
    }
    for council in &plan.councils {
        recipients.extend(holders(
            org,
            Role::Drafter,
            &Scope::Council(council.clone()),
        ));
    }
    let escalation_councils: Vec<CouncilId> = if waiting_councils.is_empty() {
        plan.councils.clone()
    } else {
        waiting_councils.into_iter().collect()
    };
    let escalated: BTreeSet<PersonId> = escalation_councils
        .iter()
        .flat_map(|c| {
            holders(
                org,
                workflow.reminders.escalate_to,
                &Scope::Council(c.clone()),
            )
        })
        .filter(|p| !recipients.contains(p))
        .collect();
    let subject = Subject::Plan(plan.id.clone());
    let mut out = Vec::new();
    for (deadline, title, deadline_due) in open_deadlines(view, workflow) {
        for (offset, due) in occurrences(workflow, deadline_due, now) {
            let escalate = matches!(offset, Offset::Overdue(n)
                if n * workflow.reminders.overdue_every_days
                    >= workflow.reminders.escalate_after_days_overdue);
            let people = recipients
                .iter()
                .map(|p| (p, false))
                .chain(escalated.iter().filter(|_| escalate).map(|p| (p, true)));
            for (person, escalation) in people {
                out.push(Planned {
                    key: key(&subject, &deadline, deadline_due, offset, person),
                    subject: subject.clone(),
                    deadline: deadline.clone(),
                    deadline_title: title.clone(),
                    stage: view.current_stage.clone(),
                    deadline_due,
                    offset,
                    due,
                    recipient: person.clone(),
                    councils: plan.councils.clone(),
                    escalation,
                });
            }
        }
    }
    out
}

fn key(
    subject: &Subject,
    deadline: &str,
    deadline_due: DateTime<Utc>,
    offset: Offset,
    person: &PersonId,
) -> String {
    format!(
        "{}/{deadline}@{}/{}/{person}",
        subject.name(),
        deadline_due.timestamp(),
        offset.label()
    )
}

/// Reminders for shared sections the group has not agreed: once per section, to the people it
/// waits on (chief executives of member councils not yet agreed, or the group's members while
/// nothing is proposed), before the earliest open deadline of the member plans that need it.
pub fn shared_schedule<'a>(
    plans: impl IntoIterator<Item = (&'a PlanView, &'a Workflow)>,
    org: &Organisation,
    now: DateTime<Utc>,
) -> Vec<Planned> {
    struct Need {
        deadline: DateTime<Utc>,
        workflow: Workflow,
        waiting_on: Vec<councilflow_governance::WaitingOn>,
    }
    let mut needs: BTreeMap<(GroupId, SectionId), Need> = BTreeMap::new();
    for (view, workflow) in plans {
        let Some(earliest) = open_deadlines(view, workflow).iter().map(|d| d.2).min() else {
            continue;
        };
        for blocker in &view.blockers {
            if blocker.code != BlockerCode::SharedSectionNotAgreed {
                continue;
            }
            for section in &view.plan.sections {
                let Some(group) = &section.shared_from else {
                    continue;
                };
                let entry = needs
                    .entry((group.clone(), section.id.clone()))
                    .or_insert_with(|| Need {
                        deadline: earliest,
                        workflow: workflow.clone(),
                        waiting_on: blocker.waiting_on.clone(),
                    });
                if earliest < entry.deadline {
                    entry.deadline = earliest;
                    entry.workflow = workflow.clone();
                }
            }
        }
    }
    let mut out = Vec::new();
    for ((group, section), need) in needs {
        let subject = Subject::Shared(group.clone(), section.clone());
        let title = need
            .workflow
            .section(&section)
            .map(|s| format!("Agreement of the shared section '{}'", s.title))
            .unwrap_or_else(|| format!("Agreement of the shared section '{section}'"));
        let councils: Vec<CouncilId> = need
            .waiting_on
            .iter()
            .filter_map(|w| match &w.scope {
                Scope::Council(c) => Some(c.clone()),
                Scope::Group(_) | Scope::AllCouncils => None,
            })
            .collect();
        let recipients: BTreeSet<PersonId> = need
            .waiting_on
            .iter()
            .flat_map(|w| holders(org, w.role, &w.scope))
            .collect();
        for (offset, due) in occurrences(&need.workflow, need.deadline, now) {
            for person in &recipients {
                out.push(Planned {
                    key: key(&subject, "agreement", need.deadline, offset, person),
                    subject: subject.clone(),
                    deadline: "agreement".into(),
                    deadline_title: title.clone(),
                    stage: None,
                    deadline_due: need.deadline,
                    offset,
                    due,
                    recipient: person.clone(),
                    councils: councils.clone(),
                    escalation: false,
                });
            }
        }
    }
    out
}

/// The reminders to send now: for each deadline and recipient, the most recent one already due.
pub fn due_now(planned: &[Planned], now: DateTime<Utc>) -> Vec<&Planned> {
    let mut latest: BTreeMap<(String, String, i64, PersonId), &Planned> = BTreeMap::new();
    for p in planned.iter().filter(|p| p.due <= now) {
        let slot = (
            p.subject.name(),
            p.deadline.clone(),
            p.deadline_due.timestamp(),
            p.recipient.clone(),
        );
        match latest.get(&slot) {
            Some(existing) if existing.due >= p.due => {}
            _ => {
                latest.insert(slot, p);
            }
        }
    }
    latest.into_values().collect()
}

/// How the reminder stands without a record: scheduled (not yet due), or superseded by a later
/// reminder for the same deadline and recipient (never sent: a deadline set late).
pub fn unrecorded_status(
    planned: &Planned,
    all: &[Planned],
    now: DateTime<Utc>,
) -> UnrecordedStatus {
    if planned.due > now {
        return UnrecordedStatus::Scheduled;
    }
    let superseded = all.iter().any(|o| {
        o.subject == planned.subject
            && o.deadline == planned.deadline
            && o.deadline_due == planned.deadline_due
            && o.recipient == planned.recipient
            && o.due > planned.due
            && o.due <= now
    });
    if superseded {
        UnrecordedStatus::Superseded
    } else {
        UnrecordedStatus::DueNow
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnrecordedStatus {
    Scheduled,
    DueNow,
    Superseded,
}
