//! A council's calendar: its plans' deadlines and committee meetings, each linking to its plan's
//! page. Calendar apps subscribe to it (`feed.rs`); people get, and revoke, the address of
//! theirs on a page (`page.rs`); both read the same entries (`entries.rs`).

mod entries;
mod feed;
mod page;

pub(crate) use feed::council_calendar;
pub(crate) use page::{create as create_feed, revoke as revoke_feed, show as calendar_page};
