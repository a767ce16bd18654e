//! Integration tests of the governance engine, in one binary to keep linking cheap: shipped
//! definitions and seeds, every rule both ways, the timelines of the source documents, event
//! payloads, projections replayed incrementally and from scratch, and property tests of the
//! definition loaders.

mod approvals;
mod common;
mod definitions;
mod events;
mod loader_props;
mod projections;
mod rules;
mod seeds;
mod timelines;
mod visibility;
