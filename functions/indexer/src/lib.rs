//! The stream maintenance function: keeps the message search postings in step with
//! messages (added on send, moved on edit, removed on delete) and cleans up what a deleted
//! workspace or channel leaves behind. Reports only the records that failed, so the event
//! source retries those alone.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use huddle_shared::AppState;
use huddle_shared::domain::{cleanup, search};
use huddle_shared::stream::{batch_response, changes_from_event, failed_in_any};

/// Indexes and cleans up after one stream batch; reports the records to retry.
pub async fn handle(state: &AppState, event: Event) -> DynamoDbEventResponse {
    let changes = changes_from_event(event);
    let (indexed, cleaned) = tokio::join!(
        search::index_changes(state, &changes),
        cleanup::clean_up_changes(state, &changes)
    );
    batch_response(failed_in_any([indexed, cleaned]))
}
