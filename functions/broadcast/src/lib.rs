//! The broadcaster: a DynamoDB Streams consumer that turns table changes into realtime
//! events (see `huddle_shared::realtime::events`), finds each event's audience with one Query, and
//! posts to the connections with bounded concurrency. Connections that answer 410 are
//! deleted; only records that truly failed are reported for retry.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use huddle_shared::AppState;
use huddle_shared::realtime;
use huddle_shared::realtime::Poster;
use huddle_shared::stream::{Change, batch_response, changes_from_event};

/// This consumer's work on a batch of changes: what Lambda's event source and the local
/// gateway's stream poller both call. Returns the ids of the records to retry.
pub async fn consume<P: Poster>(state: &AppState, poster: &P, changes: &[Change]) -> Vec<String> {
    realtime::broadcast_changes(state, poster, changes).await
}

/// Broadcasts one stream batch and reports the records to retry.
pub async fn handle<P: Poster>(
    state: &AppState,
    poster: &P,
    event: Event,
) -> DynamoDbEventResponse {
    batch_response(consume(state, poster, &changes_from_event(event)).await)
}
