//! The HTTP application: axum routes around the GraphQL schema, start-up and clean shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, BatchResponse, Data};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Body;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use councilflow_api::graphql::{self, limits, Schema, Viewer};
use councilflow_api::{Service, Settings};
use futures_util::FutureExt;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query};
use councilflow_governance::{CouncilId, PlanId};
use councilflow_reminders::Mailer;

use crate::cli::{Format, MailArgs, ServeArgs};
use crate::definitions::{self, Kind, Source};
use crate::reminders::{self, ReminderSettings};

/// What `serve` needs, already resolved.
pub struct ServeSettings {
    pub data: PathBuf,
    pub listen: SocketAddr,
    pub workflows: definitions::Files,
    pub seeds: definitions::Files,
    pub mail: MailArgs,
}

/// A built application: bound to its port, ready to run.
pub struct Application {
    listener: tokio::net::TcpListener,
    service: Service,
    schema: Schema,
    mailer: Arc<Mailer>,
}

#[derive(Clone)]
struct AppState {
    service: Service,
    schema: Schema,
}

impl Application {
    /// Opens the service (ledger, projections, seeds) and binds the listener.
    pub async fn build(settings: ServeSettings) -> anyhow::Result<Application> {
        let service = Service::open(Settings {
            data: settings.data.clone(),
            workflows: settings.workflows,
            seeds: settings.seeds,
        })
        .await
        .with_context(|| format!("starting on the data folder {}", settings.data.display()))?;
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        let schema = graphql::build_schema(service.clone());
        let mail = &settings.mail;
        let timeout = Duration::from_secs(mail.smtp_timeout_secs.max(1));
        let mailer = Arc::new(match &mail.smtp_url {
            Some(url) => Mailer::smtp(url, timeout).map_err(anyhow::Error::msg)?,
            None => Mailer::files(&settings.data.join("mail"), timeout)
                .context("creating the folder for .eml files")?,
        });
        let address = listener.local_addr().context("reading the bound address")?;
        let reminder_settings = ReminderSettings {
            interval: Duration::from_secs(mail.reminder_interval_secs),
            retry_base: Duration::from_secs(mail.reminder_retry_secs),
            public_url: mail
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{address}")),
            from: mail.mail_from.parse().with_context(|| {
                format!("the From address {:?} is not an address", mail.mail_from)
            })?,
        };
        reminders::spawn(service.clone(), mailer.clone(), reminder_settings);
        Ok(Application {
            listener,
            service,
            schema,
            mailer,
        })
    }

    /// Where reminders go (SMTP or a folder of .eml files).
    pub fn mail_destination(&self) -> &str {
        self.mailer.describe()
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.address().port()
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until SIGTERM or Ctrl-C, then lets requests in flight finish and closes the ledger
    /// after the writes queued in it.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let stop = shutdown_signal()?;
        self.run_until(stop).await
    }

    /// Serves until `stop` completes, then shuts down as [`Application::run_until_stopped`].
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = AppState {
            service: self.service.clone(),
            schema: self.schema,
        };
        let router = Router::new()
            .route("/graphql", get(graphiql).post(graphql_post))
            .route("/graphql/ws", get(graphql_ws))
            .route("/healthz", get(|| async { "ok" }))
            .route("/plans/{id}", get(plan_page))
            .route("/calendar/{file}", get(council_calendar))
            .with_state(state);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(stop)
            .await
            .context("serving HTTP")?;
        tracing::info!("stopping: finishing the writes in flight");
        let service = self.service;
        tokio::task::spawn_blocking(move || service.shutdown())
            .await
            .context("closing the ledger")?;
        Ok(())
    }
}

/// Installs the SIGTERM and Ctrl-C handlers *now* and returns a future that completes on either.
/// Installing them before anything announces the server matters: a signal that arrives before
/// installation kills the process without closing the ledger.
pub fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("installing the Ctrl-C handler")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("councilflow")
            .finish(),
    )
}

/// A GraphQL-shaped refusal with the contract's code, for errors before execution.
fn refusal(status: StatusCode, message: String) -> Response {
    let body = serde_json::to_vec(&graphql::refusal(message)).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn graphql_post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    // Read at most the limit, so an oversized body costs no more memory than the limit.
    let bytes = match axum::body::to_bytes(body, limits::BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refusal(
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
            return refusal(
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
    let executed = std::panic::AssertUnwindSafe(graphql::execute(&state.schema, batch, viewer))
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
            let mut response = graphql::refusal(
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
            refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
        }
    }
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Pages outside GraphQL (a plan's document, a calendar) take the token from the Authorization
/// header or, for links and calendar subscriptions that cannot send headers, `?token=`.
/// `None` when the viewer is signed in; otherwise the refusal to send.
fn page_refusal(service: &Service, headers: &HeaderMap, query: &TokenQuery) -> Option<Response> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.token.as_ref().map(|t| format!("Bearer {t}")));
    match Viewer::from_header(service, header.as_deref()) {
        Viewer::Person(_) => None,
        Viewer::Anonymous => Some((
            StatusCode::UNAUTHORIZED,
            "Sign in: add ?token=<token> to this address, or send Authorization: Bearer <token>. \
             Get a token with `councilflow token --person <your id>`.\n",
        )
            .into_response()),
        Viewer::Rejected(why) => {
            Some((StatusCode::UNAUTHORIZED, format!("{why}\n")).into_response())
        }
    }
}

/// `GET /plans/{id}`: the plan's document with its record of approvals (the link in reminders);
/// `GET /plans/{id}.json`: the plan's projection as JSON.
async fn plan_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = page_refusal(&state.service, &headers, &query) {
        return refused;
    }
    // `/plans/<id>.json` is the same projection as JSON: the plain-HTTP baseline the GraphQL
    // benchmark compares against, and a simple read for scripts.
    let (id, json) = match id.strip_suffix(".json") {
        Some(id) => (id.to_owned(), true),
        None => (id, false),
    };
    let Ok(id) = PlanId::parse(&id) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a plan id\n"),
        )
            .into_response();
    };
    let service = state.service.read();
    match service.projections.plan_view(&id) {
        Some(view) if json => axum::Json(view).into_response(),
        Some(view) => Html(crate::document::render(
            &service.projections,
            &view,
            Format::Html,
        ))
        .into_response(),
        None => (StatusCode::NOT_FOUND, format!("there is no plan {id}\n")).into_response(),
    }
}

/// `GET /calendar/{council}.ics`: the council's plan deadlines and committee dates.
async fn council_calendar(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = page_refusal(&state.service, &headers, &query) {
        return refused;
    }
    let Some(Ok(council)) = file.strip_suffix(".ics").map(CouncilId::parse) else {
        return (
            StatusCode::NOT_FOUND,
            "ask for /calendar/<council-id>.ics\n",
        )
            .into_response();
    };
    let calendar = crate::calendar::council_calendar(&state.service.read().projections, &council);
    match calendar {
        Some(text) => (
            [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
            text,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!("there is no council {council}\n"),
        )
            .into_response(),
    }
}

/// graphql-transport-ws (and the older graphql-ws). The token comes in `connection_init`'s
/// payload as `{"Authorization": "Bearer <token>"}`.
async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
    headers: HeaderMap,
) -> Response {
    let header_auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let service = state.service.clone();
            GraphQLWebSocket::new(socket, state.schema.strict().clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let from_payload = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned);
                    let viewer =
                        Viewer::from_header(&service, from_payload.or(header_auth).as_deref());
                    let mut data = Data::default();
                    data.insert(viewer);
                    Ok(data)
                })
                .serve()
        })
}

/// `councilflow serve`: resolves the settings, builds, prints where to go, runs.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let workflows_dir = args
        .definitions
        .workflows
        .clone()
        .unwrap_or_else(|| PathBuf::from("./workflows"));
    let seeds_dir = args
        .definitions
        .seeds
        .clone()
        .unwrap_or_else(|| PathBuf::from("./seeds"));
    let (workflows, workflows_from) = definitions::load(
        &workflows_dir,
        args.definitions.workflows.is_none(),
        Kind::Workflows,
    )?;
    let (seeds, seeds_from) =
        definitions::load(&seeds_dir, args.definitions.seeds.is_none(), Kind::Seeds)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let stop = shutdown_signal()?;
        let app = Application::build(ServeSettings {
            data: args.data.data.clone(),
            listen: args.listen,
            workflows,
            seeds,
            mail: args.mail.clone(),
        })
        .await?;
        let address = app.address();
        let describe = |s: &Source| match s {
            Source::Folder(f) => f.clone(),
            Source::Embedded => "embedded defaults".to_owned(),
        };
        let head = app.service().ledger().head();
        // The first line is what scripts and tests wait for.
        println!("councilflow listening on http://{address}");
        println!("  GraphiQL:   http://{address}/graphql");
        println!(
            "  data:       {} ({} events, head {})",
            args.data.data.display(),
            head.position,
            head.hash
        );
        println!(
            "  workflows:  {}; seeds: {}",
            describe(&workflows_from),
            describe(&seeds_from)
        );
        println!("  reminders:  {}", app.mail_destination());
        println!(
            "  get a token: councilflow token --person <id> --data {}   (people: councilflow people --data {})",
            args.data.data.display(),
            args.data.data.display()
        );
        println!("  then send:  Authorization: Bearer <token>");
        app.run_until(stop).await
    })
}
