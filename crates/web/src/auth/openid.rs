//! Signing in with a council's own accounts (Microsoft Entra ID, or any OpenID Connect provider):
//! the authorization code flow with PKCE, a nonce and a state.
//!
//! - "Sign in with your council account" is a form (a POST, so no other site can start it for
//!   someone). It discovers the provider (kept for an hour, so rotated keys are picked up), keeps
//!   the PKCE verifier, the nonce and where the person was going under a fresh state, and sends the
//!   browser to the provider.
//! - The state goes in a short-lived cookie too: the answer must come back to the browser that
//!   started the sign-in, and a state works once (it is forgotten at its first use).
//! - The answer is believed only once the ID token checks out (openidconnect's verifier): signed
//!   by the provider's published keys, from the configured issuer, for our client id, unexpired,
//!   carrying our nonce.
//! - The person is the seeded one whose email is the token's `email`, `email_verified` true, and
//!   who holds a role at that council or at a group it belongs to: a council's provider vouches
//!   for its own people only. Anyone else is refused with a page that says why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use councilflow_governance::{CouncilId, Organisation, PersonId, Scope};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, TokenResponse,
};
use serde::Deserialize;

use super::providers::Provider;
use super::{cookie_value, local_path, Next};
use crate::render::{page, Page};
use crate::Web;

/// A client made from the provider's discovery document.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long a started sign-in waits for the provider's answer.
const PENDING_FOR: Duration = Duration::from_secs(10 * 60);
/// At most this many sign-ins wait at once (older ones are dropped first).
const PENDING_MAX: usize = 10_000;
/// How long a discovery document (and its signing keys) is kept.
const DISCOVERY_KEPT: Duration = Duration::from_secs(60 * 60);
/// Sign-ins a client may start in the rate limits' window.
const STARTS_PER_CLIENT: usize = 60;

/// A sign-in sent to a provider, waiting for its answer.
struct Pending {
    council: CouncilId,
    verifier: PkceCodeVerifier,
    nonce: Nonce,
    next: Option<String>,
    started: Instant,
}

/// The councils' providers, their discovered clients and the sign-ins under way.
pub struct OpenId {
    providers: Vec<Provider>,
    redirect: RedirectUrl,
    http: openidconnect::reqwest::Client,
    discovered: Mutex<HashMap<CouncilId, (Instant, Arc<Client>)>>,
    pending: Mutex<HashMap<String, Pending>>,
}

/// Why someone was not signed in: each says what happened and what to do.
enum Refusal {
    /// Discovery failed: the provider is down, or answers as another issuer.
    Unreachable,
    /// The state is unknown, used, expired, or from another browser.
    StaleState,
    /// The provider answered with an error (the person cancelled, say).
    ProviderSaid(String),
    /// The code could not be exchanged, or the ID token did not check out.
    Unverified,
    NoVerifiedEmail,
    UnknownEmail(String),
}

impl OpenId {
    pub fn new(providers: Vec<Provider>, public_url: &str) -> Result<OpenId, String> {
        let redirect = RedirectUrl::new(format!(
            "{}/sign-in/with/callback",
            public_url.trim_end_matches('/')
        ))
        .map_err(|e| format!("the public URL {public_url:?} makes no callback address: {e}"))?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send us anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| format!("building the HTTP client for sign-in: {e}"))?;
        Ok(OpenId {
            providers,
            redirect,
            http,
            discovered: Mutex::default(),
            pending: Mutex::default(),
        })
    }

    /// The councils whose people may sign in this way, with the button's words.
    pub fn choices(&self) -> Vec<(String, String)> {
        self.providers
            .iter()
            .map(|p| (p.council.to_string(), p.label.clone()))
            .collect()
    }

    fn provider(&self, council: &str) -> Option<&Provider> {
        self.providers
            .iter()
            .find(|p| p.council.as_str() == council)
    }

    /// The provider's client, discovered now or within the last hour.
    async fn client(&self, provider: &Provider) -> Result<Arc<Client>, String> {
        let kept = lock(&self.discovered).get(&provider.council).cloned();
        if let Some((at, client)) = kept {
            if at.elapsed() < DISCOVERY_KEPT {
                return Ok(client);
            }
        }
        // Discovery checks that the document names exactly the configured issuer.
        let metadata = CoreProviderMetadata::discover_async(provider.issuer.clone(), &self.http)
            .await
            .map_err(|e| format!("discovery at {}: {}", provider.issuer.as_str(), chain(&e)))?;
        let client = Arc::new(
            CoreClient::from_provider_metadata(
                metadata,
                provider.client_id.clone(),
                Some(provider.client_secret.clone()),
            )
            .set_redirect_uri(self.redirect.clone()),
        );
        lock(&self.discovered).insert(provider.council.clone(), (Instant::now(), client.clone()));
        Ok(client)
    }

    fn remember(&self, state: String, pending: Pending) {
        let mut waiting = lock(&self.pending);
        waiting.retain(|_, p| p.started.elapsed() < PENDING_FOR);
        if waiting.len() >= PENDING_MAX {
            if let Some(oldest) = waiting
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(s, _)| s.clone())
            {
                waiting.remove(&oldest);
            }
        }
        waiting.insert(state, pending);
    }

    /// The sign-in under `state`, forgotten as it is taken: a state works once.
    fn take(&self, state: &str) -> Option<Pending> {
        lock(&self.pending)
            .remove(state)
            .filter(|p| p.started.elapsed() < PENDING_FOR)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// An error and its sources, for the log.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// The seeded person `email` names, if they hold a role at `council` or at a group it belongs to.
fn person_for(org: &Organisation, council: &CouncilId, email: &str) -> Option<PersonId> {
    let email = email.to_lowercase();
    org.people
        .values()
        .filter(|p| p.email.to_string().to_lowercase() == email)
        .find(|p| {
            p.roles.iter().any(|r| match &r.scope {
                Scope::Council(c) => c == council,
                Scope::Group(g) => org
                    .groups
                    .get(g)
                    .is_some_and(|g| g.members.contains(council)),
                Scope::AllCouncils => false,
            })
        })
        .map(|p| p.id.clone())
}

fn state_cookie_name(web: &Web) -> &'static str {
    if web.cookie.secure {
        "__Host-councilflow-sign-in"
    } else {
        "councilflow-sign-in"
    }
}

fn state_cookie(web: &Web, value: &str, age: Duration) -> HeaderValue {
    let cookie = cookie::Cookie::build((state_cookie_name(web), value.to_owned()))
        .path("/")
        .http_only(true)
        // Lax: the provider's answer is a top-level navigation from its site, which Lax allows.
        .same_site(cookie::SameSite::Lax)
        .secure(web.cookie.secure)
        .max_age(cookie::time::Duration::seconds(age.as_secs() as i64));
    HeaderValue::from_str(&cookie.build().to_string()).expect("a cookie is a header value")
}

fn council_name(web: &Web, council: &CouncilId) -> String {
    crate::pages::council_name(&web.service.read().projections, council)
}

fn refused(council: &str, why: Refusal) -> Response {
    let (status, reason) = match why {
        Refusal::Unreachable => (
            StatusCode::BAD_GATEWAY,
            format!(
                "{council}'s sign-in service could not be used: it did not answer, or it did not \
                 identify itself as the service councilflow is set up with. Try again later, or \
                 sign in with an email link."
            ),
        ),
        Refusal::StaleState => (
            StatusCode::BAD_REQUEST,
            "This sign-in has been used already, has expired, or was started in another \
             browser. Start again from the sign-in page."
                .to_owned(),
        ),
        Refusal::ProviderSaid(error) if error == "access_denied" => (
            StatusCode::FORBIDDEN,
            format!("{council}'s sign-in service did not sign you in (access denied)."),
        ),
        Refusal::ProviderSaid(error) => (
            StatusCode::FORBIDDEN,
            format!(
                "{council}'s sign-in service did not sign you in. It said: {}.",
                error.chars().take(80).collect::<String>()
            ),
        ),
        Refusal::Unverified => (
            StatusCode::FORBIDDEN,
            format!(
                "The answer from {council}'s sign-in service could not be checked, so it was \
                 not trusted. Start again; if this happens again, tell your council's IT team."
            ),
        ),
        Refusal::NoVerifiedEmail => (
            StatusCode::FORBIDDEN,
            format!(
                "Your {council} account did not give councilflow a verified email address, so \
                 councilflow cannot tell who you are. Sign in with an email link instead."
            ),
        ),
        Refusal::UnknownEmail(email) => (
            StatusCode::FORBIDDEN,
            format!(
                "councilflow has no one with the email address {email} at {council}. Ask the \
                 person who looks after councilflow at your council to add you, or sign in with \
                 an email link if councilflow knows you by another address."
            ),
        ),
    };
    page(
        Page::new("sign_in_not_signed_in.html", "You are not signed in")
            .status(status)
            .with("reason", reason),
    )
}

/// `POST /sign-in/with/{council}`: sends the browser to the council's provider.
pub(crate) async fn start(
    State(web): State<Web>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    Path(council): Path<String>,
    Form(form): Form<Next>,
) -> Response {
    let Some((openid, provider)) = web
        .openid
        .as_ref()
        .and_then(|o| Some((o, o.provider(&council)?)))
    else {
        return crate::pages::not_found(serde_json::Value::Null, "council sign-in");
    };
    if !web
        .limits
        .allow(format!("openid:{}", client.ip()), STARTS_PER_CLIENT)
    {
        return page(
            Page::new("sign_in_limited.html", "Too many sign-in requests")
                .status(StatusCode::TOO_MANY_REQUESTS),
        );
    }
    let name = council_name(&web, &provider.council);
    let oidc = match openid.client(provider).await {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(council = %provider.council, error = %e, "a council's sign-in service could not be used");
            return refused(&name, Refusal::Unreachable);
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (address, state, nonce) = oidc
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(openidconnect::Scope::new("email".to_owned()))
        .add_scope(openidconnect::Scope::new("profile".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    openid.remember(
        state.secret().clone(),
        Pending {
            council: provider.council.clone(),
            verifier,
            nonce,
            next: local_path(form.next.as_deref()),
            started: Instant::now(),
        },
    );
    let mut response = Redirect::to(address.as_str()).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        state_cookie(&web, state.secret(), PENDING_FOR),
    );
    response
}

/// The provider's answer, as it puts it in the callback's address.
#[derive(Deserialize)]
pub(crate) struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /sign-in/with/callback`: checks the provider's answer and starts a session.
pub(crate) async fn callback(
    State(web): State<Web>,
    headers: HeaderMap,
    Query(answer): Query<Answer>,
) -> Response {
    let Some(openid) = web.openid.clone() else {
        return crate::pages::not_found(serde_json::Value::Null, "council sign-in");
    };
    let from_this_browser = answer
        .state
        .as_deref()
        .is_some_and(|s| cookie_value(&headers, state_cookie_name(&web)) == Some(s));
    let pending = answer.state.as_deref().and_then(|s| openid.take(s));
    let Some(pending) = pending.filter(|_| from_this_browser) else {
        return refused("", Refusal::StaleState);
    };
    let Some(provider) = openid.provider(pending.council.as_str()) else {
        return refused("", Refusal::StaleState);
    };
    let name = council_name(&web, &pending.council);
    if let Some(error) = answer.error {
        return refused(&name, Refusal::ProviderSaid(error));
    }
    let person = match identify(
        &web,
        &openid,
        provider,
        pending.verifier,
        &pending.nonce,
        answer.code,
    )
    .await
    {
        Ok(person) => person,
        Err(why) => return refused(&name, why),
    };
    let session = match web.auth.start_session(&person) {
        Ok(session) => session,
        Err(e) => {
            tracing::error!(error = %e, "could not record a sign-in");
            return crate::render::internal_error();
        }
    };
    tracing::info!(person = %person, council = %pending.council, "signed in with the council's account");
    let to = pending.next.unwrap_or_else(|| "/".to_owned());
    let mut response = Redirect::to(&to).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        web.cookie.set(
            &session,
            Some(super::store::ABSOLUTE.to_std().unwrap_or_default()),
        ),
    );
    headers.append(header::SET_COOKIE, state_cookie(&web, "", Duration::ZERO));
    response
}

/// Exchanges the code, checks the ID token and finds the person it names.
async fn identify(
    web: &Web,
    openid: &OpenId,
    provider: &Provider,
    verifier: PkceCodeVerifier,
    nonce: &Nonce,
    code: Option<String>,
) -> Result<PersonId, Refusal> {
    let council = &provider.council;
    let client = openid.client(provider).await.map_err(|e| {
        tracing::warn!(%council, error = %e, "a council's sign-in service could not be used");
        Refusal::Unreachable
    })?;
    let code = code.ok_or(Refusal::Unverified)?;
    let unverified = |what: &str, e: &dyn std::error::Error| {
        tracing::warn!(%council, error = %chain(e), "{what}");
        Refusal::Unverified
    };
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| unverified("no token endpoint", &e))?
        .set_pkce_verifier(verifier)
        .request_async(&openid.http)
        .await
        .map_err(|e| unverified("the code was not exchanged", &e))?;
    let id_token = token.id_token().ok_or_else(|| {
        tracing::warn!(%council, "the token response had no ID token");
        Refusal::Unverified
    })?;
    let claims = id_token
        .claims(&client.id_token_verifier(), nonce)
        .map_err(|e| unverified("the ID token did not check out", &e))?;
    let email = match (claims.email(), claims.email_verified()) {
        (Some(email), Some(true)) => email.as_str().to_owned(),
        _ => return Err(Refusal::NoVerifiedEmail),
    };
    let state = web.service.read();
    person_for(state.projections.organisation(), council, &email)
        .ok_or(Refusal::UnknownEmail(email))
}
