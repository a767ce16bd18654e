//! Which events of the ledger a viewer reads: those about what they may read (see
//! `councilflow_governance::visibility`), decided by the event's stream. Cursors stay ledger
//! positions; a feed skips the positions a viewer may not read.

use councilflow_governance::{streams, GroupId, PersonId, PlanId, Projections, ReadScope};
use councilflow_ledger::StoredEvent;
use serde::Deserialize;

/// The one field of an organisation event that says whose record it is.
#[derive(Deserialize)]
struct About {
    person: Option<PersonId>,
}

/// Whether `scope` reads `event`, judged against the organisation and plans as they are now
/// (a role given or taken away changes what a feed shows from then on).
pub fn reads_event(projections: &Projections, scope: &ReadScope, event: &StoredEvent) -> bool {
    let stream = event.stream.as_str();
    // A reminder is read with what it reminds about.
    let subject = stream.strip_prefix("reminders-").unwrap_or(stream);
    if subject == streams::ORG {
        // Councils and groups are public; a person's record and roles are read with the person.
        return match serde_json::from_str::<About>(&event.payload) {
            Ok(About { person: None }) => true,
            Ok(About {
                person: Some(person),
            }) => projections
                .organisation()
                .person(&person)
                .is_some_and(|p| scope.person(p)),
            Err(_) => false,
        };
    }
    if let Some(plan) = subject.strip_prefix("plan-") {
        return PlanId::parse(plan)
            .ok()
            .and_then(|id| projections.plan(&id))
            .is_some_and(|p| scope.plan_fully(p));
    }
    if let Some(shared) = subject.strip_prefix("shared-") {
        let group = shared.split_once('.').map_or(shared, |(g, _)| g);
        return GroupId::parse(group)
            .is_ok_and(|g| scope.shared_sections(projections.organisation(), &g));
    }
    // A stream this build does not know: only those who read everything.
    scope.reads_everything()
}
