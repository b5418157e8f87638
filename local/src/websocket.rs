//! The local stand-in for API Gateway's WebSocket API: serves `ws://…/ws?ticket=…`, turns
//! connects, frames and disconnects into API Gateway WebSocket events for the WebSocket
//! function's handler, and serves the management API (`/@connections/{id}`: POST, GET,
//! DELETE, 410 for unknown ids) that `post_to_connection` calls, locally unchanged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest;
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use futures::{SinkExt, StreamExt};
use huddle_shared::AppState;
use huddle_shared::realtime::ManagementPoster;
use tokio::sync::mpsc;

use crate::streams::Nudge;

enum Outbound {
    Frame(String),
    Close,
}

struct Handle {
    sender: mpsc::UnboundedSender<Outbound>,
    connected_at: chrono::DateTime<chrono::Utc>,
}

/// The gateway's live sockets by connection id.
#[derive(Clone, Default)]
struct Connections(Arc<Mutex<HashMap<String, Handle>>>);

impl Connections {
    fn insert(&self, id: &str, handle: Handle) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(id.to_owned(), handle);
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(id);
        }
    }

    /// Sends to a live socket; `false` if there is none (410).
    fn send(&self, id: &str, outbound: Outbound) -> bool {
        let Ok(map) = self.0.lock() else { return false };
        map.get(id)
            .is_some_and(|handle| handle.sender.send(outbound).is_ok())
    }

    fn connected_at(&self, id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0
            .lock()
            .ok()?
            .get(id)
            .map(|handle| handle.connected_at)
    }
}

#[derive(Clone)]
struct Gateway {
    app: AppState,
    poster: ManagementPoster,
    connections: Connections,
    /// Wakes the stream poller after each event handled (it may have written).
    nudge: Nudge,
}

impl Gateway {
    /// Hands one event to the WebSocket function, as API Gateway invokes it.
    async fn handle(
        &self,
        event: ApiGatewayWebsocketProxyRequest,
    ) -> aws_lambda_events::event::apigw::ApiGatewayProxyResponse {
        let response = huddle_websocket::handle(&self.app, &self.poster, event).await;
        self.nudge.wake();
        response
    }
}

/// `/ws` and `/@connections/{id}`.
pub fn routes(app: AppState, poster: ManagementPoster, nudge: Nudge) -> Router {
    let gateway = Gateway {
        app,
        poster,
        connections: Connections::default(),
        nudge,
    };
    Router::new()
        .route("/ws", get(open))
        .route(
            "/@connections/{connection_id}",
            get(connection_info)
                .post(post_to_connection)
                .delete(close_connection),
        )
        .with_state(gateway)
}

/// An id shaped like API Gateway's (base64, so it has `+`, `/` and `=` to percent-encode).
fn new_connection_id() -> String {
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = ulid::Ulid::new().0.to_be_bytes()[..12]
            .try_into()
            .unwrap_or_default();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn event(
    route: &str,
    event_type: &str,
    connection_id: &str,
    query: &HashMap<String, String>,
    body: Option<String>,
) -> ApiGatewayWebsocketProxyRequest {
    let mut request = ApiGatewayWebsocketProxyRequest::default();
    request.request_context.route_key = Some(route.to_owned());
    request.request_context.event_type = Some(event_type.to_owned());
    request.request_context.connection_id = Some(connection_id.to_owned());
    request.request_context.request_id = Some(ulid::Ulid::new().to_string());
    request.request_context.stage = Some("local".to_owned());
    request.query_string_parameters = query
        .iter()
        .map(|(k, v)| (k.clone(), vec![v.clone()]))
        .collect::<HashMap<_, _>>()
        .into();
    request.body = body;
    request
}

async fn open(
    State(gateway): State<Gateway>,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let connection_id = new_connection_id();
    // Registered before $connect so nothing posted meanwhile is lost.
    let (sender, receiver) = mpsc::unbounded_channel();
    gateway.connections.insert(
        &connection_id,
        Handle {
            sender,
            connected_at: chrono::Utc::now(),
        },
    );
    let response = gateway
        .handle(event("$connect", "CONNECT", &connection_id, &query, None))
        .await;
    if response.status_code != 200 {
        gateway.connections.remove(&connection_id);
        let status = u16::try_from(response.status_code)
            .ok()
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or(StatusCode::FORBIDDEN);
        return status.into_response();
    }
    // API Gateway's limits: 128 KiB messages in frames of at most 32 KiB.
    upgrade
        .max_message_size(128 * 1024)
        .max_frame_size(32 * 1024)
        .on_upgrade(move |socket| serve(gateway, connection_id, socket, receiver))
}

async fn serve(
    gateway: Gateway,
    connection_id: String,
    socket: WebSocket,
    mut receiver: mpsc::UnboundedReceiver<Outbound>,
) {
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        while let Some(outbound) = receiver.recv().await {
            let sent = match outbound {
                Outbound::Frame(text) => sink.send(Message::Text(text.into())).await,
                Outbound::Close => {
                    let _closed = sink.close().await;
                    break;
                }
            };
            if sent.is_err() {
                break;
            }
        }
    });
    let no_query = HashMap::new();
    while let Some(Ok(message)) = stream.next().await {
        let body = match message {
            Message::Text(text) => text.to_string(),
            Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        gateway
            .handle(event(
                "$default",
                "MESSAGE",
                &connection_id,
                &no_query,
                Some(body),
            ))
            .await;
    }
    gateway.connections.remove(&connection_id);
    writer.abort();
    gateway
        .handle(event(
            "$disconnect",
            "DISCONNECT",
            &connection_id,
            &no_query,
            None,
        ))
        .await;
}

/// API Gateway's answer for an unknown connection, which the SDK reads as `GoneException`.
fn gone() -> Response {
    (
        StatusCode::GONE,
        [(
            HeaderName::from_static("x-amzn-errortype"),
            HeaderValue::from_static("GoneException"),
        )],
        axum::Json(serde_json::json!({"message": "the connection is gone"})),
    )
        .into_response()
}

async fn post_to_connection(
    State(gateway): State<Gateway>,
    Path(connection_id): Path<String>,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    if gateway
        .connections
        .send(&connection_id, Outbound::Frame(text))
    {
        StatusCode::OK.into_response()
    } else {
        gone()
    }
}

async fn connection_info(
    State(gateway): State<Gateway>,
    Path(connection_id): Path<String>,
) -> Response {
    match gateway.connections.connected_at(&connection_id) {
        Some(at) => axum::Json(serde_json::json!({
            "connectedAt": at.to_rfc3339(),
            "lastActiveAt": chrono::Utc::now().to_rfc3339(),
            "identity": {"sourceIp": "127.0.0.1"},
        }))
        .into_response(),
        None => gone(),
    }
}

async fn close_connection(
    State(gateway): State<Gateway>,
    Path(connection_id): Path<String>,
) -> Response {
    if gateway.connections.send(&connection_id, Outbound::Close) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        gone()
    }
}
