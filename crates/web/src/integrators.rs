//! `/plans/{id}` for integrators: with a bearer token, the plan's document with its record of
//! approvals, and `/plans/{id}.json` its projection (what the server served before the web
//! application, kept for scripts and the benchmark's floor).

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use councilflow_api::graphql::Viewer;
use councilflow_governance::{PersonId, PlanId, ReadScope};

use crate::Web;

/// The person an `Authorization: Bearer` header signs in, or the refusal to send.
pub(crate) fn bearer_person(web: &Web, headers: &HeaderMap) -> Result<PersonId, Box<Response>> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match Viewer::from_header(&web.service, header) {
        Viewer::Person(person) => Ok(person),
        Viewer::Anonymous => Err(Box::new((
            StatusCode::UNAUTHORIZED,
            "sign in: send `Authorization: Bearer <token>` (get a token with `councilflow token --person <your id>`)\n",
        )
            .into_response())),
        Viewer::Rejected(why) => Err(Box::new(
            (StatusCode::UNAUTHORIZED, format!("{why}\n")).into_response(),
        )),
    }
}

/// `/plans/{id}` with a bearer token (integrators): the document, or the projection as JSON.
pub(crate) fn plan(web: &Web, id: &str, headers: &HeaderMap) -> Response {
    let person = match bearer_person(web, headers) {
        Ok(person) => person,
        Err(refusal) => return *refusal,
    };
    let (id, json) = match id.strip_suffix(".json") {
        Some(id) => (id, true),
        None => (id, false),
    };
    let Ok(id) = PlanId::parse(id) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a plan id\n"),
        )
            .into_response();
    };
    let state = web.service.read();
    let scope = ReadScope::of(state.projections.organisation(), &person);
    let readable = state
        .projections
        .plan(&id)
        .is_some_and(|p| scope.plan(p).is_some());
    match state.projections.plan_view(&id).filter(|_| readable) {
        Some(view) if json => axum::Json(&*view).into_response(),
        Some(view) => Html((web.settings.document)(&state.projections, &view)).into_response(),
        None => (StatusCode::NOT_FOUND, format!("there is no plan {id}\n")).into_response(),
    }
}
