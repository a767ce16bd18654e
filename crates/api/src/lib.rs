//! The GraphQL API (async-graphql): queries, mutations and subscriptions over the ledger and the
//! governance engine, authentication and error codes. Only this crate knows GraphQL. Filled by the
//! server issue.
