//! Templates (minijinja, HTML autoescaped), built into the binary and checked when the server
//! starts; and the stylesheet.

use std::sync::OnceLock;

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value};

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    (
        "sign_in_sent.html",
        include_str!("../templates/sign_in_sent.html"),
    ),
    (
        "sign_in_limited.html",
        include_str!("../templates/sign_in_limited.html"),
    ),
    (
        "sign_in_confirm.html",
        include_str!("../templates/sign_in_confirm.html"),
    ),
    (
        "sign_in_refused.html",
        include_str!("../templates/sign_in_refused.html"),
    ),
    (
        "sign_in_not_signed_in.html",
        include_str!("../templates/sign_in_not_signed_in.html"),
    ),
    (
        "signed_out.html",
        include_str!("../templates/signed_out.html"),
    ),
    ("home.html", include_str!("../templates/home.html")),
    ("council.html", include_str!("../templates/council.html")),
    ("group.html", include_str!("../templates/group.html")),
    (
        "shared_section.html",
        include_str!("../templates/shared_section.html"),
    ),
    ("calendar.html", include_str!("../templates/calendar.html")),
    ("plan.html", include_str!("../templates/plan.html")),
    (
        "not_found.html",
        include_str!("../templates/not_found.html"),
    ),
    ("error.html", include_str!("../templates/error.html")),
];

const STYLESHEET: &str = include_str!("../assets/councilflow.css");
const LIVE_SCRIPT: &str = include_str!("../assets/live.js");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
        }
        env
    })
}

/// Parses every template (at start-up, so a broken one stops the server with its name).
pub fn check() -> Result<(), String> {
    let env = environment();
    for (name, _) in TEMPLATES {
        env.get_template(name)
            .map_err(|e| format!("{name}: {e:#}"))?;
    }
    Ok(())
}

/// A page to render: its template, its title (unique per page), what the template shows, and any
/// errors for the error summary (each linked to its field).
pub(crate) struct Page {
    template: &'static str,
    title: String,
    status: StatusCode,
    context: Vec<(&'static str, Value)>,
    errors: Vec<(String, String)>,
}

impl Page {
    pub fn new(template: &'static str, title: impl Into<String>) -> Page {
        Page {
            template,
            title: title.into(),
            status: StatusCode::OK,
            context: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub fn with(mut self, key: &'static str, value: impl serde::Serialize) -> Page {
        self.context.push((key, Value::from_serialize(&value)));
        self
    }

    pub fn status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    /// An error for the summary at the top, linked to the field with id `field`.
    pub fn error(mut self, field: impl Into<String>, message: impl Into<String>) -> Page {
        self.errors.push((field.into(), message.into()));
        self
    }
}

pub(crate) fn page(page: Page) -> Response {
    let title = if page.errors.is_empty() {
        format!("{} – councilflow", page.title)
    } else {
        format!("Error: {} – councilflow", page.title)
    };
    let mut context: std::collections::BTreeMap<&str, Value> = page.context.into_iter().collect();
    context.insert("title", Value::from(title));
    context.insert("heading", Value::from(page.title));
    let errors: Vec<Value> = page
        .errors
        .iter()
        .map(|(field, message)| {
            Value::from_serialize(serde_json::json!({ "field": field, "message": message }))
        })
        .collect();
    let by_field: std::collections::BTreeMap<String, String> = page.errors.into_iter().collect();
    context.insert("errors", Value::from(errors));
    context.insert("field_errors", Value::from_serialize(&by_field));
    let rendered = environment()
        .get_template(page.template)
        .and_then(|t| t.render(Value::from_iter(context)));
    match rendered {
        Ok(html) => (page.status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = page.template, error = %format!("{e:#}"), "a page did not render");
            internal_error()
        }
    }
}

pub(crate) fn internal_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(
            "<!DOCTYPE html><html lang=\"en\"><head><title>Sorry, there is a problem – councilflow</title></head>\
             <body><main><h1>Sorry, there is a problem</h1><p>Nothing was changed. Try again later.</p></main></body></html>",
        ),
    )
        .into_response()
}

pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The few lines that feed a page's live region (`live.rs`); pages are complete without them.
pub(crate) async fn live_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        LIVE_SCRIPT,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        super::check().unwrap();
    }
}
