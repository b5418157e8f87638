//! The thumbnailer: a stream consumer that, when an image upload completes (a file item
//! turning ready with its thumbnail pending), writes a JPEG thumbnail beside the object and
//! records it on the file item (an avatar: a 256 px square that `avatar_url` then serves).
//! An image that cannot be read is marked `failed` and reported as done, never retried;
//! only transient failures are reported for retry. The decoding, with its limits, is
//! [`render`].

pub mod render;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use huddle_shared::AppState;
use huddle_shared::files::thumbnails::make_thumbnails;
use huddle_shared::stream::{Change, batch_response, changes_from_event};

/// This consumer's work on a batch of changes: what Lambda's event source and the local
/// gateway's stream poller both call. Returns the ids of the records to retry.
pub async fn consume(state: &AppState, changes: &[Change]) -> Vec<String> {
    make_thumbnails(state, changes, render::render).await
}

/// Makes the thumbnails one stream batch asks for; reports the records to retry.
pub async fn handle(state: &AppState, event: Event) -> DynamoDbEventResponse {
    batch_response(consume(state, &changes_from_event(event)).await)
}
