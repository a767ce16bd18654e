//! A small graphql-transport-ws client: connect with the subprotocol, `connection_init` with the
//! bearer token, `subscribe`, read `next` messages.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::TestApp;

/// What came over the socket.
#[derive(Debug)]
pub enum Incoming {
    /// A protocol message (`connection_ack`, `next`, `error`, `complete`, ...).
    Message(Value),
    /// The server closed the socket (close code and reason, when given) or the connection broke.
    Closed(Option<(u16, String)>),
    /// Nothing arrived in the time given.
    Nothing,
}

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Opens the socket with the `graphql-transport-ws` subprotocol and sends `connection_init`
    /// (with `Authorization: Bearer TOKEN` in its payload when a token is given).
    pub async fn connect(app: &TestApp, token: Option<&str>) -> WsClient {
        let mut request = app
            .ws_url()
            .into_client_request()
            .expect("a websocket request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", app.ws_url()));
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws"),
            "the server accepts the graphql-transport-ws subprotocol"
        );
        let mut client = WsClient { socket };
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send over the websocket");
    }

    /// Closes the socket with a normal close frame and waits for the server's.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
        while let Ok(Some(Ok(_))) =
            tokio::time::timeout(Duration::from_secs(5), self.socket.next()).await
        {}
    }

    /// The next protocol message (answering `ping` with `pong` on the way).
    pub async fn recv(&mut self, wait: Duration) -> Incoming {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return Incoming::Nothing,
                Ok(next) => next,
            };
            match next {
                None | Some(Err(_)) => return Incoming::Closed(None),
                Some(Ok(Message::Close(frame))) => {
                    return Incoming::Closed(
                        frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                    )
                }
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("a non-JSON websocket message ({e}): {text}"));
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    if value["type"] == "pong" {
                        continue;
                    }
                    return Incoming::Message(value);
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Waits for `connection_ack`, panicking on anything else.
    pub async fn expect_ack(&mut self) {
        match self.recv(Duration::from_secs(30)).await {
            Incoming::Message(m) if m["type"] == "connection_ack" => {}
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    /// Sends `subscribe` with id `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// The `data` of the next `next` message, or `None` when nothing came within `wait`. Panics on
    /// an `error`, a `complete`, a `next` with errors, or a closed socket.
    pub async fn next_data(&mut self, wait: Duration) -> Option<Value> {
        match self.recv(wait).await {
            Incoming::Nothing => None,
            Incoming::Message(m) if m["type"] == "next" => {
                if m["payload"].get("errors").is_some_and(|e| !e.is_null()) {
                    panic!("the subscription answered with errors: {m}");
                }
                Some(m["payload"]["data"].clone())
            }
            other => panic!("expected a `next` message, got {other:?}"),
        }
    }
}

impl TestApp {
    /// Connects with `token`, waits for the ack and subscribes to `planEvents(planId)` (id "1").
    pub async fn subscribe_plan_events(&self, token: &str, plan: &str) -> WsClient {
        let mut client = WsClient::connect(self, Some(token)).await;
        client.expect_ack().await;
        client
            .subscribe(
                "1",
                "subscription($planId: ID!) { planEvents(planId: $planId) { id position stream version kind } }",
                json!({ "planId": plan }),
            )
            .await;
        client
    }
}
