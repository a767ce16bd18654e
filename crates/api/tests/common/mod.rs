//! What the in-process api tests share: the service's settings over the repository's own
//! workflow and seed files, on a data folder of the test's.

use std::path::Path;

use async_graphql::{BatchRequest, Request, Variables};
use councilflow_api::graphql::{self, Schemas, Viewer};
use councilflow_api::Settings;
use councilflow_governance::PersonId;
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// `(file name, text)` of every `*.toml` in a folder of the repository, sorted.
fn files(dir: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(format!("{ROOT}/{dir}"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Settings for a service on `data` with the shipped workflows and seeds.
pub fn settings(data: &Path) -> Settings {
    Settings::new(data.to_owned(), files("workflows"), files("seeds"))
}

/// Executes `query` as `person` on the schema; the response as JSON, errors included.
// Each test binary compiles this module; not every one runs requests.
#[allow(dead_code)]
pub async fn run_as(schema: &Schemas, person: &str, query: &str, variables: Value) -> Value {
    let request = Request::new(query).variables(Variables::from_json(variables));
    let viewer = Viewer::Person(PersonId::parse(person).unwrap());
    let response = graphql::execute(schema, BatchRequest::Single(request), viewer).await;
    serde_json::to_value(response).unwrap()
}
