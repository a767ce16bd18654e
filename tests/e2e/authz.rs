//! The authorization matrix: every mutation of the schema, tried with no token, a reader's token,
//! a token of the wrong council and a token of the right council but the wrong role, is refused
//! (`UNAUTHENTICATED` or `FORBIDDEN`; `NOT_FOUND` for another council's draft or another
//! person's calendar feed, which do not exist for them), and neither the ledger's head nor the
//! calendar feeds kept beside it move. The inputs are valid otherwise, so each
//! refusal is about who asks, not what they ask. What each caller may read is in `authz_reads.rs`.

use serde_json::{json, Value};

use crate::support::*;

const READER: &str = "performance-dashboard";
const PEER_CHALLENGE: &str = "peer-challenge-action-plan";

/// One mutation with a valid input, and who must be refused it.
struct Case {
    mutation: &'static str,
    input: Value,
    /// Holds the right role, but at a council that has nothing to do with the target.
    wrong_council: &'static str,
    /// Holds a role at the right council (or group), but not the one the act needs.
    wrong_role: &'static str,
}

/// Which kind of caller a test plays.
#[derive(Clone, Copy, Debug)]
enum Caller {
    NoToken,
    Reader,
    WrongCouncil,
    WrongRole,
}

struct Fixture {
    app: TestApp,
    cases: Vec<Case>,
    /// The cursor of the last committed event once the fixture is set up.
    head: String,
}

/// A Stockport productivity plan (drafted, the portfolio holder signed), a Stockport peer
/// challenge plan, a Derbyshire Dales plan (whose barriers section the Derbyshire group writes),
/// and a proposed barriers text; then one valid input per mutation of the schema.
async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let stockport = app.start_plan("ravi-patel", &["stockport"]).await;
    app.draft_sections("ravi-patel", &stockport).await;
    app.act(
        "maria-costa",
        "signOff",
        json!({ "planId": stockport, "stageId": "member-oversight", "role": "portfolio-holder" }),
    )
    .await;
    let peer = app
        .act(
            "ravi-patel",
            "startPlan",
            json!({ "workflow": PEER_CHALLENGE, "councils": ["stockport"] }),
        )
        .await["plan"]["id"]
        .as_str()
        .expect("a peer challenge plan id")
        .to_owned();
    let dales = app.start_plan("nadia-bell", &["derbyshire-dales"]).await;
    let dales_plan = app.plan("nadia-bell", &dales).await;
    assert_eq!(
        section(&dales_plan, BARRIERS)["sharedFrom"]["id"],
        DERBYSHIRE_GROUP,
        "a Derbyshire Dales plan takes its barriers section from the group"
    );
    app.act(
        "rachel-ingham",
        "proposeSharedSection",
        json!({ "groupId": DERBYSHIRE_GROUP, "sectionId": BARRIERS, "text": "Barriers, first draft." }),
    )
    .await;

    let feed = app.calendar_feed("ravi-patel", "stockport").await;
    let feed_id = ok(&app
        .graphql_as("ravi-patel", "{ calendarFeeds { id } }", json!({}))
        .await)["calendarFeeds"][0]["id"]
        .clone();
    assert!(!feed.is_empty() && !feed_id.is_null());

    let mut cases = vec![
        Case {
            mutation: "startPlan",
            input: json!({ "workflow": WORKFLOW, "councils": ["stockport"] }),
            wrong_council: "nadia-bell",
            wrong_role: "joe-sutton",
        },
        Case {
            mutation: "editSection",
            input: json!({ "planId": stockport, "sectionId": "achievements", "text": "An edit that must not land." }),
            wrong_council: "nadia-bell",
            wrong_role: "joe-sutton",
        },
        Case {
            mutation: "signOff",
            input: json!({ "planId": stockport, "stageId": "member-oversight", "role": "s151-officer" }),
            wrong_council: "claire-fenwick",
            wrong_role: "ravi-patel",
        },
        Case {
            mutation: "withdrawSignOff",
            input: json!({
                "planId": stockport, "stageId": "member-oversight", "role": "portfolio-holder",
                "council": "stockport", "reason": "A withdrawal that must not land."
            }),
            wrong_council: "ben-hartley",
            wrong_role: "kwame-mensah",
        },
        Case {
            mutation: "recordCommitteeDecision",
            input: json!({
                "planId": stockport, "council": "stockport", "committee": "Cabinet",
                "meetingDate": "2024-06-01", "decision": "APPROVED"
            }),
            wrong_council: "gareth-lowe",
            wrong_role: "ravi-patel",
        },
        Case {
            mutation: "scheduleMeeting",
            input: json!({
                "planId": stockport, "council": "stockport", "committee": "Cabinet",
                "meetingDate": "2030-01-15"
            }),
            wrong_council: "gareth-lowe",
            wrong_role: "ravi-patel",
        },
        Case {
            mutation: "submitPlan",
            input: json!({ "planId": stockport, "reference": "DLUHC-0001" }),
            wrong_council: "ellie-shaw",
            wrong_role: "ravi-patel",
        },
        Case {
            mutation: "publishPlan",
            input: json!({ "planId": stockport, "url": "https://www.stockport.gov.uk/productivity-plan" }),
            wrong_council: "ellie-shaw",
            wrong_role: "ravi-patel",
        },
        Case {
            mutation: "setDeadline",
            input: json!({ "planId": stockport, "stageId": "member-oversight", "due": "2024-07-12T16:00:00Z" }),
            wrong_council: "nadia-bell",
            wrong_role: "maria-costa",
        },
        Case {
            mutation: "recordExtension",
            input: json!({
                "planId": stockport,
                "due": "2024-07-26T22:59:59Z",
                "grantedBy": "the Department for Levelling Up, Housing and Communities",
                "grantedOn": "2024-07-05",
                "reference": "DLUHC email of 5 July 2024",
            }),
            // Derbyshire Dales's submitter, on a Stockport plan.
            wrong_council: "ellie-shaw",
            wrong_role: "maria-costa",
        },
        Case {
            mutation: "setKeyDate",
            input: json!({ "planId": peer, "keyDate": "challenge", "date": "2024-03-01" }),
            wrong_council: "nadia-bell",
            wrong_role: "maria-costa",
        },
        Case {
            mutation: "proposeSharedSection",
            input: json!({ "groupId": DERBYSHIRE_GROUP, "sectionId": BARRIERS, "text": "A text that must not land." }),
            // Stockport's chief executive: a chief executive, but of no member council.
            wrong_council: "fiona-grant",
            wrong_role: "claire-fenwick",
        },
        Case {
            mutation: "agreeSharedSection",
            input: json!({
                "groupId": DERBYSHIRE_GROUP, "sectionId": BARRIERS, "revision": 1,
                "council": "derbyshire-dales"
            }),
            wrong_council: "fiona-grant",
            wrong_role: "claire-fenwick",
        },
        Case {
            mutation: "adoptSharedSection",
            input: json!({ "planId": dales, "sectionId": BARRIERS }),
            // A Stockport drafter on a Derbyshire Dales plan.
            wrong_council: "ravi-patel",
            wrong_role: "claire-fenwick",
        },
        Case {
            mutation: "createCalendarFeed",
            input: json!({ "council": "stockport" }),
            wrong_council: "nadia-bell",
            // Any role at the council reads its calendar; the group's officer holds none there.
            wrong_role: "rachel-ingham",
        },
        Case {
            mutation: "revokeCalendarFeed",
            input: json!({ "id": feed_id }),
            wrong_council: "nadia-bell",
            // Ravi Patel's feed: his chief executive cannot revoke it either.
            wrong_role: "fiona-grant",
        },
    ];
    // An act on the revision a person read carries it: the plan's revision now, read by its
    // drafter, so the input is valid and a refusal is about who asks.
    for case in &mut cases {
        if READ_REVISION_ACTS.contains(&case.mutation) {
            let plan = case.input["planId"].as_str().unwrap().to_owned();
            let drafter = if plan == dales {
                "nadia-bell"
            } else {
                "ravi-patel"
            };
            let revision = app.plan(drafter, &plan).await["revision"].clone();
            case.input["expectedRevision"] = revision;
        }
    }

    let head = app.head_cursor().await;
    Fixture { app, cases, head }
}

/// Every mutation the schema declares, read from `schema.graphql`.
fn schema_mutations() -> Vec<String> {
    let schema = std::fs::read_to_string(repo_path("schema.graphql")).expect("read schema.graphql");
    let block = schema
        .split("type Mutation {")
        .nth(1)
        .expect("a Mutation type")
        .split('}')
        .next()
        .unwrap();
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('"') && l.contains("(input:"))
        .map(|l| l.split('(').next().unwrap().trim().to_owned())
        .collect()
}

async fn feed_count(app: &TestApp, person: &str) -> usize {
    let response = app
        .graphql_as(person, "{ calendarFeeds { id } }", json!({}))
        .await;
    ok(&response)["calendarFeeds"].as_array().unwrap().len()
}

async fn every_mutation_is_refused(caller: Caller) {
    let Fixture { app, cases, head } = fixture().await;
    let mut covered: Vec<String> = cases.iter().map(|c| c.mutation.to_owned()).collect();
    covered.sort();
    let mut declared = schema_mutations();
    declared.sort();
    assert_eq!(
        covered, declared,
        "the matrix covers every mutation of schema.graphql"
    );

    let mut failures = Vec::new();
    for case in &cases {
        let (who, response) = match caller {
            Caller::NoToken => (
                "(no token)",
                app.graphql_without_token(
                    &mutation_document(case.mutation),
                    json!({ "input": case.input }),
                )
                .await,
            ),
            Caller::Reader => (
                READER,
                app.mutate(READER, case.mutation, case.input.clone()).await,
            ),
            Caller::WrongCouncil => (
                case.wrong_council,
                app.mutate(case.wrong_council, case.mutation, case.input.clone())
                    .await,
            ),
            Caller::WrongRole => (
                case.wrong_role,
                app.mutate(case.wrong_role, case.mutation, case.input.clone())
                    .await,
            ),
        };
        let expected = match caller {
            Caller::NoToken => "UNAUTHENTICATED",
            // Another council's draft does not exist for them: the refusal says so, no more.
            Caller::WrongCouncil if case.input.get("planId").is_some() => "NOT_FOUND",
            // Someone else's calendar feed does not exist for them either.
            _ if case.mutation == "revokeCalendarFeed" => "NOT_FOUND",
            _ => "FORBIDDEN",
        };
        let refused = response.get("errors").is_some_and(|e| !e.is_null());
        let code = if refused {
            refusal(&response).0
        } else {
            "(allowed)".to_owned()
        };
        if code != expected {
            failures.push(format!(
                "{} as {who} ({caller:?}): expected {expected}, got {code}: {response}",
                case.mutation
            ));
        }
        // Calendar feeds are kept beside the ledger: the caller got none, Ravi Patel's stays.
        if case.mutation.ends_with("CalendarFeed") {
            assert_eq!(
                feed_count(&app, "ravi-patel").await,
                1,
                "{} as {who}",
                case.mutation
            );
            if who != "(no token)" {
                assert_eq!(feed_count(&app, who).await, 0, "{} as {who}", case.mutation);
            }
        }
        let written = app.events_after(&head).await;
        assert!(
            written.is_empty(),
            "{} as {who} ({caller:?}) moved the ledger head: {written:?}\nresponse: {response}",
            case.mutation
        );
    }
    assert!(
        failures.is_empty(),
        "{} refusals were wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_without_a_token_is_unauthenticated_and_writes_nothing() {
    every_mutation_is_refused(Caller::NoToken).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_by_a_reader_is_refused_and_writes_nothing() {
    every_mutation_is_refused(Caller::Reader).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_by_an_officer_of_another_council_is_refused_and_writes_nothing() {
    every_mutation_is_refused(Caller::WrongCouncil).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_by_the_wrong_role_of_the_right_council_is_refused_and_writes_nothing() {
    every_mutation_is_refused(Caller::WrongRole).await;
}
