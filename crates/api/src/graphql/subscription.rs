//! Subscriptions: live, gapless feeds read from the ledger's subscription.
//!
//! A feed starts at the ledger head at the moment of subscribing (or just after the `after`
//! cursor), so no event committed after the subscription began can be missed; a slow client makes
//! the feed read from the log rather than drop events.

use async_graphql::{Context, Result, Subscription, ID};
use councilflow_governance::{streams, GovernanceError, PlanId};
use futures_util::Stream;

use super::objects::{parse_cursor, EventObject};
use super::query::parse_id;
use super::{service, service_error, viewer};

pub struct SubscriptionRoot;

/// The ledger's events from `subscription`, keeping those `keep` accepts, until the ledger closes.
fn feed(
    subscription: councilflow_ledger::Subscription,
    keep: impl Fn(&councilflow_ledger::StoredEvent) -> bool + Send + 'static,
) -> impl Stream<Item = EventObject> {
    futures_util::stream::unfold(
        (subscription, keep),
        |(mut subscription, keep)| async move {
            loop {
                match subscription.next().await {
                    Ok(event) if keep(&event) => {
                        return Some((EventObject(event), (subscription, keep)))
                    }
                    Ok(_) => continue,
                    // The server is shutting down (or the log cannot be read): end the feed.
                    Err(_) => return None,
                }
            }
        },
    )
}

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Events of one plan as they commit; with `after` (an event cursor), first every later one.
    async fn plan_events(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        after: Option<String>,
    ) -> Result<impl Stream<Item = EventObject>> {
        viewer(ctx)?;
        let plan = parse_id("plan", &plan_id, PlanId::parse)?;
        let service = service(ctx);
        if service.read().projections.plan(&plan).is_none() {
            return Err(service_error(
                GovernanceError::NotFound(format!("there is no plan {plan}")).into(),
            ));
        }
        let from = match after {
            Some(cursor) => parse_cursor(Some(&cursor))? + 1,
            None => service.ledger().head().position + 1,
        };
        let stream = streams::plan(&plan);
        Ok(feed(service.ledger().subscribe(from), move |e| {
            e.stream == stream
        }))
    }

    /// Every committed event as it commits; with `after` (an event cursor), first every later one.
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = EventObject>> {
        viewer(ctx)?;
        let service = service(ctx);
        let from = match after {
            Some(cursor) => parse_cursor(Some(&cursor))? + 1,
            None => service.ledger().head().position + 1,
        };
        Ok(feed(service.ledger().subscribe(from), |_| true))
    }
}
