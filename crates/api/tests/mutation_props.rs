//! Property test of GraphQL mutation inputs (the CI stand-in for fuzzing them): every mutation of
//! the schema, run in-process as various people with arbitrary strings and integers for its ids,
//! texts, revisions and dates, never panics, and every error it returns carries
//! `extensions.code`.

mod common;

use std::sync::OnceLock;

use async_graphql::{BatchRequest, Request, Variables};
use councilflow_api::graphql::{self, Schemas, Viewer};
use councilflow_api::Service;
use councilflow_governance::PersonId;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const PLAN: &str = "stockport-fuzz-plan";

/// One service on a real sled folder for every case, with one Stockport plan to aim at.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    schema: Schemas,
    _service: Service,
    _dir: tempfile::TempDir,
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
            .block_on(Service::open(common::settings(dir.path())))
            .unwrap();
        let schema = graphql::build_schema(service.clone());
        let fixture = Fixture {
            runtime,
            schema,
            _service: service,
            _dir: dir,
        };
        let started = fixture.run(
            "ravi-patel",
            "startPlan",
            json!({ "workflow": "productivity-plan-2024", "councils": ["stockport"], "id": PLAN }),
        );
        assert!(started.get("errors").is_none(), "{started}");
        fixture
    })
}

impl Fixture {
    fn run(&self, person: &str, mutation: &str, input: Value) -> Value {
        let payload = if mutation.ends_with("CalendarFeed") {
            "feed { id council { id } }"
        } else if mutation.contains("SharedSection") && mutation != "adoptSharedSection" {
            "sharedSection { id revision text } events { id kind }"
        } else {
            "plan { id revision status } events { id kind }"
        };
        let input_type = {
            let mut c = mutation.chars();
            let first = c.next().unwrap().to_uppercase().collect::<String>();
            format!("{first}{}Input", c.as_str())
        };
        let query = format!(
            "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {payload} }} }}"
        );
        let request =
            Request::new(query).variables(Variables::from_json(json!({ "input": input })));
        let viewer = match PersonId::parse(person) {
            Ok(p) => Viewer::Person(p),
            Err(_) => Viewer::Anonymous,
        };
        let response = self.runtime.block_on(graphql::execute(
            &self.schema,
            BatchRequest::Single(request),
            viewer,
        ));
        serde_json::to_value(response).unwrap()
    }
}

/// The kinds of input field, each with its own strategy.
#[derive(Clone, Copy)]
enum Field {
    /// An id (plan, section, stage, council, group, key date, workflow, route, person).
    Id(&'static [&'static str]),
    /// Free text.
    Text,
    /// A role name.
    Role,
    /// An Int.
    Int,
    /// A `Date`.
    Date,
    /// A `DateTime`.
    DateTime,
    /// The `Decision` enum.
    Decision,
    /// A list of council ids.
    Councils,
    /// A list of key dates.
    KeyDates,
}

const PLANS: &[&str] = &[PLAN, "no-such-plan"];
const SECTIONS: &[&str] = &["achievements", "barriers", "measuring-delivery"];
const STAGES: &[&str] = &[
    "member-oversight",
    "cabinet",
    "submission",
    "leadership-team",
];
const COUNCILS: &[&str] = &["stockport", "derbyshire-dales", "ashfield"];
const GROUPS: &[&str] = &["derbyshire-chief-executives"];
const WORKFLOWS: &[&str] = &["productivity-plan-2024", "peer-challenge-action-plan"];
const ROUTES: &[&str] = &["committee", "portfolio-holder", "executive"];
const KEY_DATES: &[&str] = &["challenge"];
const PEOPLE: &[&str] = &["hannah-moss", "ravi-patel"];
const FEEDS: &[&str] = &["0123456789ab", "no-such-feed"];

/// A mutation's input fields: (name, kind, required).
type Fields = Vec<(&'static str, Field, bool)>;

/// Every mutation and its input fields.
fn mutations() -> Vec<(&'static str, Fields)> {
    use Field::*;
    let key = ("idempotencyKey", Text, false);
    vec![
        (
            "startPlan",
            vec![
                ("workflow", Id(WORKFLOWS), true),
                ("councils", Councils, true),
                ("route", Id(ROUTES), false),
                ("title", Text, false),
                ("id", Id(PLANS), false),
                ("keyDates", KeyDates, false),
                key,
            ],
        ),
        (
            "editSection",
            vec![
                ("planId", Id(PLANS), true),
                ("sectionId", Id(SECTIONS), true),
                ("text", Text, true),
                ("expectedRevision", Int, false),
                key,
            ],
        ),
        (
            "signOff",
            vec![
                ("planId", Id(PLANS), true),
                ("stageId", Id(STAGES), true),
                ("role", Role, true),
                ("council", Id(COUNCILS), false),
                ("comment", Text, false),
                key,
            ],
        ),
        (
            "withdrawSignOff",
            vec![
                ("planId", Id(PLANS), true),
                ("stageId", Id(STAGES), true),
                ("role", Role, true),
                ("council", Id(COUNCILS), false),
                ("reason", Text, true),
                key,
            ],
        ),
        (
            "recordCommitteeDecision",
            vec![
                ("planId", Id(PLANS), true),
                ("council", Id(COUNCILS), true),
                ("committee", Text, true),
                ("meetingDate", Date, true),
                ("decision", Decision, true),
                ("minuteReference", Text, false),
                ("delegatedTo", Id(PEOPLE), false),
                ("stageId", Id(STAGES), false),
                key,
            ],
        ),
        (
            "scheduleMeeting",
            vec![
                ("planId", Id(PLANS), true),
                ("council", Id(COUNCILS), true),
                ("committee", Text, true),
                ("meetingDate", Date, true),
                ("stageId", Id(STAGES), false),
                key,
            ],
        ),
        (
            "submitPlan",
            vec![("planId", Id(PLANS), true), ("reference", Text, false), key],
        ),
        (
            "publishPlan",
            vec![("planId", Id(PLANS), true), ("url", Text, true), key],
        ),
        (
            "setDeadline",
            vec![
                ("planId", Id(PLANS), true),
                ("stageId", Id(STAGES), false),
                ("due", DateTime, true),
                key,
            ],
        ),
        (
            "recordExtension",
            vec![
                ("planId", Id(PLANS), true),
                ("due", DateTime, true),
                ("grantedBy", Text, true),
                ("grantedOn", Date, true),
                ("reference", Text, true),
                key,
            ],
        ),
        (
            "setKeyDate",
            vec![
                ("planId", Id(PLANS), true),
                ("keyDate", Id(KEY_DATES), true),
                ("date", Date, true),
                key,
            ],
        ),
        (
            "proposeSharedSection",
            vec![
                ("groupId", Id(GROUPS), true),
                ("sectionId", Id(SECTIONS), true),
                ("text", Text, true),
                ("expectedRevision", Int, false),
                key,
            ],
        ),
        (
            "agreeSharedSection",
            vec![
                ("groupId", Id(GROUPS), true),
                ("sectionId", Id(SECTIONS), true),
                ("revision", Int, true),
                ("council", Id(COUNCILS), true),
                key,
            ],
        ),
        (
            "adoptSharedSection",
            vec![
                ("planId", Id(PLANS), true),
                ("sectionId", Id(SECTIONS), true),
                key,
            ],
        ),
        ("createCalendarFeed", vec![("council", Id(COUNCILS), true)]),
        ("revokeCalendarFeed", vec![("id", Id(FEEDS), true)]),
    ]
}

/// Text a fuzzer would try: arbitrary Unicode, control characters, huge, empty, lookalikes.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => any::<String>(),
        1 => Just(String::new()),
        1 => Just("   ".to_owned()),
        1 => Just("\u{0}\u{1}\u{7f}\u{202e}\u{feff}".to_owned()),
        1 => (1usize..3).prop_map(|n| "x".repeat(n * 40_000)),
        1 => Just("https://example.org/plan".to_owned()),
        1 => Just("../../etc/passwd".to_owned()),
    ]
    .boxed()
}

fn id(known: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(known).prop_map(str::to_owned),
        2 => any::<String>(),
        1 => "[a-z0-9-]{0,300}",
        1 => Just("STOCKPORT".to_owned()),
        1 => Just("stockport\n".to_owned()),
    ]
    .boxed()
}

fn int() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => any::<i32>().prop_map(Value::from),
        1 => (0i32..4).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(json!(-1)),
        1 => Just(json!(1.5)),
        1 => Just(json!("3")),
    ]
    .boxed()
}

fn date() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => (1i32..10_000, 0u32..14, 0u32..33).prop_map(|(y, m, d)| json!(format!("{y:04}-{m:02}-{d:02}"))),
        1 => any::<String>().prop_map(Value::from),
        1 => Just(json!("+275760-09-13")),
        1 => Just(json!("-0001-01-01")),
        1 => Just(json!("2024-02-30")),
        1 => any::<i64>().prop_map(Value::from),
    ]
    .boxed()
}

fn date_time() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => (1i32..10_000, 1u32..13, 1u32..29, 0u32..25).prop_map(|(y, m, d, h)| json!(format!("{y:04}-{m:02}-{d:02}T{h:02}:00:00Z"))),
        1 => any::<String>().prop_map(Value::from),
        1 => Just(json!("+262143-12-31T23:59:59Z")),
        1 => Just(json!("2024-07-19T16:00:00+25:00")),
        1 => any::<i64>().prop_map(Value::from),
    ]
    .boxed()
}

fn value(field: Field) -> BoxedStrategy<Value> {
    match field {
        Field::Id(known) => id(known).prop_map(Value::from).boxed(),
        Field::Text => text().prop_map(Value::from).boxed(),
        Field::Role => prop_oneof![
            prop::sample::select(
                &[
                    "portfolio-holder",
                    "s151-officer",
                    "chief-executive",
                    "reader",
                    "drafter"
                ][..]
            )
            .prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ]
        .boxed(),
        Field::Int => int(),
        Field::Date => date(),
        Field::DateTime => date_time(),
        Field::Decision => prop_oneof![
            prop::sample::select(
                &[
                    "APPROVED",
                    "APPROVED_WITH_DELEGATED_AMENDMENTS",
                    "DEFERRED",
                    "REJECTED"
                ][..]
            )
            .prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ]
        .boxed(),
        Field::Councils => prop::collection::vec(id(COUNCILS), 0..4)
            .prop_map(Value::from)
            .boxed(),
        Field::KeyDates => prop::collection::vec((id(KEY_DATES), date()), 0..3)
            .prop_map(|v| {
                Value::Array(
                    v.into_iter()
                        .map(|(id, date)| json!({ "id": id, "date": date }))
                        .collect(),
                )
            })
            .boxed(),
    }
}

/// A mutation, a person (or someone unknown, or no one) and an input of arbitrary field values.
fn case() -> impl Strategy<Value = (String, String, Value)> {
    let people = prop_oneof![
        prop::sample::select(
            &[
                "ravi-patel",
                "maria-costa",
                "kwame-mensah",
                "hannah-moss",
                "joe-sutton",
                "rachel-ingham",
                "martin-ashby",
                "nadia-bell",
                "performance-dashboard",
            ][..]
        )
        .prop_map(str::to_owned),
        Just("nobody-at-all".to_owned()),
        // Not a person id at all: the request goes without a token (anonymous).
        Just(String::new()),
    ];
    (0..mutations().len(), people).prop_flat_map(|(m, person)| {
        let (name, fields) = mutations().swap_remove(m);
        let values: Vec<_> = fields
            .iter()
            .map(|&(field, kind, required)| {
                let v = value(kind);
                // Optional fields are sometimes left out or null; required ones sometimes too.
                let presence = if required { 0u8..12 } else { 0u8..4 };
                (Just(field), v, presence)
            })
            .collect();
        (Just(name.to_owned()), Just(person.clone()), values).prop_map(|(name, person, values)| {
            let mut input = Map::new();
            for (field, v, presence) in values {
                match presence {
                    0 => {}
                    1 => {
                        input.insert(field.to_owned(), Value::Null);
                    }
                    _ => {
                        input.insert(field.to_owned(), v);
                    }
                }
            }
            (name, person, Value::Object(input))
        })
    })
}

fn assert_every_error_has_a_code(response: &Value, what: &str) {
    if let Some(errors) = response.get("errors").and_then(Value::as_array) {
        assert!(
            !errors.is_empty(),
            "{what}: an empty errors list: {response}"
        );
        for e in errors {
            let code = e.pointer("/extensions/code").and_then(Value::as_str);
            assert!(
                code.is_some_and(|c| !c.is_empty()),
                "{what}: an error without extensions.code: {e}"
            );
            assert_ne!(
                code,
                Some("INTERNAL"),
                "{what}: bad input is not an internal error: {e}"
            );
        }
    } else {
        assert!(
            response.get("data").is_some_and(|d| !d.is_null()),
            "{what}: neither data nor errors: {response}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_mutation_inputs_never_panic_and_every_error_has_a_code((name, person, input) in case()) {
        let f = fixture();
        let what = format!("{name} as {person} with {}", {
            let s = input.to_string();
            s.chars().take(400).collect::<String>()
        });
        let response = f.run(&person, &name, input);
        assert_every_error_has_a_code(&response, &what);
    }
}

#[test]
fn the_fuzzer_knows_every_mutation_of_the_schema() {
    let sdl = graphql::sdl();
    let block = sdl
        .split("type Mutation {")
        .nth(1)
        .unwrap()
        .split('}')
        .next()
        .unwrap();
    let mut declared: Vec<&str> = block
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("(input:"))
        .map(|l| l.split('(').next().unwrap())
        .collect();
    declared.sort();
    let mut known: Vec<&str> = mutations().into_iter().map(|(n, _)| n).collect();
    known.sort();
    assert_eq!(known, declared);
}
