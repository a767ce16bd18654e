//! GraphQL requests, executed in process against the real service on a sled folder: the input is
//! a JSON request body (as POSTed to /graphql) or, when it is not one, a document run as is. The
//! first byte picks who asks. Every error must carry `extensions.code` and none may be INTERNAL:
//! bad input is the client's, and says so.
#![no_main]

use std::sync::OnceLock;

use async_graphql::{BatchRequest, Request};
use councilflow_api::graphql::{self, Schemas, Viewer};
use councilflow_api::{Service, Settings};
use councilflow_governance::PersonId;
use libfuzzer_sys::fuzz_target;

/// The last is no person id at all: the request goes without a token (anonymous).
const PEOPLE: [&str; 6] = [
    "ravi-patel",
    "maria-costa",
    "rachel-ingham",
    "performance-dashboard",
    "nobody-at-all",
    "",
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    schema: Schemas,
    _service: Service,
    _dir: tempfile::TempDir,
}

fn files(dir: &str) -> Vec<(String, String)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut out: Vec<(String, String)> = std::fs::read_dir(format!("{root}/{dir}"))
        .expect("the repository's definitions")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let service = runtime
            .block_on(Service::open(Settings::new(
                dir.path().to_owned(),
                files("workflows"),
                files("seeds"),
            )))
            .unwrap();
        let schema = graphql::build_schema(service.clone());
        let start = Request::new(
            r#"mutation { startPlan(input: {workflow: "productivity-plan-2024", councils: ["stockport"], id: "stockport-fuzz"}) { plan { id } } }"#,
        );
        let viewer = Viewer::Person(PersonId::parse("ravi-patel").unwrap());
        let started = runtime.block_on(graphql::execute(&schema, BatchRequest::Single(start), viewer));
        assert!(started.is_ok(), "the fixture's plan starts");
        Fixture { runtime, schema, _service: service, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&who, body)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let viewer = match PersonId::parse(PEOPLE[who as usize % PEOPLE.len()]) {
        Ok(p) => Viewer::Person(p),
        Err(_) => Viewer::Anonymous,
    };
    let batch = match serde_json::from_slice::<BatchRequest>(body) {
        Ok(batch) => batch,
        Err(_) => BatchRequest::Single(Request::new(String::from_utf8_lossy(body))),
    };
    let response = f
        .runtime
        .block_on(graphql::execute(&f.schema, batch, viewer));
    let value = serde_json::to_value(&response).expect("a response serialises");
    let responses = match value {
        serde_json::Value::Array(items) => items,
        single => vec![single],
    };
    for r in responses {
        for e in r
            .get("errors")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
        {
            let code = e.pointer("/extensions/code").and_then(|c| c.as_str());
            assert!(
                code.is_some_and(|c| !c.is_empty()),
                "an error without a code: {e}"
            );
            assert_ne!(
                code,
                Some("INTERNAL"),
                "bad input reported as internal: {e}"
            );
        }
    }
});
