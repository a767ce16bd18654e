//! The API of councilflow: the GraphQL schema (`graphql`, the only module that knows GraphQL) and
//! the service it calls (`service`: the ledger and the governance engine wired together), plus
//! bearer tokens (`tokens`), the projection snapshot that makes a start quick (`snapshot`) and the
//! supervision of background tasks (`supervise`).

pub mod graphql;
pub mod service;
pub mod snapshot;
pub mod supervise;
pub mod tokens;

pub use service::{Service, ServiceError, Settings, StartError, StartReport, Written};
pub use tokens::{CalendarFeed, TokenStore, FEED_TOKEN_PREFIX};
