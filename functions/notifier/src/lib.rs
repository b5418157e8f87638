//! The notifier: a stream consumer that turns table changes into notifications (mentions,
//! DMs, replies, assignments, level-`all` messages; the unread count given back when an
//! unread one expires) and into the workspace activity log. Reports only the records that
//! failed, so the event source retries those alone; both halves are idempotent.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use huddle_shared::AppState;
use huddle_shared::stream::{Change, batch_response, changes_from_event, failed_in_any};
use huddle_shared::{activity, notifications};

/// This consumer's work on a batch of changes: what Lambda's event source and the local
/// gateway's stream poller both call. Returns the ids of the records to retry.
pub async fn consume(state: &AppState, changes: &[Change]) -> Vec<String> {
    let (notified, recorded) = tokio::join!(
        notifications::notifier::notify_changes(state, changes),
        activity::recorder::record_changes(state, changes),
    );
    failed_in_any([notified, recorded])
}

/// Notifies and records one stream batch; reports the records to retry.
pub async fn handle(state: &AppState, event: Event) -> DynamoDbEventResponse {
    batch_response(consume(state, &changes_from_event(event)).await)
}
