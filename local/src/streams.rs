//! The local stand-in for Lambda's DynamoDB Streams event source: polls the table's stream
//! through the DynamoDB Streams API (DynamoDB Local serves it) and hands each batch of real
//! stream records to the same consumer code the deployed functions run.
//!
//! How often it reads is [`idle_wait`]'s policy: again at once while records come, and,
//! once the stream is idle, after a wait that starts short and doubles up to a bound
//! (`STREAM_POLL_IDLE_MAX_MS`, default [`IDLE_WAIT_MAX`]). An idle stream costs a read per
//! bound. The gateway also [`Nudge`]s the poller when it has answered a request that may
//! have written (any method but GET, HEAD and OPTIONS) or handled a WebSocket frame, so a
//! record written through the gateway is read at once rather than after the rest of a
//! wait; a record written by anything else (a test writing to the table directly, a TTL
//! deletion) waits at most the bound plus one read.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_sdk_dynamodbstreams::types::{OperationType, Record, ShardIteratorType};
use huddle_shared::AppState;
use huddle_shared::realtime::ManagementPoster;
use huddle_shared::stream::{Change, ChangeKind, failed_in_any};
use tokio::sync::Notify;

/// The first wait after a read that found nothing; each further empty read doubles it.
pub const IDLE_WAIT_FIRST: Duration = Duration::from_millis(5);
/// The longest wait between two reads of an idle stream, unless `STREAM_POLL_IDLE_MAX_MS`
/// says otherwise (chosen by measurement: see tests/bench-results.md).
pub const IDLE_WAIT_MAX: Duration = Duration::from_millis(50);
/// How often the shard list is read again while no shard closes (a closed shard has its
/// children listed at once).
const DESCRIBE_EVERY: Duration = Duration::from_secs(1);
const ATTEMPTS_PER_BATCH: u32 = 3;

/// The wait before the next read, after `idle_reads` reads in a row that found nothing
/// (0: the last read found records, so read again at once). Never zero while idle, so the
/// poller never spins; never more than `max`.
pub fn idle_wait(idle_reads: u32, max: Duration) -> Duration {
    if idle_reads == 0 {
        return Duration::ZERO;
    }
    let doublings = (idle_reads - 1).min(16);
    IDLE_WAIT_FIRST
        .saturating_mul(1 << doublings)
        .min(max)
        .max(Duration::from_millis(1))
}

/// Tells the poller that something may just have been written: its current or next idle
/// wait ends at once. Nudges while it reads are kept (one is enough): the read after them
/// sees what they announced.
#[derive(Clone, Default)]
pub struct Nudge(std::sync::Arc<Notify>);

impl Nudge {
    /// Something may have been written: read the stream now.
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Waits `wait`, or less if nudged meanwhile (or since the last wait).
    async fn wait(&self, wait: Duration) {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = self.0.notified() => {}
        }
    }
}

/// Middleware for the functions' routes: nudges the poller once a request that may have
/// written has been answered.
pub async fn wake_after_writes(
    axum::extract::State(nudge): axum::extract::State<Nudge>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    let may_write = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let response = next.run(request).await;
    if may_write {
        nudge.wake();
    }
    response
}

/// The idle bound from `STREAM_POLL_IDLE_MAX_MS` (read once, at start), or the default.
fn idle_wait_max() -> Duration {
    match std::env::var("STREAM_POLL_IDLE_MAX_MS") {
        Ok(raw) => match raw.trim().parse::<u64>() {
            Ok(ms) if ms >= 1 => Duration::from_millis(ms),
            _ => {
                tracing::warn!(value = %raw, "STREAM_POLL_IDLE_MAX_MS is not a number of milliseconds (1 or more); using the default");
                IDLE_WAIT_MAX
            }
        },
        Err(_) => IDLE_WAIT_MAX,
    }
}

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
        timed("indexer", huddle_indexer::consume(state, changes)),
        timed(
            "broadcast",
            huddle_broadcast::consume(state, poster, changes)
        ),
        timed("notifier", huddle_notifier::consume(state, changes)),
        timed("thumbnails", huddle_thumbnails::consume(state, changes)),
    );
    failed_in_any([maintenance, broadcast, notifier, thumbnails])
}

/// Runs one consumer over a batch, logging (at debug) how long it took. The consumer's
/// future is boxed: four of them inline made the poller's future overflow a worker's stack
/// in debug builds.
async fn timed<T>(consumer: &str, work: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = Box::pin(work).await;
    tracing::debug!(
        consumer,
        took_ms = started.elapsed().as_millis() as u64,
        "consumer done"
    );
    out
}

/// Polls forever; restarts after errors (DynamoDB Local restarting, say).
pub async fn run(
    state: AppState,
    poster: ManagementPoster,
    sdk_config: aws_types::SdkConfig,
    nudge: Nudge,
) {
    let max_wait = idle_wait_max();
    loop {
        if let Err(error) = poll(&state, &poster, &sdk_config, max_wait, &nudge).await {
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
    sdk_config: &aws_types::SdkConfig,
    max_wait: Duration,
    nudge: &Nudge,
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
    let mut described: Option<Instant> = None;
    let mut idle_reads: u32 = 0;
    loop {
        if described.is_none_or(|at| at.elapsed() >= DESCRIBE_EVERY) {
            describe(&streams, &stream_arn, &mut shards).await?;
            described = Some(Instant::now());
        }
        // Shards are independent (each keeps its own order): read and deliver them at once.
        let streams = &streams;
        let reads = shards.values_mut().map(|iterator| async move {
            let Some(current) = iterator.take() else {
                return Ok::<Read, anyhow::Error>(Read::default());
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
            let read = Read {
                records: !changes.is_empty(),
                closed: iterator.is_none(),
            };
            if read.records {
                deliver(state, poster, changes).await;
            }
            Ok(read)
        });
        let mut busy = false;
        for read in futures::future::join_all(reads).await {
            let read = read?;
            busy |= read.records;
            // A shard that has just closed has children: list them before the next read.
            if read.closed {
                described = None;
            }
        }
        // While records keep coming, read on at once; once idle, wait a little longer
        // after each empty read, up to the bound, unless the gateway nudges first.
        idle_reads = if busy {
            0
        } else {
            idle_reads.saturating_add(1)
        };
        let wait = idle_wait(idle_reads, max_wait);
        if !wait.is_zero() {
            nudge.wait(wait).await;
        }
    }
}

/// What one read of a shard found.
#[derive(Debug, Default)]
struct Read {
    /// It delivered records.
    records: bool,
    /// The shard closed with this read (it has no next iterator).
    closed: bool,
}

/// Adds the stream's shards not seen before, each with an iterator at its oldest record.
async fn describe(
    streams: &aws_sdk_dynamodbstreams::Client,
    stream_arn: &str,
    shards: &mut HashMap<String, Option<String>>,
) -> anyhow::Result<()> {
    let mut start: Option<String> = None;
    loop {
        let stream = streams
            .describe_stream()
            .stream_arn(stream_arn)
            .set_exclusive_start_shard_id(start.take())
            .send()
            .await
            .context("DescribeStream")?;
        let Some(description) = stream.stream_description else {
            return Ok(());
        };
        for shard in description.shards.unwrap_or_default() {
            let Some(shard_id) = shard.shard_id else {
                continue;
            };
            if shards.contains_key(&shard_id) {
                continue;
            }
            let iterator = streams
                .get_shard_iterator()
                .stream_arn(stream_arn)
                .shard_id(&shard_id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .context("GetShardIterator")?
                .shard_iterator;
            shards.insert(shard_id, iterator);
        }
        match description.last_evaluated_shard_id {
            Some(last) => start = Some(last),
            None => return Ok(()),
        }
    }
}

/// Hands a batch to the consumers, retrying the records they report as failed, as Lambda's
/// event source would; what still fails is logged and dropped (Lambda would send it to the
/// on-failure destination).
async fn deliver(state: &AppState, poster: &ManagementPoster, mut changes: Vec<Change>) {
    for attempt in 1..=ATTEMPTS_PER_BATCH {
        let started = Instant::now();
        let failed = consume(state, poster, &changes).await;
        tracing::debug!(
            records = changes.len(),
            failed = failed.len(),
            took_ms = started.elapsed().as_millis() as u64,
            "stream batch consumed"
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A nudge ends the wait it interrupts, and one given while nobody waits ends the next
    /// wait at once (an hour-long wait finishing at all shows it).
    #[tokio::test]
    async fn a_nudge_ends_the_current_or_next_wait() {
        let hour = Duration::from_secs(3600);
        let nudge = Nudge::default();
        nudge.wake();
        tokio::time::timeout(Duration::from_secs(60), nudge.wait(hour))
            .await
            .expect("a nudge given before the wait ends it");
        let waiting = tokio::spawn({
            let nudge = nudge.clone();
            async move { nudge.wait(hour).await }
        });
        tokio::task::yield_now().await;
        nudge.wake();
        tokio::time::timeout(Duration::from_secs(60), waiting)
            .await
            .expect("a nudge during the wait ends it")
            .expect("the waiting task");
    }

    const MAX: Duration = Duration::from_millis(50);

    #[test]
    fn records_mean_read_again_at_once() {
        assert_eq!(idle_wait(0, MAX), Duration::ZERO);
    }

    #[test]
    fn an_idle_stream_waits_longer_each_time_up_to_the_bound() {
        let waits: Vec<u64> = (1..=8)
            .map(|n| idle_wait(n, MAX).as_millis() as u64)
            .collect();
        assert_eq!(waits, [5, 10, 20, 40, 50, 50, 50, 50]);
        assert_eq!(idle_wait(u32::MAX, MAX), MAX);
    }

    #[test]
    fn idle_never_spins() {
        for max in [Duration::ZERO, Duration::from_micros(10), MAX] {
            for n in [1, 2, 100, u32::MAX] {
                assert!(idle_wait(n, max) >= Duration::from_millis(1), "{n} {max:?}");
            }
        }
        assert_eq!(
            idle_wait(3, Duration::from_millis(8)),
            Duration::from_millis(8)
        );
    }
}
