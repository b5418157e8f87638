//! The search indexer: a DynamoDB Streams consumer that keeps the message search postings
//! in step with messages (added on send, moved on edit, removed on delete). Reports only
//! the records that failed, so the event source retries those alone.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use huddle_shared::AppState;
use huddle_shared::domain::search;
use huddle_shared::stream::{Change, ChangeKind};

/// The principal DynamoDB uses for deletions by TTL.
const TTL_PRINCIPAL: &str = "dynamodb.amazonaws.com";

fn image(item: serde_dynamo::Item) -> Option<serde_dynamo::Item> {
    (!item.is_empty()).then_some(item)
}

/// A Lambda stream record as a [`Change`]; `None` for an event name we do not know.
pub fn change_from_record(record: EventRecord) -> Option<Change> {
    let kind = match record.event_name.as_str() {
        "INSERT" => ChangeKind::Insert,
        "MODIFY" => ChangeKind::Modify,
        "REMOVE" => ChangeKind::Remove,
        _ => return None,
    };
    let by_ttl = record
        .user_identity
        .as_ref()
        .is_some_and(|identity| identity.principal_id == TTL_PRINCIPAL);
    Some(Change {
        id: record
            .change
            .sequence_number
            .clone()
            .unwrap_or(record.event_id),
        kind,
        old: image(record.change.old_image),
        new: image(record.change.new_image),
        by_ttl,
    })
}

/// Indexes one stream batch and reports the records to retry.
pub async fn handle(state: &AppState, event: Event) -> DynamoDbEventResponse {
    let changes: Vec<Change> = event
        .records
        .into_iter()
        .filter_map(change_from_record)
        .collect();
    let failed = search::index_changes(state, &changes).await;
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(id);
            failure
        })
        .collect();
    response
}
