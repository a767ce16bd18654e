//! The councilflow server: the command line, the HTTP application (axum) around the GraphQL API,
//! the operator commands, and the published document of a plan.

pub mod app;
pub mod cli;
pub mod commands;
pub mod definitions;
pub mod document;
pub mod pages;
pub mod reminders;
