//! Table stream records, as every stream consumer (maintenance, broadcast; notifications
//! later) sees them, whether they came from Lambda's event source or from the
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
    /// When the change was made (the record's approximate creation time).
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Change {
    /// The item as it was before the change, decoded.
    pub fn old_as<T: serde::de::DeserializeOwned>(&self) -> crate::ApiResult<Option<T>> {
        decode_image(&self.old)
    }

    /// The item as it is after the change, decoded.
    pub fn new_as<T: serde::de::DeserializeOwned>(&self) -> crate::ApiResult<Option<T>> {
        decode_image(&self.new)
    }

    /// Whether this is a user's removal (not an insert or update, nor a TTL expiry).
    pub fn is_user_removal(&self) -> bool {
        self.kind == ChangeKind::Remove && !self.by_ttl
    }

    /// The item's partition key (from the new image, else the old one).
    pub fn partition_key(&self) -> Option<&str> {
        self.string_attribute(crate::keys::PK)
    }

    /// The `type` of the item (from the new image, else the old one).
    pub fn entity(&self) -> Option<&str> {
        self.string_attribute(crate::keys::TYPE)
    }

    /// A string attribute of the item, from the new image, else the old one.
    fn string_attribute(&self, name: &str) -> Option<&str> {
        let image = self.new.as_ref().or(self.old.as_ref())?;
        match image.get(name)? {
            serde_dynamo::AttributeValue::S(value) => Some(value.as_str()),
            _ => None,
        }
    }
}

fn decode_image<T: serde::de::DeserializeOwned>(
    image: &Option<serde_dynamo::Item>,
) -> crate::ApiResult<Option<T>> {
    image
        .clone()
        .map(|item| {
            serde_dynamo::from_item(item).map_err(|e| {
                crate::ApiError::internal(anyhow::anyhow!("reading a stream image: {e}"))
            })
        })
        .transpose()
}

/// Runs `consume` on each change of a batch, one after another, and returns the ids of the
/// records it failed (logged with `what`), for `ReportBatchItemFailures`.
pub async fn each_change<'a, F, Fut>(
    changes: impl IntoIterator<Item = &'a Change>,
    what: &str,
    mut consume: F,
) -> Vec<String>
where
    F: FnMut(&'a Change) -> Fut,
    Fut: std::future::Future<Output = crate::ApiResult<()>>,
{
    let mut failed = Vec::new();
    for change in changes {
        if let Err(error) = consume(change).await {
            tracing::error!(record = %change.id, error = %error, "{what} failed");
            failed.push(change.id.clone());
        }
    }
    failed
}

/// Like [`each_change`], but up to `limit` changes at once: for consumers whose writes do
/// not depend on the order of the records (their ids derive from each record, so any
/// order and any redelivery give the same result).
pub async fn each_change_concurrently<'a, F, Fut>(
    changes: &'a [Change],
    what: &str,
    limit: usize,
    consume: F,
) -> Vec<String>
where
    F: Fn(&'a Change) -> Fut,
    Fut: std::future::Future<Output = crate::ApiResult<()>>,
{
    let consume = &consume;
    let one = |change: &'a Change| each_change([change], what, consume);
    at_most(limit, changes.iter().map(one)).await
}

/// Like [`each_change`], but partitions at once (up to `limit` of them), each partition's
/// records still one after another in stream order: for consumers whose effects must keep
/// the order of an item's or a channel's changes (a message's creation before its edit)
/// but not the order across partitions. That is the order Lambda itself keeps when it runs
/// a shard's batches in parallel (`ParallelizationFactor`): per partition key.
pub async fn each_change_in_partition_order<'a, F, Fut>(
    changes: &'a [Change],
    what: &str,
    limit: usize,
    consume: F,
) -> Vec<String>
where
    F: Fn(&'a Change) -> Fut,
    Fut: std::future::Future<Output = crate::ApiResult<()>>,
{
    let mut partitions: Vec<Vec<&'a Change>> = Vec::new();
    let mut index: std::collections::HashMap<Option<&'a str>, usize> =
        std::collections::HashMap::new();
    for change in changes {
        let slot = *index.entry(change.partition_key()).or_insert_with(|| {
            partitions.push(Vec::new());
            partitions.len() - 1
        });
        if let Some(partition) = partitions.get_mut(slot) {
            partition.push(change);
        }
    }
    let consume = &consume;
    let in_order = |partition: Vec<&'a Change>| each_change(partition, what, consume);
    at_most(limit, partitions.into_iter().map(in_order)).await
}

/// Runs the runs of `work` (each giving the records it failed) up to `limit` at a time and
/// returns every failed record. A plain loop over a FuturesUnordered (not a stream
/// combinator with a closure), so the future stays Send for any caller's lifetimes.
async fn at_most<Run>(limit: usize, mut work: impl Iterator<Item = Run>) -> Vec<String>
where
    Run: std::future::Future<Output = Vec<String>>,
{
    use futures::StreamExt;
    let mut in_flight = futures::stream::FuturesUnordered::new();
    let mut failed = Vec::new();
    loop {
        while in_flight.len() < limit.max(1) {
            let Some(run) = work.next() else { break };
            in_flight.push(run);
        }
        let Some(run_failed) = in_flight.next().await else {
            return failed;
        };
        failed.extend(run_failed);
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
        at: record.change.approximate_creation_date_time,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn change(id: &str, partition: &str) -> Change {
        let mut item = std::collections::HashMap::new();
        item.insert(
            crate::keys::PK.to_owned(),
            serde_dynamo::AttributeValue::S(partition.to_owned()),
        );
        Change {
            id: id.to_owned(),
            kind: ChangeKind::Insert,
            old: None,
            new: Some(serde_dynamo::Item::from(item)),
            by_ttl: false,
            at: chrono::Utc::now(),
        }
    }

    /// Each partition's records run in stream order, one at a time; partitions overlap; a
    /// failed record is reported and its partition goes on.
    #[tokio::test]
    async fn partitions_run_at_once_each_in_stream_order() {
        let changes = [
            change("a1", "A"),
            change("b1", "B"),
            change("a2", "A"),
            change("b2", "B"),
            change("a3", "A"),
        ];
        let log: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let failed = each_change_in_partition_order(&changes, "test", 8, |change| {
            let log = &log;
            async move {
                log.lock().unwrap().push(format!("start {}", change.id));
                tokio::task::yield_now().await;
                log.lock().unwrap().push(format!("end {}", change.id));
                if change.id == "b1" {
                    return Err(crate::ApiError::internal(anyhow::anyhow!("refused")));
                }
                Ok(())
            }
        })
        .await;
        assert_eq!(failed, ["b1"]);
        let log = log.into_inner().unwrap();
        let at = |event: &str| log.iter().position(|e| e == event).unwrap();
        for partition in [["a1", "a2", "a3"].as_slice(), &["b1", "b2"]] {
            for pair in partition.windows(2) {
                assert!(at(&format!("end {}", pair[0])) < at(&format!("start {}", pair[1])));
            }
        }
        assert!(at("start b1") < at("end a1"), "partitions overlap: {log:?}");
    }

    /// With a limit of one partition at a time, the whole batch runs in partition order.
    #[tokio::test]
    async fn a_limit_of_one_runs_partitions_one_after_another() {
        let changes = [change("a1", "A"), change("b1", "B"), change("a2", "A")];
        let log: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let failed = each_change_in_partition_order(&changes, "test", 1, |change| {
            let log = &log;
            async move {
                tokio::task::yield_now().await;
                log.lock().unwrap().push(change.id.clone());
                Ok(())
            }
        })
        .await;
        assert!(failed.is_empty());
        assert_eq!(log.into_inner().unwrap(), ["a1", "a2", "b1"]);
    }
}
