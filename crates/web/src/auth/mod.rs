//! Signing in by a link sent by email, and the session cookie.
//!
//! - A person gives their email address. If it is known, a link goes to it (through the
//!   reminders' mailer: SMTP, or `.eml` files). The answer is the same whether or not the address
//!   is known, and requests are limited per address and per client.
//! - Opening the link shows a page with a "Sign in" button; only pressing it (a POST) uses the
//!   link. Mail scanners (Microsoft Defender's Safe Links) open every link in an email first, and
//!   must not use it up.
//! - Signing in starts a new session (a new id: nothing a page saw before sign-in carries over),
//!   kept on the server (`store.rs`), in an `HttpOnly`, `SameSite=Lax` cookie, `Secure` and
//!   `__Host-`-named unless the server is plainly on loopback HTTP.

pub mod openid;
pub mod providers;
pub mod store;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use councilflow_governance::PersonId;
use serde::Deserialize;

use crate::render::{page, Page};
use crate::Web;
use store::{LinkRefused, SignInError};

/// How the session cookie is named and flagged, decided once from the public URL.
#[derive(Clone, Debug)]
pub struct CookieSettings {
    pub name: &'static str,
    pub secure: bool,
}

impl CookieSettings {
    pub fn for_url(public_url: &str) -> CookieSettings {
        let loopback_http = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| public_url.starts_with(p));
        if loopback_http {
            CookieSettings {
                name: "councilflow-session",
                secure: false,
            }
        } else {
            CookieSettings {
                name: "__Host-councilflow-session",
                secure: true,
            }
        }
    }

    fn set(&self, value: &str, max_age: Option<Duration>) -> HeaderValue {
        let mut cookie = cookie::Cookie::build((self.name, value.to_owned()))
            .path("/")
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .secure(self.secure);
        if let Some(age) = max_age {
            cookie = cookie.max_age(cookie::time::Duration::seconds(age.as_secs() as i64));
        }
        HeaderValue::from_str(&cookie.build().to_string()).expect("a cookie is a header value")
    }

    /// The session id the request carries.
    pub(crate) fn read<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        cookie_value(headers, self.name)
    }
}

/// The value of the request's cookie `name`.
fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The signed-in person, from the session cookie.
pub(crate) fn signed_in(web: &Web, headers: &HeaderMap) -> Option<PersonId> {
    let id = web.cookie.read(headers)?;
    web.auth.session(id)
}

/// Sends someone not signed in to the sign-in page, to come back to `here`.
pub(crate) fn to_sign_in(here: &str) -> Response {
    let next = url_encode(here);
    Redirect::to(&format!("/sign-in?next={next}")).into_response()
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A `next` worth following: a path on this server, never another site.
fn local_path(next: Option<&str>) -> Option<String> {
    let next = next?;
    (next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'))
        .then(|| next.to_owned())
}

/// Sign-in requests allowed per address and per client in a window.
const PER_ADDRESS: usize = 5;
const PER_CLIENT: usize = 20;
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Recent sign-in requests, per address and per client, in memory (a restart forgets them,
/// which costs an attacker a restart they cannot cause).
#[derive(Default)]
pub struct RateLimits {
    seen: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimits {
    /// Counts a request under `key`; false when over `limit` in the window.
    fn allow(&self, key: String, limit: usize) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, times| times.last().is_some_and(|t| now - *t < WINDOW));
        let times = seen.entry(key).or_default();
        times.retain(|t| now - *t < WINDOW);
        if times.len() >= limit {
            return false;
        }
        times.push(now);
        true
    }
}

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

pub(crate) async fn sign_in_form(State(web): State<Web>, Query(q): Query<Next>) -> Response {
    page(sign_in_page(&web).with("next", local_path(q.next.as_deref())))
}

/// The sign-in page: a button per council whose people sign in with their own accounts, and the
/// email link for everyone.
fn sign_in_page(web: &Web) -> Page {
    let choices = web.openid.as_ref().map(|o| o.choices()).unwrap_or_default();
    Page::new("sign_in.html", "Sign in").with("choices", choices)
}

#[derive(Deserialize)]
pub(crate) struct EmailForm {
    email: String,
    next: Option<String>,
}

pub(crate) async fn send_link(
    State(web): State<Web>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    Form(form): Form<EmailForm>,
) -> Response {
    let email = form.email.trim().to_lowercase();
    if email.is_empty() || !email.contains('@') || email.len() > 254 {
        return page(
            sign_in_page(&web)
                .status(StatusCode::UNPROCESSABLE_ENTITY)
                .with("next", local_path(form.next.as_deref()))
                .with("email", form.email.clone())
                .error(
                    "email",
                    "Enter an email address in the correct format, like name@example.org",
                ),
        );
    }
    let allowed = web
        .limits
        .allow(format!("client:{}", client.ip()), PER_CLIENT)
        && web.limits.allow(format!("address:{email}"), PER_ADDRESS);
    if !allowed {
        return page(
            Page::new("sign_in_limited.html", "Too many sign-in requests")
                .status(StatusCode::TOO_MANY_REQUESTS),
        );
    }
    let person = {
        let state = web.service.read();
        state
            .projections
            .organisation()
            .people
            .values()
            .find(|p| p.email.to_string().to_lowercase() == email)
            .map(|p| (p.id.clone(), p.name.clone(), p.email.to_string()))
    };
    // The same answer either way: whether an address is known is not for a stranger to learn.
    if let Some((id, name, address)) = person {
        let web = web.clone();
        let next = local_path(form.next.as_deref());
        tokio::spawn(async move {
            if let Err(e) = send_sign_in_email(&web, &id, &name, &address, next.as_deref()).await {
                tracing::warn!(person = %id, error = %e, "a sign-in email was not sent");
            }
        });
    }
    page(Page::new("sign_in_sent.html", "Check your email").with("email", form.email.trim()))
}

async fn send_sign_in_email(
    web: &Web,
    person: &PersonId,
    name: &str,
    address: &str,
    next: Option<&str>,
) -> Result<(), String> {
    let secret = web
        .auth
        .issue_link(person, next)
        .map_err(|e| e.to_string())?;
    let link = sign_in_link(&web.settings.public_url, &secret);
    let to: lettre::message::Mailbox = format!("{name} <{address}>")
        .parse()
        .map_err(|e: lettre::address::AddressError| e.to_string())?;
    let text = format!(
        "Hello {name},\r\n\r\nTo sign in to councilflow, open this link and press \"Sign in\":\r\n\r\n\
         {link}\r\n\r\nThe link works once, for 15 minutes. If you did not ask to sign in, ignore \
         this email:\r\nnobody can sign in without the link.\r\n"
    );
    // lettre picks the transfer encoding (quoted-printable for the long link line); mail
    // clients decode it, so the reader sees the link whole.
    let message = lettre::Message::builder()
        .from(web.settings.mail_from.clone())
        .to(to)
        .subject("Sign in to councilflow")
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| e.to_string())?;
    web.mailer.send(message).await.map_err(|e| e.to_string())
}

/// The address of a sign-in link.
pub fn sign_in_link(public_url: &str, secret: &str) -> String {
    format!("{}/sign-in/{secret}", public_url.trim_end_matches('/'))
}

fn refused_link(why: LinkRefused) -> Response {
    let reason = match why {
        LinkRefused::Used => "This sign-in link has been used already. Each link works once.",
        LinkRefused::Expired => "This sign-in link has expired. Links work for 15 minutes.",
        LinkRefused::Unknown => "This sign-in link is not valid. Check you opened the whole link.",
    };
    page(
        Page::new("sign_in_refused.html", "The sign-in link did not work")
            .status(StatusCode::GONE)
            .with("reason", reason),
    )
}

pub(crate) async fn confirm_page(State(web): State<Web>, Path(secret): Path<String>) -> Response {
    match web.auth.check_link(&secret) {
        Ok(()) => page(Page::new("sign_in_confirm.html", "Sign in").with("secret", secret)),
        Err(why) => refused_link(why),
    }
}

pub(crate) async fn confirm(State(web): State<Web>, Path(secret): Path<String>) -> Response {
    match web.auth.sign_in(&secret) {
        Ok((signed_in, session)) => {
            tracing::info!(person = %signed_in.person, "signed in");
            let to = local_path(signed_in.next.as_deref()).unwrap_or_else(|| "/".to_owned());
            let mut response = Redirect::to(&to).into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                web.cookie
                    .set(&session, Some(store::ABSOLUTE.to_std().unwrap_or_default())),
            );
            response
        }
        Err(SignInError::Refused(why)) => refused_link(why),
        Err(SignInError::Io(e)) => {
            tracing::error!(error = %e, "could not record a sign-in");
            crate::render::internal_error()
        }
    }
}

pub(crate) async fn sign_out(State(web): State<Web>, headers: HeaderMap) -> Response {
    if let Some(id) = web.cookie.read(&headers) {
        if let Err(e) = web.auth.sign_out(id) {
            tracing::error!(error = %e, "could not record a sign-out");
        }
    }
    let mut response = page(Page::new("signed_out.html", "You have signed out"));
    response
        .headers_mut()
        .insert(header::SET_COOKIE, web.cookie.set("", Some(Duration::ZERO)));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_path_is_followed_after_sign_in() {
        assert_eq!(local_path(Some("/plans/x")), Some("/plans/x".to_owned()));
        assert_eq!(local_path(Some("//evil.example/")), None);
        assert_eq!(local_path(Some("https://evil.example/")), None);
        assert_eq!(local_path(Some("/\\evil.example")), None);
    }

    #[test]
    fn the_cookie_is_secure_and_host_prefixed_unless_plainly_on_loopback_http() {
        assert!(!CookieSettings::for_url("http://127.0.0.1:8080").secure);
        let public = CookieSettings::for_url("https://plans.example.gov.uk");
        assert!(public.secure && public.name.starts_with("__Host-"));
        assert!(CookieSettings::for_url("http://10.0.0.5:8080").secure);
    }

    #[test]
    fn requests_over_the_limit_are_refused_per_key() {
        let limits = RateLimits::default();
        for _ in 0..PER_ADDRESS {
            assert!(limits.allow("a".into(), PER_ADDRESS));
        }
        assert!(!limits.allow("a".into(), PER_ADDRESS));
        assert!(limits.allow("b".into(), PER_ADDRESS));
    }
}
