//! The stream maintenance function: keeps the message search postings in step with
//! messages (added on send, moved on edit, removed on delete) and cleans up what a deleted
//! workspace or channel leaves behind. Reports only the records that failed, so the event
//! source retries those alone.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use huddle_shared::AppState;
use huddle_shared::stream::{Change, batch_response, changes_from_event, failed_in_any};
use huddle_shared::{channels, search, workspaces};

/// This consumer's work on a batch of changes: what Lambda's event source and the local
/// gateway's stream poller both call. Returns the ids of the records to retry.
pub async fn consume(state: &AppState, changes: &[Change]) -> Vec<String> {
    let (indexed, channels_cleaned, workspaces_cleaned) = tokio::join!(
        search::index_changes(state, changes),
        channels::cleanup::clean_up_changes(state, changes),
        workspaces::cleanup::clean_up_changes(state, changes)
    );
    failed_in_any([indexed, channels_cleaned, workspaces_cleaned])
}

/// Indexes and cleans up after one stream batch; reports the records to retry.
pub async fn handle(state: &AppState, event: Event) -> DynamoDbEventResponse {
    batch_response(consume(state, &changes_from_event(event)).await)
}
