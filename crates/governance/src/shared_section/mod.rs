//! Shared sections: one text a group writes for its member councils' plans.
//!
//! Group members (a `group-member` of the group, or the chief executive of a member council)
//! propose and revise the text; each member council's chief executive (or their deputy) agrees a
//! revision for that council. A revision is agreed when every council that was a member when it
//! was proposed has agreed it: the member list is copied into the proposal so that replaying the
//! stream never depends on how the group looks today. Plans adopt the agreed text (see `plan`).
//!
//! `events.rs` holds [`SharedSectionEvent`] and its payloads, `state.rs` [`SharedSection`] and
//! its `apply`, `decide.rs` [`SharedSectionCommand`] and the aggregate's `decide`.

mod decide;
mod events;
mod state;

pub use decide::SharedSectionCommand;
pub use events::{SharedSectionAgreed, SharedSectionEvent, SharedSectionProposed};
pub use state::{Agreement, SharedRevision, SharedSection};

/// The longest text a section may hold (about 50 pages), so one request cannot bloat the log.
pub const MAX_TEXT_LEN: usize = 200_000;
