//! The GraphQL schema: the contract's core (`../shared/contract/core.graphql`) and its extensions.
//!
//! This is the only module that knows GraphQL. Resolvers turn arguments into governance commands
//! or reads on the [`Service`], and every error leaves with an `extensions.code` from the contract
//! (plus `UNAVAILABLE` for a full disk, and `INTERNAL` for the opaque rest). Limits are enforced
//! before execution (aliases, batch size) and by async-graphql's validation (depth, complexity,
//! directives), each refused as `BAD_INPUT` naming the limit.

mod calendar_feeds;
mod documents;
mod graphiql;
pub mod http;
mod inputs;
mod mutation;
mod objects;
mod query;
mod scalars;
mod socket;
mod subscription;

use async_graphql::{
    BatchRequest, BatchResponse, Error, ErrorExtensions, Request, Response, Schema, ServerError,
};
use std::sync::{Arc, OnceLock};

use councilflow_governance::{GovernanceError, PersonId, ReadScope};

use crate::service::{Service, ServiceError};

pub use calendar_feeds::feed_address;
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

/// One async-graphql schema over the roots.
pub type AsyncSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The served schema, built twice over the same service: once validating every request in full
/// (async-graphql's strict mode, every rule), and once validating only what depends on the
/// request's variables (complexity, depth, fragment cycles: the fast mode). A document is run on
/// the fast one only when it holds nothing but queries and has already passed strict validation
/// once: the rest of strict validation depends on the document alone, and the executor still
/// coerces every variable to its declared type (queries take only scalar arguments, so no
/// input-object field can go unchecked). Mutations are always validated in full. Validation was
/// a third of a plan query's cost under load (`BENCHMARKS.md`).
///
/// A third copy answers introspection-only documents: it validates in full but has no depth
/// limit, which `documents` enforces for introspection itself (`ofType` does not count).
#[derive(Clone)]
pub struct Schemas {
    strict: AsyncSchema,
    fast: AsyncSchema,
    introspection: AsyncSchema,
}

/// Limits every request is held to; each is named in the error that enforces it.
pub mod limits {
    /// Largest request body, in bytes.
    pub const BODY_BYTES: usize = 256 * 1024;
    /// Deepest selection nesting.
    pub const DEPTH: usize = 12;
    /// Largest query complexity (one per field, multiplied through lists with `first`).
    pub const COMPLEXITY: usize = 5_000;
    /// Deepest nesting the parser accepts (fragments and values included), a guard against
    /// documents built to exhaust the stack before validation runs.
    pub const RECURSION: usize = 64;
    /// Most aliases in one operation document.
    pub const ALIASES: usize = 30;
    /// Most operations in one batch.
    pub const BATCH: usize = 10;
    /// Most directives on one field.
    pub const DIRECTIVES_PER_FIELD: usize = 3;
    /// Largest section text, in bytes of UTF-8.
    pub const SECTION_TEXT_BYTES: usize = 32 * 1024;
    /// Largest other free text (title, comment, reason, minute reference, URL), in characters.
    pub const SHORT_TEXT_CHARS: usize = 2_000;
    /// Largest page (`first`).
    pub const PAGE: i32 = 500;
    /// Largest WebSocket message, in bytes (the same as a POST body).
    pub const SOCKET_MESSAGE_BYTES: usize = BODY_BYTES;
    /// Most operations (subscriptions, in practice: a query ends when answered) running at once
    /// on one WebSocket connection.
    pub const SUBSCRIPTIONS_PER_CONNECTION: usize = 16;
    /// Most WebSocket connections open at once with one token.
    pub const CONNECTIONS_PER_TOKEN: usize = 8;
}

/// The complexity of a paged list: its page size times what each item asks for.
pub(crate) fn page_complexity(first: Option<i32>, default: i32, child: usize) -> usize {
    let first = first.unwrap_or(default).clamp(0, limits::PAGE) as usize;
    first.max(1).saturating_mul(child.max(1))
}

/// Who is asking: resolved from the `Authorization` header before execution.
#[derive(Clone, Debug)]
pub enum Viewer {
    Person(PersonId),
    /// No `Authorization` header.
    Anonymous,
    /// A header that did not authenticate, with the reason.
    Rejected(String),
}

impl Viewer {
    /// From an `Authorization` header value, if any.
    pub fn from_header(service: &Service, header: Option<&str>) -> Viewer {
        match header {
            None => Viewer::Anonymous,
            Some(value) => match value.strip_prefix("Bearer ") {
                None => {
                    Viewer::Rejected("the Authorization header must be `Bearer <token>`".into())
                }
                Some(token) => match service.authenticate(token.trim()) {
                    Ok(person) => Viewer::Person(person),
                    Err(e) => Viewer::Rejected(e.to_string()),
                },
            },
        }
    }
}

/// The signed-in person, or `UNAUTHENTICATED`.
pub(crate) fn viewer(ctx: &async_graphql::Context<'_>) -> async_graphql::Result<PersonId> {
    match ctx.data_opt::<Viewer>() {
        Some(Viewer::Person(p)) => Ok(p.clone()),
        Some(Viewer::Rejected(why)) => {
            Err(service_error(ServiceError::Unauthenticated(why.clone())))
        }
        _ => Err(service_error(ServiceError::Unauthenticated(
            "sign in: send `Authorization: Bearer <token>` (get a token with `councilflow token \
             --person ID`)"
                .into(),
        ))),
    }
}

/// What the viewer reads (see `councilflow_governance::visibility`), worked out once per
/// request from their roles as they are when first asked.
#[derive(Default)]
struct ScopeCell(OnceLock<Arc<ReadScope>>);

/// What the signed-in viewer may read, or `UNAUTHENTICATED`.
pub(crate) fn read_scope(
    ctx: &async_graphql::Context<'_>,
) -> async_graphql::Result<Arc<ReadScope>> {
    let person = viewer(ctx)?;
    let work_out = || {
        let state = service(ctx).read();
        Arc::new(ReadScope::of(state.projections.organisation(), &person))
    };
    Ok(match ctx.data_opt::<ScopeCell>() {
        Some(cell) => Arc::clone(cell.0.get_or_init(work_out)),
        // A transport that did not set one up (the WebSocket's subscriptions).
        None => work_out(),
    })
}

/// `FORBIDDEN`, for a field of something the viewer reads only in part.
pub(crate) fn forbidden(message: impl Into<String>) -> Error {
    service_error(GovernanceError::Forbidden(message.into()).into())
}

pub(crate) fn service<'a>(ctx: &async_graphql::Context<'a>) -> &'a Service {
    // Safe: `build_schema` always registers the service.
    ctx.data_unchecked::<Service>()
}

/// A service error as a GraphQL error with its code.
pub(crate) fn service_error(e: ServiceError) -> Error {
    let message = match &e {
        ServiceError::Internal => {
            "internal error: the server could not complete this; its log has the cause".to_owned()
        }
        other => other.to_string(),
    };
    let code = e.code();
    Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

pub(crate) fn bad_input(message: impl Into<String>) -> Error {
    service_error(GovernanceError::BadInput(message.into()).into())
}

/// Builds the schema with its limits and the service.
pub fn build_schema(service: Service) -> Schemas {
    let build = |mode, depth: Option<usize>| {
        let builder = Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
            .data(service.clone())
            .limit_complexity(limits::COMPLEXITY)
            .limit_recursive_depth(limits::RECURSION)
            .limit_directives(limits::DIRECTIVES_PER_FIELD)
            .validation_mode(mode);
        match depth {
            Some(depth) => builder.limit_depth(depth),
            None => builder,
        }
        .finish()
    };
    Schemas {
        strict: build(async_graphql::ValidationMode::Strict, Some(limits::DEPTH)),
        fast: build(async_graphql::ValidationMode::Fast, Some(limits::DEPTH)),
        introspection: build(async_graphql::ValidationMode::Strict, None),
    }
}

/// The SDL of the served schema (what `schema.graphql` holds).
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .finish()
        .sdl()
}

/// Runs a request or batch: limits first, then execution with the viewer, then every error
/// without a code (parse and validation errors) gets `BAD_INPUT`.
pub async fn execute(schema: &Schemas, batch: BatchRequest, viewer: Viewer) -> BatchResponse {
    match batch {
        BatchRequest::Single(request) => {
            BatchResponse::Single(execute_one(schema, request, viewer).await)
        }
        BatchRequest::Batch(requests) => {
            if requests.len() > limits::BATCH {
                return BatchResponse::Single(refusal(format!(
                    "a batch may hold at most {} operations; this one has {}",
                    limits::BATCH,
                    requests.len()
                )));
            }
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                responses.push(execute_one(schema, request, viewer.clone()).await);
            }
            BatchResponse::Batch(responses)
        }
    }
}

async fn execute_one(schema: &Schemas, mut request: Request, viewer: Viewer) -> Response {
    let validation = match documents::prepare(&request.query) {
        Ok(Some((document, validation))) => {
            request.set_parsed_query(document);
            validation
        }
        // Does not parse: async-graphql parses it again and reports the syntax error.
        Ok(None) => documents::Validation::Strict,
        Err(message) => return refusal(message),
    };
    let request = request.data(viewer).data(ScopeCell::default());
    let mut response = match validation {
        documents::Validation::Fast => schema.fast.execute(request).await,
        documents::Validation::Strict => schema.strict.execute(request).await,
        documents::Validation::Introspection => schema.introspection.execute(request).await,
        documents::Validation::StrictOnce => {
            let query = request.query.clone();
            let response = schema.strict.execute(request).await;
            // Validation errors carry no path; a resolver's error (NOT_FOUND, FORBIDDEN) does,
            // and means the document itself passed strict validation.
            if response.errors.iter().all(|e| !e.path.is_empty()) {
                documents::mark_validated(&query);
            }
            response
        }
    };
    for error in &mut response.errors {
        coded(error);
    }
    response
}

/// A response that refuses the whole request with `BAD_INPUT`.
pub fn refusal(message: String) -> Response {
    let mut error = ServerError::new(message, None);
    coded(&mut error);
    Response::from_errors(vec![error])
}

/// Gives a code to an error that has none, and names the limit in async-graphql's own messages.
fn coded(error: &mut ServerError) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if has_code {
        return;
    }
    if error.message.contains("recursion depth") {
        error.message = format!(
            "the document is nested deeper than the parser's limit of {}",
            limits::RECURSION
        );
    } else if error.message.contains("nested too deep") {
        error.message = format!(
            "the query is nested deeper than the limit of {}",
            limits::DEPTH
        );
    } else if error.message.contains("too complex") {
        error.message = format!(
            "the query's complexity is over the limit of {} (ask for fewer fields or smaller pages)",
            limits::COMPLEXITY
        );
    } else if error.message.contains("directives") {
        error.message = format!(
            "{} (the limit is {} directives per field)",
            error.message,
            limits::DIRECTIVES_PER_FIELD
        );
    }
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", "BAD_INPUT");
}
