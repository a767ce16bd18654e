//! Integration tests of the governance engine, in one binary to keep linking cheap: shipped
//! definitions and seeds, every rule both ways, the timelines of the source documents, event
//! payloads, and projections replayed incrementally and from scratch.

mod common;
mod definitions;
mod events;
mod projections;
mod rules;
mod seeds;
mod timelines;
