//! Cross-site request forgery: every state-changing request must come from our own pages.
//!
//! As OWASP's cheat sheet now recommends: the browser's `Sec-Fetch-Site` header decides when it is
//! sent (`same-origin`, or `none` for a request the person made themselves); without it, the
//! `Origin` header (or failing that, `Referer`) must name this server's public origin; with
//! neither, the request is refused (fail closed). `SameSite=Lax` on the session cookie is defence
//! in depth, not the defence.

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The origin our pages are served from (`scheme://host[:port]`), from the configured public URL.
#[derive(Clone, Debug)]
pub struct Origin(pub String);

impl Origin {
    pub fn of(public_url: &str) -> Origin {
        let trimmed = public_url.trim_end_matches('/');
        let origin = match trimmed.find("://") {
            Some(i) => match trimmed[i + 3..].find('/') {
                Some(j) => &trimmed[..i + 3 + j],
                None => trimmed,
            },
            None => trimmed,
        };
        Origin(origin.to_owned())
    }
}

fn safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether an unsafe request's headers show it came from our own pages.
pub fn same_origin(origin: &Origin, headers: &axum::http::HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    if let Some(sent) = text(header::ORIGIN.as_str()) {
        return sent == origin.0;
    }
    if let Some(referer) = text(header::REFERER.as_str()) {
        return Origin::of(referer).0 == origin.0;
    }
    false
}

pub async fn guard(State(origin): State<Origin>, request: Request, next: Next) -> Response {
    if safe(request.method()) || same_origin(&origin, request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused a cross-site form submission");
    (
        StatusCode::FORBIDDEN,
        "This form was sent from another site, so it was refused and nothing was changed. \
         Go back to councilflow and try again.\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_fetch_metadata_header_decides_when_it_is_sent() {
        let ours = Origin::of("https://plans.example.gov.uk/");
        assert!(same_origin(
            &ours,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(!same_origin(
            &ours,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(!same_origin(
            &ours,
            &headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://plans.example.gov.uk")
            ])
        ));
    }

    #[test]
    fn without_it_the_origin_or_referer_must_be_ours_and_without_both_it_fails_closed() {
        let ours = Origin::of("http://127.0.0.1:8080");
        assert!(same_origin(
            &ours,
            &headers(&[("origin", "http://127.0.0.1:8080")])
        ));
        assert!(!same_origin(
            &ours,
            &headers(&[("origin", "http://evil.example")])
        ));
        assert!(same_origin(
            &ours,
            &headers(&[("referer", "http://127.0.0.1:8080/plans/x")])
        ));
        assert!(!same_origin(&ours, &headers(&[])));
    }
}
