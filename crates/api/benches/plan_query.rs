//! The in-process cost of `bench/run`'s plan query: GraphQL (request JSON parsed, executed,
//! response serialised) against the floor (the same plan's projection serialised by serde, what
//! `GET /plans/<id>.json` sends), on the real service over a sled folder. No HTTP, no load
//! generator: the CPU per request that is GraphQL's own, without the machine's noise from
//! sharing two cores with wrk.
//!
//! Rounds alternate the plan's view alone (what both share: computing the projection's view of
//! the plan), the floor and GraphQL; each prints its microseconds per request, and the last line
//! gives the medians and the ratio floor / GraphQL (as `bench/run`'s `read_vs_floor`).
//!
//! `cargo bench -p councilflow-api --bench plan_query [-- ROUNDS ITERATIONS]`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use async_graphql::BatchRequest;
use councilflow_api::graphql::{self, Viewer};
use councilflow_api::Service;
use councilflow_governance::{PersonId, PlanId};
use serde_json::json;

// The same allocator as the server binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `bench/load.lua`'s read query, read from that file (the pieces of its `READ_QUERY`
/// concatenation), so the two benchmarks cannot drift apart.
fn read_query() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/load.lua");
    let lua = std::fs::read_to_string(path).expect("bench/load.lua");
    let start = lua
        .find("local READ_QUERY =")
        .expect("READ_QUERY in bench/load.lua");
    let mut query = String::new();
    for line in lua[start..].lines() {
        // Each line holds one double-quoted piece; the last has no `..` after it.
        let piece = line
            .split('"')
            .nth(1)
            .expect("a quoted piece of READ_QUERY");
        query.push_str(piece);
        if !line.trim_end().ends_with("..") {
            break;
        }
    }
    query
}

const SECTIONS: [&str; 6] = [
    "achievements",
    "transforming-services",
    "technology-and-data",
    "reducing-wasteful-spend",
    "barriers",
    "measuring-delivery",
];

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rounds = args.first().copied().unwrap_or(7);
    let iterations = args.get(1).copied().unwrap_or(20_000);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let service = Service::open(common::settings(dir.path()))
            .await
            .expect("the service opens");
        let schema = graphql::build_schema(service.clone());
        let drafter = || Viewer::Person(PersonId::parse("ravi-patel").expect("an id"));
        let run = |query: String| {
            let schema = schema.clone();
            async move {
                let batch: BatchRequest = serde_json::from_str(&query).expect("a request");
                let response = graphql::execute(&schema, batch, drafter()).await;
                serde_json::to_vec(&response).expect("a response body")
            }
        };

        // The plan `bench/run` reads: a Stockport plan with every section written.
        let start = json!({ "query": "mutation { startPlan(input: {workflow: \"productivity-plan-2024\", \
            councils: [\"stockport\"], id: \"bench-read\"}) { plan { id } } }" });
        run(start.to_string()).await;
        for section in SECTIONS {
            let edit = json!({
                "query": "mutation($s: ID!, $t: String!) { editSection(input: \
                    {planId: \"bench-read\", sectionId: $s, text: $t}) { plan { revision } } }",
                "variables": { "s": section, "t": format!(
                    "Stockport's {section}: what we have delivered since 2020, what we will change \
                     next, and how we will measure it. Figures are in the annex.") },
            });
            run(edit.to_string()).await;
        }
        let read = json!({ "query": read_query(), "variables": { "id": "bench-read" } }).to_string();
        let body = run(read.clone()).await;
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("\"bench-read\"") && !text.contains("\"errors\""),
            "the plan query answers without errors: {text}"
        );
        let plan = PlanId::parse("bench-read").expect("an id");

        let (mut view, mut floor, mut gql) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let started = Instant::now();
            for _ in 0..iterations {
                // Computed, not read from the projections' cache of views.
                let state = service.read();
                let p = &state.projections;
                let current = p.plan(&plan).expect("the plan");
                let workflow = p.workflows().get(&current.workflow).expect("its workflow");
                std::hint::black_box(councilflow_governance::PlanView::of(
                    current,
                    workflow,
                    &p.context(),
                ));
            }
            view.push(started.elapsed().as_secs_f64() * 1e6 / iterations as f64);
            let started = Instant::now();
            for _ in 0..iterations {
                let state = service.read();
                let view = state.projections.plan_view(&plan).expect("the plan");
                std::hint::black_box(serde_json::to_vec(&*view).expect("a body"));
            }
            floor.push(started.elapsed().as_secs_f64() * 1e6 / iterations as f64);
            let started = Instant::now();
            for _ in 0..iterations {
                std::hint::black_box(run(read.clone()).await);
            }
            gql.push(started.elapsed().as_secs_f64() * 1e6 / iterations as f64);
            println!(
                "round {round}: the view alone {:.1} us, floor {:.1} us/request, \
                 GraphQL {:.1} us/request",
                view[round], floor[round], gql[round]
            );
        }
        let (view, floor, gql) = (median(view), median(floor), median(gql));
        println!(
            "median of {rounds} x {iterations}: the view alone {view:.1} us, floor {floor:.1} us, \
             GraphQL {gql:.1} us, floor/GraphQL {:.3}",
            floor / gql
        );
        service.close().await;
    });
}
