//! Which plans changed after a ledger position.
//!
//! A reader that keeps something derived from many plans (a person's "Waiting on you" across a
//! thousand plans) brings it up to date by looking again at the plans changed since it last
//! looked, instead of at every plan. An organisation or shared-section event after that position
//! changes what every plan's view is computed from, and so does a position from before the
//! projections were restored from a snapshot (what changed then is not known): for those the
//! answer is "look at everything again".
//!
//! One entry per plan (its latest event), so memory stays in proportion to the plans. Derived
//! data: it takes no part in equality.

use std::collections::{BTreeMap, HashMap};

use crate::ids::PlanId;

#[derive(Debug, Clone, Default)]
pub(crate) struct Changes {
    /// Each plan at the position of its latest event.
    by_position: BTreeMap<u64, PlanId>,
    latest: HashMap<PlanId, u64>,
    /// The latest organisation or shared-section event.
    context: Option<u64>,
    /// Changes at or before this position are not known (restored from a snapshot there).
    known_after: Option<u64>,
}

impl Changes {
    /// Changes are known only after `position` (where a snapshot was taken).
    pub(crate) fn known_after(position: Option<u64>) -> Changes {
        Changes {
            known_after: position,
            ..Changes::default()
        }
    }

    pub(crate) fn plan(&mut self, id: &PlanId, position: u64) {
        if let Some(previous) = self.latest.insert(id.clone(), position) {
            self.by_position.remove(&previous);
        }
        self.by_position.insert(position, id.clone());
    }

    pub(crate) fn context(&mut self, position: u64) {
        self.context = Some(position);
    }

    /// The plans with an event after `position`, or `None` when everything must be looked at
    /// again.
    pub(crate) fn plans_after(&self, position: u64) -> Option<impl Iterator<Item = &PlanId>> {
        if self.context.is_some_and(|c| c > position)
            || self.known_after.is_some_and(|k| k > position)
        {
            return None;
        }
        Some(self.by_position.range(position + 1..).map(|(_, id)| id))
    }
}

impl PartialEq for Changes {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Changes {}
