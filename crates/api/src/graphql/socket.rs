//! GraphQL over WebSocket through the same door as POST: every operation on a socket (query,
//! mutation or subscription) is prepared with the same limits (the alias limit, the parse cache),
//! validated in full, given the same `extensions.code` on every error, and run inside
//! `catch_unwind`, so a panic is logged and answered `INTERNAL` instead of dropping the socket.
//! On top: a cap on operations running at once per connection, and (in `http.rs`) on message
//! size and on connections per token.

use std::any::TypeId;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{Data, Executor, Request, Response};
use futures_util::stream::{self, BoxStream};
use futures_util::StreamExt;

use super::{coded, documents, limits, refusal, Schemas, Viewer};

/// Runs one connection's operations. Each connection has its own, counting what it runs.
#[derive(Clone)]
pub(crate) struct SocketExecutor {
    schemas: Schemas,
    running: Arc<AtomicUsize>,
}

impl SocketExecutor {
    pub(crate) fn new(schemas: Schemas) -> SocketExecutor {
        SocketExecutor {
            schemas,
            running: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// One operation running on a connection; frees its place when the stream is dropped (it ended,
/// the client stopped it, or the socket closed).
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn internal(panic: Box<dyn std::any::Any + Send>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "a GraphQL operation over WebSocket panicked");
    let mut response =
        refusal("internal error: the server could not complete this; its log has the cause".into());
    for error in &mut response.errors {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", "INTERNAL");
    }
    response
}

impl Executor for SocketExecutor {
    /// Not used by the WebSocket transport (it always streams); answers as one streamed
    /// operation without a viewer.
    fn execute(&self, request: Request) -> impl Future<Output = Response> + Send {
        let stream = self.execute_stream(request, None);
        async move {
            stream
                .into_future()
                .await
                .0
                .unwrap_or_else(|| refusal("no response".into()))
        }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let viewer = session_data
            .as_deref()
            .and_then(|data| data.get(&TypeId::of::<Viewer>()))
            .and_then(|v| v.downcast_ref::<Viewer>())
            .cloned()
            .unwrap_or(Viewer::Anonymous);
        let running = self.running.fetch_add(1, Ordering::SeqCst);
        let slot = Running(Arc::clone(&self.running));
        if running >= limits::SUBSCRIPTIONS_PER_CONNECTION {
            return stream::once(async move {
                drop(slot);
                refusal(format!(
                    "a connection may run at most {} subscriptions at once; stop one first",
                    limits::SUBSCRIPTIONS_PER_CONNECTION
                ))
            })
            .boxed();
        }
        let schema = match documents::prepare(&request.query) {
            Ok(Some((document, validation))) => {
                request.set_parsed_query(document);
                match validation {
                    documents::Validation::Introspection => &self.schemas.introspection,
                    _ => &self.schemas.strict,
                }
            }
            // Does not parse: async-graphql parses it again and reports the syntax error.
            Ok(None) => &self.schemas.strict,
            Err(message) => return stream::once(async move { refusal(message) }).boxed(),
        };
        // No per-request scope cache here: a subscription lives on, and what its viewer reads
        // is worked out afresh for each event (a role taken away stops the events at once).
        let responses = schema
            .execute_stream(request.data(viewer))
            .map(move |mut response| {
                let _running = &slot;
                for error in &mut response.errors {
                    coded(error);
                }
                response
            });
        AssertUnwindSafe(responses)
            .catch_unwind()
            .map(|item| item.unwrap_or_else(internal))
            .boxed()
    }
}

/// Open connections per token (by the token's digest, never the token itself).
#[derive(Clone, Default)]
pub(crate) struct Connections(Arc<Mutex<HashMap<String, usize>>>);

/// A connection counted against its token until dropped.
pub(crate) struct Counted {
    connections: Connections,
    key: String,
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.connections.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

impl Connections {
    /// Counts one more connection for `token`, or refuses it over the limit.
    pub(crate) fn open(&self, token: &str) -> Result<Counted, String> {
        let key = crate::tokens::digest(token);
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(key.clone()).or_insert(0);
        if *n >= limits::CONNECTIONS_PER_TOKEN {
            return Err(format!(
                "this token already has {} connections open; close one first",
                limits::CONNECTIONS_PER_TOKEN
            ));
        }
        *n += 1;
        Ok(Counted {
            connections: self.clone(),
            key,
        })
    }
}
