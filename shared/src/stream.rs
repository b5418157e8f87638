//! Table stream records, as every stream consumer (the search indexer now; broadcast and
//! notifications later) sees them, whether they came from Lambda's event source or from the
//! local gateway's poller.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

/// What happened to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Modify,
    Remove,
}

/// One stream record: the item before and after, in serde_dynamo's neutral form.
#[derive(Debug, Clone)]
pub struct Change {
    /// The record's sequence number: what a partial batch failure reports.
    pub id: String,
    pub kind: ChangeKind,
    pub old: Option<serde_dynamo::Item>,
    pub new: Option<serde_dynamo::Item>,
    /// A removal by the table's TTL, not by a user.
    pub by_ttl: bool,
}

impl Change {
    /// The `type` of the item (from the new image, else the old one).
    pub fn entity(&self) -> Option<&str> {
        let image = self.new.as_ref().or(self.old.as_ref())?;
        match image.get(crate::keys::TYPE)? {
            serde_dynamo::AttributeValue::S(entity) => Some(entity.as_str()),
            _ => None,
        }
    }
}

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

/// Every record of a Lambda stream event, as changes.
pub fn changes_from_event(event: Event) -> Vec<Change> {
    event
        .records
        .into_iter()
        .filter_map(change_from_record)
        .collect()
}

/// The partial-batch response that retries exactly the failed records.
pub fn batch_response(failed: Vec<String>) -> DynamoDbEventResponse {
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

/// The records any of several consumers failed, once each (for one batch response).
pub fn failed_in_any(failures: impl IntoIterator<Item = Vec<String>>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for id in failures.into_iter().flatten() {
        if !all.contains(&id) {
            all.push(id);
        }
    }
    all
}
