//! GraphQL over HTTP and WebSocket, as axum routes: `POST /graphql` (a request or a batch),
//! GraphiQL on `GET /graphql` (from assets built in: `graphiql.rs`), and `/graphql/ws`
//! (graphql-transport-ws, and the older graphql-ws). Here, so that only this crate imports
//! async-graphql; the server merges [`router`] into its own routes.

use async_graphql::{BatchRequest, BatchResponse, Data};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Body;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::FutureExt;
use std::sync::{Arc, Mutex};

use super::graphiql;
use super::socket::{Connections, SocketExecutor};
use super::{execute, limits, refusal, Schemas, Viewer};
use crate::service::Service;

#[derive(Clone)]
struct GraphqlState {
    service: Service,
    schema: Schemas,
    connections: Connections,
}

/// The GraphQL routes over `schema`, authenticating through `service`.
pub fn router(service: Service, schema: Schemas) -> Router {
    Router::new()
        .route("/graphql", get(graphiql::page).post(graphql_post))
        .route("/graphql/assets/{name}", get(graphiql::asset))
        .route("/graphql/ws", get(graphql_ws))
        .with_state(GraphqlState {
            service,
            schema,
            connections: Connections::default(),
        })
}

/// A GraphQL-shaped refusal with the contract's code, for errors before execution.
fn refused(status: StatusCode, message: String) -> Response {
    let body = serde_json::to_vec(&refusal(message)).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn graphql_post(
    State(state): State<GraphqlState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Read at most the limit, so an oversized body costs no more memory than the limit.
    let bytes = match axum::body::to_bytes(body, limits::BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over the limit of {} bytes",
                    limits::BODY_BYTES
                ),
            )
        }
    };
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                format!("the request body is not a GraphQL request in JSON: {e}"),
            )
        }
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let viewer = Viewer::from_header(&state.service, authorization);
    // A panic in a resolver must not reach the client as a dropped connection: it is logged and
    // answered with an opaque internal error.
    let executed = std::panic::AssertUnwindSafe(execute(&state.schema, batch, viewer))
        .catch_unwind()
        .await;
    let response: BatchResponse = match executed {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, "a GraphQL request panicked");
            let mut response = refusal(
                "internal error: the server could not complete this; its log has the cause".into(),
            );
            for error in &mut response.errors {
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", "INTERNAL");
            }
            BatchResponse::Single(response)
        }
    };
    match serde_json::to_vec(&response) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a GraphQL response");
            refused(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
        }
    }
}

/// graphql-transport-ws (and the older graphql-ws). The token comes in `connection_init`'s
/// payload as `{"Authorization": "Bearer <token>"}`, or in the upgrade request's header. Every
/// operation runs through [`SocketExecutor`] (the limits and codes of POST); a message over
/// [`limits::SOCKET_MESSAGE_BYTES`] closes the socket (1009), and a token with
/// [`limits::CONNECTIONS_PER_TOKEN`] sockets open has its next one closed at `connection_init`.
async fn graphql_ws(
    State(state): State<GraphqlState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
    headers: HeaderMap,
) -> Response {
    let header_auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    upgrade
        .max_message_size(limits::SOCKET_MESSAGE_BYTES)
        .max_frame_size(limits::SOCKET_MESSAGE_BYTES)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let service = state.service.clone();
            let connections = state.connections.clone();
            // Holds this connection's place in its token's count until the socket ends.
            let counted = Arc::new(Mutex::new(None));
            let held = Arc::clone(&counted);
            let serve =
                GraphQLWebSocket::new(socket, SocketExecutor::new(state.schema.clone()), protocol)
                    .on_connection_init(move |payload| async move {
                        let from_payload = payload
                            .get("Authorization")
                            .or_else(|| payload.get("authorization"))
                            .and_then(|v| v.as_str())
                            .map(str::to_owned);
                        let header = from_payload.or(header_auth);
                        let viewer = Viewer::from_header(&service, header.as_deref());
                        if let (Viewer::Person(_), Some(header)) = (&viewer, &header) {
                            let count = connections
                                .open(header)
                                .map_err(async_graphql::Error::new)?;
                            *held.lock().unwrap_or_else(|e| e.into_inner()) = Some(count);
                        }
                        let mut data = Data::default();
                        data.insert(viewer);
                        Ok(data)
                    })
                    .serve();
            async move {
                serve.await;
                drop(counted);
            }
        })
}
