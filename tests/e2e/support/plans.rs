//! GraphQL documents and the acts of the governance route, spoken as the contract names them.

use serde_json::{json, Value};

use super::{ok, refusal, TestApp};

pub const WORKFLOW: &str = "productivity-plan-2024";
pub const DERBYSHIRE_GROUP: &str = "derbyshire-chief-executives";
pub const BARRIERS: &str = "barriers";

/// The chief executive of each member council of the Derbyshire chief executives' group (seeds).
pub const DERBYSHIRE_CHIEF_EXECUTIVES: [(&str, &str); 9] = [
    ("amber-valley", "grace-whitaker"),
    ("bolsover", "ian-dunmore"),
    ("chesterfield", "kate-lindqvist"),
    ("derbyshire-dales", "martin-ashby"),
    ("erewash", "marcus-oduya"),
    ("high-peak", "priya-holloway"),
    ("north-east-derbyshire", "sophie-redfern"),
    ("south-derbyshire", "victor-hale"),
    ("derbyshire", "elaine-curtis"),
];

/// Everything the tests read of a plan.
pub const PLAN_FIELDS: &str = r#"
fragment PlanFields on Plan {
  id title status revision late submittedAt deadline originalDeadline
  extensions { due grantedBy grantedOn reference recordedBy { id } recordedAt }
  councils { id }
  sections { id text revision sharedFrom { id } }
  stages {
    id kind status
    requirements { role council { id } satisfied }
    signOffs { role council { id } person { id } planRevision stale comment }
    decisions { council { id } committee meetingDate decision minuteReference planRevision stale }
  }
  currentStage { id status }
  blockers { stage code message }
}
"#;

pub const EVENT_FIELDS: &str = "id cursor position stream version kind hash";

pub const SHARED_FIELDS: &str =
    "id text revision agreedRevision agreedBy { id } waitingOn { id } group { id }";

/// A plan mutation document: `mutation($input: XInput!) { x(input: $input) { plan events } }`.
pub fn plan_mutation(name: &str) -> String {
    format!(
        "mutation($input: {}Input!) {{ {name}(input: $input) {{ plan {{ ...PlanFields }} events {{ {EVENT_FIELDS} }} }} }}\n{PLAN_FIELDS}",
        capitalise(name)
    )
}

/// A shared-section mutation document.
pub fn shared_mutation(name: &str) -> String {
    format!(
        "mutation($input: {}Input!) {{ {name}(input: $input) {{ sharedSection {{ {SHARED_FIELDS} }} events {{ {EVENT_FIELDS} }} }} }}",
        capitalise(name)
    )
}

fn capitalise(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The document of mutation `name`: calendar feed mutations return the feed, shared-section
/// mutations the section, the rest (adopting a shared section included) the plan.
pub fn mutation_document(name: &str) -> String {
    if name.ends_with("CalendarFeed") {
        format!(
            "mutation($input: {}Input!) {{ {name}(input: $input) {{ feed {{ id council {{ id }} }} }} }}",
            capitalise(name)
        )
    } else if name.contains("SharedSection") && name != "adoptSharedSection" {
        shared_mutation(name)
    } else {
        plan_mutation(name)
    }
}

/// The mutations that act on the revision a person read (`expectedRevision`, required).
pub const READ_REVISION_ACTS: [&str; 5] = [
    "signOff",
    "recordCommitteeDecision",
    "adoptSharedSection",
    "submitPlan",
    "publishPlan",
];

impl TestApp {
    /// Runs a mutation as `person` and returns the raw response. For an act on the revision a
    /// person read, an input without `expectedRevision` gets the revision `person` reads now
    /// (0 when they cannot read the plan): what a client does that has just loaded the plan.
    pub async fn mutate(&self, person: &str, name: &str, mut input: Value) -> Value {
        if READ_REVISION_ACTS.contains(&name) && input.get("expectedRevision").is_none() {
            let plan = input["planId"].as_str().unwrap_or_default().to_owned();
            let read = self
                .graphql_as(
                    person,
                    "query($id: ID!) { plan(id: $id) { revision } }",
                    json!({ "id": plan }),
                )
                .await;
            let revision = read
                .pointer("/data/plan/revision")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            input["expectedRevision"] = json!(revision);
        }
        self.graphql_as(person, &mutation_document(name), json!({ "input": input }))
            .await
    }

    /// Runs a mutation that must succeed; returns its payload (`{plan, events}` or
    /// `{sharedSection, events}`).
    pub async fn act(&self, person: &str, name: &str, input: Value) -> Value {
        let response = self.mutate(person, name, input.clone()).await;
        if response.get("errors").is_some_and(|e| !e.is_null()) {
            panic!(
                "{person} could not {name} {input}: {}",
                serde_json::to_string_pretty(&response["errors"]).unwrap()
            );
        }
        ok(&response)[name].clone()
    }

    /// Runs a mutation that must be refused; returns the error code and message.
    pub async fn refused(&self, person: &str, name: &str, input: Value) -> (String, String) {
        let response = self.mutate(person, name, input.clone()).await;
        if response.get("errors").is_none_or(|e| e.is_null()) {
            panic!("{person} was allowed to {name} {input}, expected a refusal: {response}");
        }
        refusal(&response)
    }

    /// Starts a productivity plan owned by `councils` as `drafter`; returns its id.
    pub async fn start_plan(&self, drafter: &str, councils: &[&str]) -> String {
        let payload = self
            .act(
                drafter,
                "startPlan",
                json!({ "workflow": WORKFLOW, "councils": councils }),
            )
            .await;
        payload["plan"]["id"]
            .as_str()
            .expect("the started plan has an id")
            .to_owned()
    }

    /// The plan as `person` reads it now.
    pub async fn plan(&self, person: &str, id: &str) -> Value {
        let response = self
            .graphql_as(
                person,
                &format!("query($id: ID!) {{ plan(id: $id) {{ ...PlanFields }} }}\n{PLAN_FIELDS}"),
                json!({ "id": id }),
            )
            .await;
        let plan = ok(&response)["plan"].clone();
        assert!(!plan.is_null(), "plan {id} not found");
        plan
    }

    /// Every event of the plan's history, in order (all pages).
    pub async fn history(&self, person: &str, id: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after = Value::Null;
        loop {
            let response = self
                .graphql_as(
                    person,
                    &format!(
                        "query($id: ID!, $after: String) {{ plan(id: $id) {{ history(after: $after, first: 100) {{ edges {{ node {{ {EVENT_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
                    ),
                    json!({ "id": id, "after": after }),
                )
                .await;
            let history = &ok(&response)["plan"]["history"];
            let edges = history["edges"].as_array().expect("history edges");
            out.extend(edges.iter().map(|e| e["node"].clone()));
            if history["pageInfo"]["hasNextPage"] != json!(true) || edges.is_empty() {
                return out;
            }
            after = history["pageInfo"]["endCursor"].clone();
        }
    }

    /// Every committed event of the server's feed, in commit order (all pages).
    pub async fn all_events(&self, person: &str) -> Vec<Value> {
        self.feed(person, Value::Null).await
    }

    /// Every event of the feed after `cursor` that `person` reads, in commit order (all pages).
    pub async fn events_feed(&self, person: &str, cursor: &str) -> Vec<Value> {
        self.feed(person, json!(cursor)).await
    }

    async fn feed(&self, person: &str, mut after: Value) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let response = self
                .graphql_as(
                    person,
                    &format!(
                        "query($after: String) {{ events(after: $after, first: 100) {{ edges {{ cursor node {{ {EVENT_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
                    ),
                    json!({ "after": after }),
                )
                .await;
            let events = &ok(&response)["events"];
            let edges = events["edges"].as_array().expect("event edges");
            out.extend(edges.iter().map(|e| e["node"].clone()));
            if events["pageInfo"]["hasNextPage"] != json!(true) {
                return out;
            }
            after = events["pageInfo"]["endCursor"].clone();
        }
    }

    /// The cursor of the last committed event.
    pub async fn head_cursor(&self) -> String {
        self.all_events("regional-dashboard")
            .await
            .last()
            .expect("the seeds wrote events")["cursor"]
            .as_str()
            .expect("an event cursor")
            .to_owned()
    }

    /// Up to 10 events committed after `cursor` (none, if the log did not move).
    pub async fn events_after(&self, cursor: &str) -> Vec<Value> {
        let response = self
            .graphql_as(
                "regional-dashboard",
                &format!(
                    "query($after: String) {{ events(after: $after, first: 10) {{ edges {{ node {{ {EVENT_FIELDS} }} }} }} }}"
                ),
                json!({ "after": cursor }),
            )
            .await;
        ok(&response)["events"]["edges"]
            .as_array()
            .expect("event edges")
            .clone()
    }

    /// Derbyshire Dales's plan, started by its drafter, with its committee's meeting on 18 July
    /// 2024 (as in the council's papers); returns its id.
    pub async fn derbyshire_dales_plan_with_its_committee(&self) -> String {
        let plan = self.start_plan("nadia-bell", &["derbyshire-dales"]).await;
        self.act(
            "gareth-lowe",
            "scheduleMeeting",
            json!({ "planId": plan, "council": "derbyshire-dales", "committee": "Governance and Resources Committee", "meetingDate": "2024-07-18" }),
        )
        .await;
        plan
    }

    /// The group's barriers text proposed by its policy officer and agreed by every member
    /// council's chief executive. Returns the agreed revision.
    pub async fn agree_barriers(&self, text: &str) -> i64 {
        let proposed = self
            .act(
                "rachel-ingham",
                "proposeSharedSection",
                json!({ "groupId": DERBYSHIRE_GROUP, "sectionId": BARRIERS, "text": text }),
            )
            .await;
        let revision = proposed["sharedSection"]["revision"]
            .as_i64()
            .expect("a proposed revision");
        let mut last = Value::Null;
        for (council, chief) in DERBYSHIRE_CHIEF_EXECUTIVES {
            last = self
                .act(
                    chief,
                    "agreeSharedSection",
                    json!({ "groupId": DERBYSHIRE_GROUP, "sectionId": BARRIERS, "revision": revision, "council": council }),
                )
                .await;
        }
        assert_eq!(
            last["sharedSection"]["agreedRevision"],
            json!(revision),
            "every member council agreed revision {revision}: {last}"
        );
        revision
    }

    /// A Stockport plan through member oversight, a week's extension, submission and publication.
    pub async fn published_stockport_plan(&self) -> String {
        let plan = self.start_plan("ravi-patel", &["stockport"]).await;
        self.draft_sections("ravi-patel", &plan).await;
        self.act(
            "joe-sutton",
            "recordExtension",
            json!({
                "planId": plan,
                "due": "2024-07-26T22:59:59Z",
                "grantedBy": "the Department for Levelling Up, Housing and Communities",
                "grantedOn": "2024-07-12",
                "reference": "DLUHC email of 12 July 2024",
            }),
        )
        .await;
        for (person, role) in [
            ("maria-costa", "portfolio-holder"),
            ("kwame-mensah", "s151-officer"),
        ] {
            self.act(
                person,
                "signOff",
                json!({ "planId": plan, "stageId": "member-oversight", "role": role }),
            )
            .await;
        }
        self.act(
            "joe-sutton",
            "submitPlan",
            json!({ "planId": plan, "reference": "PP-0042" }),
        )
        .await;
        self.act(
            "joe-sutton",
            "publishPlan",
            json!({ "planId": plan, "url": "https://www.example.org/productivity-plan" }),
        )
        .await;
        plan
    }

    /// A calendar feed of `council` for `person`, created through GraphQL: its address, relative
    /// to the server.
    pub async fn calendar_feed(&self, person: &str, council: &str) -> String {
        let response = self
            .graphql_as(
                person,
                "mutation($c: ID!) { createCalendarFeed(input: { council: $c }) { address feed { id } } }",
                json!({ "c": council }),
            )
            .await;
        ok(&response)["createCalendarFeed"]["address"]
            .as_str()
            .expect("a feed address")
            .to_owned()
    }

    /// Writes every section of the plan that is not shared, as `drafter`.
    pub async fn draft_sections(&self, drafter: &str, plan: &str) -> Value {
        let current = self.plan(drafter, plan).await;
        let mut last = current.clone();
        for section in current["sections"].as_array().unwrap() {
            if !section["sharedFrom"].is_null() {
                continue;
            }
            let id = section["id"].as_str().unwrap();
            last = self
                .act(
                    drafter,
                    "editSection",
                    json!({ "planId": plan, "sectionId": id, "text": format!("Our answer on {id}.") }),
                )
                .await["plan"]
                .clone();
        }
        last
    }
}

/// The stage `id` of a plan object.
pub fn stage<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no stage {id} in {}", plan["stages"]))
}

/// The section `id` of a plan object.
pub fn section<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no section {id} in {}", plan["sections"]))
}

/// The ids of a plan's stages, in route order.
pub fn stage_ids(plan: &Value) -> Vec<String> {
    plan["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The codes of a plan's blockers.
pub fn blocker_codes(plan: &Value) -> Vec<String> {
    plan["blockers"]
        .as_array()
        .expect("blockers")
        .iter()
        .map(|b| b["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of a list of `{id}` objects (councils, events, ...).
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The `kind`s of a list of events.
pub fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}
