//! The WebSocket function: API Gateway's `$connect` (a single-use ticket in `?ticket=`),
//! `$disconnect` and `$default` (client frames) routes. Typing, presence and signalling
//! are relayed from here and never stored.

use aws_lambda_events::event::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use huddle_shared::realtime;
use huddle_shared::realtime::Poster;
use huddle_shared::{ApiError, AppState};

fn status(code: i64) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = code;
    response
}

/// Handles one WebSocket event, whichever route it came on.
pub async fn handle<P: Poster>(
    state: &AppState,
    poster: &P,
    request: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let context = &request.request_context;
    let Some(connection_id) = context.connection_id.as_deref() else {
        return status(400);
    };
    let result = match context.route_key.as_deref() {
        Some("$connect") => {
            let ticket = request.query_string_parameters.first("ticket");
            realtime::connect(state, connection_id, ticket)
                .await
                .map(|_| ())
        }
        Some("$disconnect") => realtime::disconnect(state, connection_id).await,
        _ => {
            let body = request.body.as_deref().unwrap_or_default();
            realtime::handle_frame(state, poster, connection_id, body).await
        }
    };
    match result {
        Ok(()) => status(200),
        Err(error) => {
            let code = i64::from(error.status().as_u16());
            if let ApiError::Internal(cause) = &error {
                tracing::error!(error = format!("{cause:#}"), "websocket route failed");
            }
            status(code)
        }
    }
}
