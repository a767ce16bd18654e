//! The web application: server-rendered pages for the people whose acts councilflow records
//! (drafters, statutory officers, portfolio holders, clerks, submitters), who cannot be asked to
//! write GraphQL.
//!
//! It sits on the same [`Service`] as the GraphQL API and writes no governance rule of its own:
//! every act goes through `Service::execute`, every refusal is the engine's, and the acts a page
//! offers are the ones the engine would accept now (each candidate is decided, without being
//! recorded, before its form is shown). Pages are complete without JavaScript.
//!
//! - `auth`: sign-in by emailed link or with the council's own accounts (`auth/openid.rs`),
//!   sessions kept on the server (`auth/store.rs`).
//! - `csrf`: every state-changing request must come from our own pages.
//! - `live`: the pages' live region, fed by Server-Sent Events from the ledger's subscription.
//! - `pages`: the pages; `candidates`: which acts a page offers; `acts`: the forms' handlers;
//!   `integrators`: `/plans/{id}` for a bearer token; `render`: the templates (`templates/`).

mod acts;
pub mod auth;
mod calendar;
mod candidates;
pub mod csrf;
mod groups;
mod history;
mod home;
mod integrators;
mod live;
mod pages;
mod paging;
mod render;
mod shared_section;
mod worklist;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use councilflow_api::Service;
use councilflow_reminders::Mailer;

pub use auth::sign_in_link;
pub use auth::store::{AuthStore, SESSIONS_FILE};

/// A bearer token put in an address is refused outright (it would stay in browser history and
/// proxy logs), so no one comes to rely on it; the refusal never echoes it.
pub fn token_in_address() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::BAD_REQUEST,
        "a sign-in token is never put in an address (it would stay in browser history and proxy \
         logs): send it as `Authorization: Bearer <token>`; for a calendar app, use a calendar \
         feed address (`councilflow feed-token`, or the createCalendarFeed mutation)\n",
    )
        .into_response()
}

/// Parses every template, so a broken one stops the server at start-up with its name.
pub fn check_templates() -> Result<(), String> {
    render::check()
}

/// What the web application needs besides the service.
#[derive(Clone)]
pub struct WebSettings {
    /// The address people reach the server at: links in emails, and the origin forms must come
    /// from. Never taken from a request's `Host` header.
    pub public_url: String,
    /// The From address of sign-in emails.
    pub mail_from: lettre::message::Mailbox,
    /// The plan's document with its record of approvals, as HTML (the server's renderer, also
    /// behind `export-plan`): the print view, and `/plans/{id}` for a bearer token.
    pub document:
        fn(&councilflow_governance::Projections, &councilflow_governance::PlanView) -> String,
    /// The councils whose people sign in with their own accounts (`serve --sign-in-providers`).
    pub sign_in_providers: Vec<auth::providers::Provider>,
    /// Becomes true when the server begins to stop: live streams end then, so a graceful
    /// shutdown does not wait on them.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// Shared by every page.
#[derive(Clone)]
pub(crate) struct Web {
    pub service: Service,
    pub mailer: Arc<Mailer>,
    pub settings: WebSettings,
    pub auth: Arc<AuthStore>,
    pub limits: Arc<auth::RateLimits>,
    pub cookie: auth::CookieSettings,
    pub history: Arc<history::HistoryCache>,
    pub worklists: Arc<worklist::Worklists>,
    /// Sign-in with the councils' own accounts, where any council has it.
    pub openid: Option<Arc<auth::openid::OpenId>>,
    pub stopping: tokio::sync::watch::Receiver<bool>,
    pub streams: Arc<live::OpenStreams>,
}

/// The pages, at `/`, `/sign-in`, `/councils/...` and `/plans/{id}`. `/plans/{id}` is also the
/// integrators' document (with `Authorization: Bearer`) and `/plans/{id}.json` its projection.
pub fn router(
    service: Service,
    mailer: Arc<Mailer>,
    settings: WebSettings,
) -> Result<Router, String> {
    let openid = match settings.sign_in_providers.is_empty() {
        true => None,
        false => Some(Arc::new(auth::openid::OpenId::new(
            settings.sign_in_providers.clone(),
            &settings.public_url,
        )?)),
    };
    let web = Web {
        openid,
        stopping: settings.stopping.clone(),
        streams: Arc::default(),
        auth: Arc::new(AuthStore::new(service.data_dir())),
        limits: Arc::new(auth::RateLimits::default()),
        cookie: auth::CookieSettings::for_url(&settings.public_url),
        history: Arc::default(),
        worklists: Arc::default(),
        service,
        mailer,
        settings: settings.clone(),
    };
    let origin = csrf::Origin::of(&settings.public_url);
    Ok(Router::new()
        .route("/", get(home::home))
        .route("/assets/councilflow.css", get(render::stylesheet))
        .route("/assets/live.js", get(render::live_script))
        .route("/sign-in", get(auth::sign_in_form).post(auth::send_link))
        .route(
            "/sign-in/{secret}",
            get(auth::confirm_page).post(auth::confirm),
        )
        .route("/sign-in/with/callback", get(auth::openid::callback))
        .route("/sign-in/with/{council}", post(auth::openid::start))
        .route("/sign-out", post(auth::sign_out))
        .route("/councils/{id}", get(pages::council))
        .route("/groups/{id}", get(groups::board_page))
        .route("/groups/{id}/board.csv", get(groups::board_csv))
        .route("/groups/{id}/live", get(live::group))
        .route(
            "/groups/{group}/sections/{section}",
            get(shared_section::show),
        )
        .route(
            "/groups/{group}/sections/{section}/{act}",
            post(shared_section::act),
        )
        .route("/calendar", get(calendar::calendar_page))
        .route("/calendar/feeds", post(calendar::create_feed))
        .route("/calendar/feeds/{id}/revoke", post(calendar::revoke_feed))
        .route("/calendar/{file}", get(calendar::council_calendar))
        .route("/councils/{id}/plans", post(acts::start_plan))
        .route("/plans/{id}/acts/{act}", post(acts::act))
        .route("/plans/{id}/print", get(pages::print))
        .route("/plans/{id}/live", get(live::plan))
        .route("/plans/{id}", get(pages::plan))
        .layer(axum::middleware::from_fn_with_state(origin, csrf::guard))
        // Pages and the stylesheet go gzipped to browsers that ask (a first visit stays small).
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(web))
}
