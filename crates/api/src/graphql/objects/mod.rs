//! The output types. Each wraps an owned snapshot taken under the service's read lock, so no
//! resolver holds the lock across an `.await`; nested fields take it again briefly.
//!
//! A plan query is the hot read, so its objects share rather than copy: a plan object holds its
//! view and its workflow behind `Arc`s, its stages and sections are indexes into them (no lock,
//! no clone), and a council or person named in a record is looked up only when a field other
//! than its `id` is asked for (`council { id }` on every requirement costs nothing).
//!
//! One file per family: `organisation.rs` (people, councils, groups, shared sections),
//! `workflow.rs`, `plan.rs`, `event.rs` (events, pages, mutation payloads), `enums.rs`. Each
//! GraphQL type is named `<Name>Object` in Rust where the domain has a type called `<Name>`.

mod enums;
mod event;
mod organisation;
mod plan;
mod stage;
mod workflow;

pub use enums::*;
pub use event::*;
pub use organisation::*;
pub use plan::*;
pub use stage::*;
pub use workflow::*;

use async_graphql::Result;

use super::{bad_input, limits};

pub(crate) fn int(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// `first` checked against the page limit.
pub(crate) fn page_size(first: Option<i32>, default: i32) -> Result<usize> {
    let first = first.unwrap_or(default);
    if !(0..=limits::PAGE).contains(&first) {
        return Err(bad_input(format!(
            "first must be between 0 and {} (the page size limit); it was {first}",
            limits::PAGE
        )));
    }
    Ok(first as usize)
}

/// An event cursor is the event's global position, as text.
pub(crate) fn parse_cursor(after: Option<&str>) -> Result<u64> {
    match after {
        None => Ok(0),
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| bad_input(format!("{text:?} is not an event cursor"))),
    }
}
