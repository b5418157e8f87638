//! The search indexer: a DynamoDB Streams consumer that keeps the message search postings
//! in step with messages (added on send, moved on edit, removed on delete). Reports only
//! the records that failed, so the event source retries those alone.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use huddle_shared::AppState;
use huddle_shared::domain::search;
use huddle_shared::stream::{batch_response, changes_from_event};

/// Indexes one stream batch and reports the records to retry.
pub async fn handle(state: &AppState, event: Event) -> DynamoDbEventResponse {
    let changes = changes_from_event(event);
    batch_response(search::index_changes(state, &changes).await)
}
