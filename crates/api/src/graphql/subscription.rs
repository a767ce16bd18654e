//! Subscriptions: live, gapless feeds read from the ledger's subscription.
//!
//! A feed starts at the ledger head at the moment of subscribing (or just after the `after`
//! cursor), so no event committed after the subscription began can be missed; a slow client makes
//! the feed read from the log rather than drop events.

use async_graphql::{Context, Result, Subscription, ID};
use councilflow_governance::{streams, GovernanceError, PersonId, PlanId, ReadScope};
use futures_util::Stream;

use super::objects::{parse_cursor, EventObject};
use super::query::parse_id;
use super::{service, service_error, viewer};
use crate::service::{reads_event, Service};

pub struct SubscriptionRoot;

/// Whether `person` reads all of `plan` now.
fn reads_fully(service: &Service, person: &PersonId, plan: &PlanId) -> bool {
    let state = service.read();
    let scope = ReadScope::of(state.projections.organisation(), person);
    state
        .projections
        .plan(plan)
        .is_some_and(|p| scope.plan_fully(p))
}

/// The ledger's events from `subscription`, keeping those `keep` accepts, until the ledger closes.
/// Each event is judged once the projections have applied it: the ledger hands an event to its
/// subscribers as it commits, and a plan's first event would otherwise be judged before the plan
/// exists for `keep` to read.
fn feed(
    service: Service,
    subscription: councilflow_ledger::Subscription,
    keep: impl Fn(&councilflow_ledger::StoredEvent) -> bool + Send + 'static,
) -> impl Stream<Item = EventObject> {
    futures_util::stream::unfold(
        (service, subscription, keep),
        |(service, mut subscription, keep)| async move {
            loop {
                match subscription.next().await {
                    Ok(event) => {
                        service.wait_for(event.position).await;
                        if keep(&event) {
                            return Some((EventObject(event), (service, subscription, keep)));
                        }
                    }
                    // The server is shutting down (or the log cannot be read): end the feed.
                    Err(_) => return None,
                }
            }
        },
    )
}

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Events of one plan as they commit, for its councils' people (NOT_FOUND for others); with
    /// `after` (an event cursor), first every later one.
    async fn plan_events(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        after: Option<String>,
    ) -> Result<impl Stream<Item = EventObject>> {
        let person = viewer(ctx)?;
        let plan = parse_id("plan", &plan_id, PlanId::parse)?;
        let service = service(ctx).clone();
        // Its councils' people follow a plan's events; for anyone else there is no such plan.
        if !reads_fully(&service, &person, &plan) {
            return Err(service_error(
                GovernanceError::NotFound(format!("there is no plan {plan}")).into(),
            ));
        }
        let from = match after {
            Some(cursor) => parse_cursor(Some(&cursor))? + 1,
            None => service.ledger().head().position + 1,
        };
        let stream = streams::plan(&plan);
        let subscription = service.ledger().subscribe(from);
        // Judged again for each event: a role taken away stops the feed's events from then on.
        Ok(feed(service.clone(), subscription, move |e| {
            e.stream == stream && reads_fully(&service, &person, &plan)
        }))
    }

    /// Every committed event the viewer reads, as it commits (positions they may not read are
    /// skipped); with `after` (an event cursor), first every later one.
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = EventObject>> {
        let person = viewer(ctx)?;
        let service = service(ctx).clone();
        let from = match after {
            Some(cursor) => parse_cursor(Some(&cursor))? + 1,
            None => service.ledger().head().position + 1,
        };
        let subscription = service.ledger().subscribe(from);
        // What the viewer reads is judged for each event, against their roles as they are then.
        Ok(feed(service.clone(), subscription, move |e| {
            let state = service.read();
            let scope = ReadScope::of(state.projections.organisation(), &person);
            reads_event(&state.projections, &scope, e)
        }))
    }
}
