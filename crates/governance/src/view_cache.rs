//! Plan views computed once per change, not once per read.
//!
//! A [`PlanView`] (stages, deadlines, blockers, status) is a pure function of the plan, its
//! workflow and the context (organisation and shared sections): it does not depend on the clock.
//! Pages that list many plans ("Waiting on you", a council's plans, the reminder schedule) used to
//! compute it for every plan on every request. Here each plan has a cell that is filled on first
//! read and emptied when an event changes what the view is computed from:
//!
//! - a plan event empties that plan's cell;
//! - an organisation or shared-section event empties every cell (roles and agreed texts feed
//!   every plan's blockers; these events are rare).
//!
//! Cells are emptied under the projections' write lock (`&mut`), and filled under the read lock
//! through [`OnceLock`], so readers never wait on each other. The cache is derived data: it takes
//! no part in equality, snapshots or clones (a clone starts empty).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::ids::PlanId;
use crate::projection::PlanView;

#[derive(Default)]
pub(crate) struct ViewCache {
    cells: BTreeMap<PlanId, OnceLock<Arc<PlanView>>>,
}

impl ViewCache {
    /// The plan's view, computed with `compute` if no read has needed it since it last changed.
    /// A plan the cache has no cell for yet is computed without being kept.
    pub(crate) fn get_or(&self, id: &PlanId, compute: impl FnOnce() -> PlanView) -> Arc<PlanView> {
        match self.cells.get(id) {
            Some(cell) => cell.get_or_init(|| Arc::new(compute())).clone(),
            None => Arc::new(compute()),
        }
    }

    /// The plan changed: its next read computes its view again.
    pub(crate) fn forget(&mut self, id: &PlanId) {
        self.cells.insert(id.clone(), OnceLock::new());
    }

    /// Something every plan's view reads changed.
    pub(crate) fn forget_all(&mut self) {
        for cell in self.cells.values_mut() {
            cell.take();
        }
    }
}

impl Clone for ViewCache {
    fn clone(&self) -> Self {
        ViewCache {
            cells: self
                .cells
                .keys()
                .map(|id| (id.clone(), OnceLock::new()))
                .collect(),
        }
    }
}

/// Derived data: two projections are equal when what they were derived from is.
impl PartialEq for ViewCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ViewCache {}

impl fmt::Debug for ViewCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let filled = self.cells.values().filter(|c| c.get().is_some()).count();
        write!(
            f,
            "ViewCache {{ {filled} of {} computed }}",
            self.cells.len()
        )
    }
}
