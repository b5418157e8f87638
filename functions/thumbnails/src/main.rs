//! Lambda entry point of the thumbnailer (a DynamoDB Streams event source).

#![recursion_limit = "256"]

use aws_lambda_events::event::dynamodb::Event;
use huddle_shared::AppState;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let state = AppState::cold_start()?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(huddle_thumbnails::handle(state, event.payload).await)
    }))
    .await
}
