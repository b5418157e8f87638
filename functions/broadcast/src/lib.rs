//! The broadcaster: a DynamoDB Streams consumer that turns table changes into realtime
//! events (see `huddle_shared::events`), finds each event's audience with one Query, and
//! posts to the connections with bounded concurrency. Connections that answer 410 are
//! deleted; only records that truly failed are reported for retry.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use huddle_shared::AppState;
use huddle_shared::domain::realtime;
use huddle_shared::realtime::Poster;
use huddle_shared::stream::{batch_response, changes_from_event};

/// Broadcasts one stream batch and reports the records to retry.
pub async fn handle<P: Poster>(
    state: &AppState,
    poster: &P,
    event: Event,
) -> DynamoDbEventResponse {
    let changes = changes_from_event(event);
    batch_response(realtime::broadcast_changes(state, poster, &changes).await)
}
