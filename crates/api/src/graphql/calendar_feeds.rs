//! A person's calendar feeds: read-only addresses a calendar app subscribes to, one council's
//! deadlines and committee dates each, so that no bearer token ever goes into an address. A person
//! creates, lists and revokes their own; another person's feed does not exist for them.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use councilflow_governance::{CouncilId, GovernanceError};

use super::objects::CouncilObject;
use super::query::parse_id;
use super::scalars::Moment;
use super::{forbidden, read_scope, service, service_error, viewer};
use crate::service::ServiceError;
use crate::tokens::CalendarFeed;

/// The address of a council's calendar for a feed token, relative to the server.
pub fn feed_address(council: &CouncilId, token: &str) -> String {
    format!("/calendar/{council}.ics?feed={token}")
}

pub struct CalendarFeedObject(pub CalendarFeed);

/// A calendar feed in force.
#[Object(name = "CalendarFeed")]
impl CalendarFeedObject {
    /// Names the feed (to revoke it); not a credential.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn council(&self) -> CouncilObject {
        CouncilObject::named(&self.0.council)
    }
    async fn created_at(&self) -> Moment {
        Moment(self.0.created_at)
    }
}

#[derive(InputObject)]
pub struct CreateCalendarFeedInput {
    /// A council where the viewer holds a role.
    pub council: ID,
}

#[derive(SimpleObject)]
pub struct CreateCalendarFeedPayload {
    pub feed: CalendarFeedObject,
    /// The feed token: shown this once and stored only as a digest. It reads this one calendar,
    /// as the viewer, while they hold a role at the council; it signs in to nothing.
    pub token: String,
    /// The calendar's address with the token, relative to the server (`/calendar/...`).
    pub address: String,
}

#[derive(InputObject)]
pub struct RevokeCalendarFeedInput {
    /// The feed's id (from `calendarFeeds`).
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct RevokeCalendarFeedPayload {
    pub feed: CalendarFeedObject,
}

fn io_error(e: std::io::Error) -> async_graphql::Error {
    tracing::error!(error = %e, "recording a calendar feed token");
    service_error(ServiceError::Internal)
}

/// The viewer's calendar feeds in force, oldest first.
pub fn calendar_feeds(ctx: &Context<'_>) -> Result<Vec<CalendarFeedObject>> {
    let person = viewer(ctx)?;
    Ok(service(ctx)
        .tokens()
        .calendar_feeds_of(&person)
        .into_iter()
        .map(CalendarFeedObject)
        .collect())
}

#[derive(Default)]
pub struct CalendarFeedMutations;

#[Object]
impl CalendarFeedMutations {
    /// Creates a calendar feed of a council's deadlines and committee dates for the viewer, who
    /// must hold a role there. Not a governance act: it is not recorded in the ledger.
    async fn create_calendar_feed(
        &self,
        ctx: &Context<'_>,
        input: CreateCalendarFeedInput,
    ) -> Result<CreateCalendarFeedPayload> {
        let person = viewer(ctx)?;
        let council = parse_id("council", &input.council, CouncilId::parse)?;
        let scope = read_scope(ctx)?;
        let service = service(ctx);
        if service
            .read()
            .projections
            .organisation()
            .council(&council)
            .is_none()
        {
            return Err(service_error(
                GovernanceError::NotFound(format!("there is no council {council}")).into(),
            ));
        }
        if !scope.council(&council) {
            return Err(forbidden(format!(
                "the calendar of {council} is read by those who hold a role there"
            )));
        }
        let (feed, token) = service
            .tokens()
            .issue_calendar_feed(&person, &council)
            .map_err(io_error)?;
        Ok(CreateCalendarFeedPayload {
            address: feed_address(&council, &token),
            feed: CalendarFeedObject(feed),
            token,
        })
    }

    /// Revokes one of the viewer's calendar feeds: its address stops working at once.
    async fn revoke_calendar_feed(
        &self,
        ctx: &Context<'_>,
        input: RevokeCalendarFeedInput,
    ) -> Result<RevokeCalendarFeedPayload> {
        let person = viewer(ctx)?;
        let tokens = service(ctx).tokens();
        let Some(feed) = tokens
            .calendar_feeds_of(&person)
            .into_iter()
            .find(|f| f.id == input.id.as_str())
        else {
            return Err(service_error(
                GovernanceError::NotFound(format!("you have no calendar feed {}", *input.id))
                    .into(),
            ));
        };
        tokens.revoke_calendar_feed(&feed.id).map_err(io_error)?;
        Ok(RevokeCalendarFeedPayload {
            feed: CalendarFeedObject(feed),
        })
    }
}
