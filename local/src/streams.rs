//! The local stand-in for Lambda's DynamoDB Streams event source: polls the table's stream
//! through the DynamoDB Streams API (DynamoDB Local serves it) and hands each batch of real
//! stream records to the same consumer code the deployed functions run.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_dynamodbstreams::types::{OperationType, Record, ShardIteratorType};
use huddle_shared::AppState;
use huddle_shared::realtime::ManagementPoster;
use huddle_shared::stream::{Change, ChangeKind, failed_in_any};

const POLL_INTERVAL: Duration = Duration::from_millis(200);
const ATTEMPTS_PER_BATCH: u32 = 3;

fn change_from_record(record: Record) -> Option<Change> {
    let kind = match record.event_name? {
        OperationType::Insert => ChangeKind::Insert,
        OperationType::Modify => ChangeKind::Modify,
        OperationType::Remove => ChangeKind::Remove,
        _ => return None,
    };
    let by_ttl = record
        .user_identity
        .as_ref()
        .and_then(|identity| identity.principal_id.as_deref())
        == Some("dynamodb.amazonaws.com");
    let stream = record.dynamodb?;
    let at = stream
        .approximate_creation_date_time
        .and_then(|time| chrono::DateTime::from_timestamp_millis(time.to_millis().ok()?))
        .unwrap_or_else(chrono::Utc::now);
    Some(Change {
        id: stream.sequence_number.unwrap_or_default(),
        kind,
        old: stream.old_image.map(serde_dynamo::Item::from),
        new: stream.new_image.map(serde_dynamo::Item::from),
        by_ttl,
        at,
    })
}

/// The stream consumers: one line per stream function (its `consume`, the same entry point
/// its Lambda `main.rs` reaches through `handle`). A record counts as failed if any
/// consumer failed it (each consumer is idempotent, as a redelivery by Lambda requires).
async fn consume(state: &AppState, poster: &ManagementPoster, changes: &[Change]) -> Vec<String> {
    let (maintenance, broadcast, notifier, thumbnails) = tokio::join!(
        huddle_indexer::consume(state, changes),
        huddle_broadcast::consume(state, poster, changes),
        huddle_notifier::consume(state, changes),
        huddle_thumbnails::consume(state, changes),
    );
    failed_in_any([maintenance, broadcast, notifier, thumbnails])
}

/// Polls forever; restarts after errors (DynamoDB Local restarting, say).
pub async fn run(state: AppState, poster: ManagementPoster, sdk_config: aws_config::SdkConfig) {
    loop {
        if let Err(error) = poll(&state, &poster, &sdk_config).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "stream poller stopped; restarting"
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn poll(
    state: &AppState,
    poster: &ManagementPoster,
    sdk_config: &aws_config::SdkConfig,
) -> anyhow::Result<()> {
    let table = state.store.table().to_owned();
    let description = state
        .store
        .client()
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .context("DescribeTable")?;
    let stream_arn = description
        .table
        .and_then(|t| t.latest_stream_arn)
        .context("the table has no stream")?;
    let mut streams_config = aws_sdk_dynamodbstreams::config::Builder::from(sdk_config);
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        streams_config = streams_config.endpoint_url(endpoint);
    }
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(streams_config.build());

    // shard id -> next iterator (None once the shard is closed and drained)
    let mut shards: HashMap<String, Option<String>> = HashMap::new();
    loop {
        let stream = streams
            .describe_stream()
            .stream_arn(&stream_arn)
            .send()
            .await
            .context("DescribeStream")?;
        for shard in stream
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default()
        {
            let Some(shard_id) = shard.shard_id else {
                continue;
            };
            if shards.contains_key(&shard_id) {
                continue;
            }
            let iterator = streams
                .get_shard_iterator()
                .stream_arn(&stream_arn)
                .shard_id(&shard_id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .context("GetShardIterator")?
                .shard_iterator;
            shards.insert(shard_id, iterator);
        }
        // Shards are independent (each keeps its own order): read and deliver them at once.
        let streams = &streams;
        let reads = shards.values_mut().map(|iterator| async move {
            let Some(current) = iterator.take() else {
                return Ok::<bool, anyhow::Error>(false);
            };
            let output = streams
                .get_records()
                .shard_iterator(current)
                .limit(1000)
                .send()
                .await
                .context("GetRecords")?;
            *iterator = output.next_shard_iterator;
            let changes: Vec<Change> = output
                .records
                .unwrap_or_default()
                .into_iter()
                .filter_map(change_from_record)
                .collect();
            if changes.is_empty() {
                return Ok(false);
            }
            deliver(state, poster, changes).await;
            Ok(true)
        });
        let mut busy = false;
        for read in futures::future::join_all(reads).await {
            busy |= read?;
        }
        // While records keep coming, read on at once; wait only when the stream is idle.
        if !busy {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

/// Hands a batch to the consumers, retrying the records they report as failed, as Lambda's
/// event source would; what still fails is logged and dropped (Lambda would send it to the
/// on-failure destination).
async fn deliver(state: &AppState, poster: &ManagementPoster, mut changes: Vec<Change>) {
    for attempt in 1..=ATTEMPTS_PER_BATCH {
        let failed = consume(state, poster, &changes).await;
        if failed.is_empty() {
            return;
        }
        changes.retain(|change| failed.contains(&change.id));
        if attempt < ATTEMPTS_PER_BATCH {
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
    }
    for change in &changes {
        tracing::error!(record = %change.id, "stream record failed after retries; dropped");
    }
}
