//! A plan's history in words: who did what, when, and which approvals an edit made out of date.
//!
//! The projections keep no history, so it is read from the plan's stream in the ledger and put
//! into words. That is most of a plan page's work, and its result changes only when the plan
//! does (or a name in the organisation): it is kept per plan for as long as the plan's view is
//! the same [`Arc`] (the projections make a new one on every change to what a view is computed
//! from), for the most recently read plans.
//!
//! Only people who read the whole plan see its history; a published plan read from outside its
//! councils shows the document and its record of approvals, as the API does.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, Weak};

use councilflow_governance::{PersonId, PlanId, PlanView, Projections, Role};
use councilflow_ledger::Ledger;
use lru::LruCache;
use serde_json::{json, Value};

use crate::pages::{council_name, person_name, when};

/// Plans whose history in words is kept.
const PLANS_KEPT: usize = 256;

/// A history in words, and the view of the plan it was written from.
type Kept = (Weak<PlanView>, Arc<Vec<Value>>);

pub(crate) struct HistoryCache {
    kept: Mutex<LruCache<PlanId, Kept>>,
}

impl Default for HistoryCache {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(PLANS_KEPT).unwrap_or(NonZeroUsize::MIN);
        HistoryCache {
            kept: Mutex::new(LruCache::new(capacity)),
        }
    }
}

impl HistoryCache {
    /// The history of the plan `view` shows, newest first.
    ///
    /// It takes the projections its caller already reads: taking the read lock a second time in
    /// the same request would deadlock as soon as the projector queued for the write lock in
    /// between.
    pub(crate) fn of(
        &self,
        ledger: &Ledger,
        projections: &Projections,
        view: &Arc<PlanView>,
    ) -> Arc<Vec<Value>> {
        let id = &view.plan.id;
        if let Ok(mut kept) = self.kept.lock() {
            if let Some((seen, words)) = kept.get(id) {
                if std::ptr::eq(seen.as_ptr(), Arc::as_ptr(view)) {
                    return words.clone();
                }
            }
        }
        let words = Arc::new(in_words(ledger, projections, view));
        if let Ok(mut kept) = self.kept.lock() {
            kept.put(id.clone(), (Arc::downgrade(view), words.clone()));
        }
        words
    }
}

/// The plan's history in words: who did what, when, and which approvals an edit made out of date
/// (those the engine marks stale now, each put against the first edit after the revision it
/// approved).
fn in_words(ledger: &Ledger, projections: &Projections, view: &PlanView) -> Vec<Value> {
    let stream = councilflow_governance::streams::plan(&view.plan.id);
    let Ok(events) = ledger.read_stream(&stream, 1, usize::MAX) else {
        return Vec::new();
    };
    let plan = &view.plan;
    // Stale sign-offs now: (the revision approved, who approved it as what).
    let stale: Vec<(u64, String)> = view
        .stages
        .iter()
        .flat_map(|stage| stage.requirements.iter().map(move |r| (stage, r)))
        .filter(|(_, r)| r.stale)
        .filter_map(|(stage, r)| {
            plan.sign_offs
                .iter()
                .rev()
                .find(|s| s.stage == stage.id && s.role == r.role && s.council == r.council)
                .map(|s| {
                    (
                        s.plan_revision,
                        format!(
                            "{}'s sign-off as {} of {}",
                            person_name(projections, &s.by),
                            r.role.title(),
                            council_name(projections, &r.council)
                        ),
                    )
                })
        })
        .collect();
    let mut edits: Vec<(usize, u64)> = Vec::new();
    let mut out: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let who = PersonId::parse(&e.actor)
                .map(|p| person_name(projections, &p))
                .unwrap_or_else(|_| e.actor.clone());
            let payload = e.payload_json();
            if e.kind == "SectionEdited" || e.kind == "SharedSectionAdopted" {
                if let Some(revision) = payload["plan_revision"].as_u64() {
                    edits.push((i, revision));
                }
            }
            json!({ "at": when(e.at), "who": who, "what": describe(&e.kind, &payload), "stale": [] })
        })
        .collect();
    for (revision, label) in stale {
        if let Some((i, _)) = edits.iter().find(|(_, r)| *r > revision) {
            if let Some(list) = out[*i]["stale"].as_array_mut() {
                list.push(Value::from(format!("{label} (revision {revision})")));
            }
        }
    }
    out.reverse();
    out
}

/// An event in words, for the history and the live pages.
pub(crate) fn describe(kind: &str, payload: &Value) -> String {
    let text = |key: &str| payload[key].as_str().unwrap_or_default().to_owned();
    let revision = payload["plan_revision"].as_u64();
    let at_revision = revision.map_or_else(String::new, |r| format!(" (revision {r})"));
    let role =
        || Role::parse(&text("role")).map_or_else(|_| text("role"), |r| r.title().to_owned());
    match kind {
        "PlanStarted" => "started the plan".to_owned(),
        "SectionEdited" => format!("edited the section '{}'{at_revision}", text("section")),
        "SharedSectionAdopted" => format!(
            "adopted the shared section '{}'{at_revision}",
            text("section")
        ),
        "SignedOff" => format!("signed off as {} ({}){at_revision}", role(), text("stage")),
        "SignOffWithdrawn" => format!("withdrew a sign-off as {}: {}", role(), text("reason")),
        "CommitteeDecisionRecorded" => format!(
            "recorded the decision of {} on {}: {}{at_revision}",
            text("committee"),
            text("meeting_date"),
            text("decision").to_lowercase().replace('_', " ")
        ),
        "MeetingScheduled" => format!(
            "scheduled {} for {}",
            text("committee"),
            text("meeting_date")
        ),
        "PlanSubmitted" => format!("submitted the plan{at_revision}"),
        "PlanPublished" => format!("published the plan at {}", text("url")),
        "DeadlineExtended" => format!("recorded an extension granted by {}", text("granted_by")),
        "DeadlineSet" => "set a deadline".to_owned(),
        "KeyDateSet" => "set a key date".to_owned(),
        other => other.to_owned(),
    }
}
