//! End-to-end tests: each starts the real `councilflow` binary on a free port with its own data
//! folder, gets tokens through the CLI and speaks GraphQL over HTTP and graphql-transport-ws.

mod support;

mod alliance;
mod auth;
mod authz;
mod authz_reads;
mod browser;
mod browser_live;
mod calendar_feeds;
mod calendar_page;
mod cli;
mod crash;
mod derbyshire_dales;
mod disk_full;
mod documents;
mod groups;
mod hostile;
mod http;
mod integrators;
mod live;
mod openid;
mod power_loss;
mod reminders;
mod seeds;
mod shared_barriers;
mod shared_section_page;
mod smtp_harness;
mod socket_limits;
mod staleness_and_concurrency;
mod stockport;
mod subscriptions;
mod supervision;
mod upgrade;
mod web;
