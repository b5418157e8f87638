//! Lambda entry point of the WebSocket function ($connect, $disconnect, $default).

#![recursion_limit = "256"]

use aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest;
use huddle_shared::AppState;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (state, poster) = AppState::cold_start_with_poster()?;
    let (state, poster) = (&state, &poster);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            Ok::<_, lambda_runtime::Error>(
                huddle_websocket::handle(state, poster, event.payload).await,
            )
        },
    ))
    .await
}
