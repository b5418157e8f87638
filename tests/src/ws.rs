//! WebSocket clients for the tests: tickets, connecting, frames in and out, subscribing.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{Api, TestUser, base_url};

/// A WebSocket client connected to the gateway.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for one frame.
pub const WAIT: Duration = Duration::from_secs(45);

/// The WebSocket URL that opens a socket with `ticket`.
pub fn ws_url(ticket: &str) -> String {
    format!(
        "{}/ws?ticket={ticket}",
        base_url().replacen("http://", "ws://", 1)
    )
}

/// A fresh single-use WebSocket ticket for `user`.
pub async fn ticket(api: &Api, user: &TestUser) -> String {
    let reply = api
        .post("/v1/auth/ws-ticket", user.token(), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    reply.body["ticket"].as_str().unwrap().to_owned()
}

/// A socket opened as `user`.
pub async fn connect(api: &Api, user: &TestUser) -> Socket {
    let ticket = ticket(api, user).await;
    tokio_tungstenite::connect_async(ws_url(&ticket))
        .await
        .expect("websocket connect")
        .0
}

/// WebSocket frames carry at most this much (API Gateway's limit, which the local gateway
/// enforces); longer messages go in fragments.
const FRAME_MAX: usize = 32 * 1024;

/// Sends one JSON message, in fragments of at most [`FRAME_MAX`] bytes when it is longer.
pub async fn send(socket: &mut Socket, frame: Value) {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let text = frame.to_string();
    if text.len() <= FRAME_MAX {
        socket.send(Message::Text(text.into())).await.unwrap();
        return;
    }
    let chunks: Vec<&[u8]> = text.as_bytes().chunks(FRAME_MAX).collect();
    let last = chunks.len() - 1;
    for (index, chunk) in chunks.into_iter().enumerate() {
        let opcode = if index == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let fragment = Frame::message(chunk.to_vec(), opcode, index == last);
        socket.send(Message::Frame(fragment)).await.unwrap();
    }
}

/// The next text frame, as JSON (raw text as a JSON string if it is not JSON).
pub async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("no frame in time")
            .expect("socket closed")
            .expect("socket error");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap_or(Value::String(text.to_string()));
        }
    }
}

/// The next frame of `kind`, skipping others.
pub async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    for _ in 0..50 {
        let frame = next_frame(socket).await;
        if frame["type"] == kind {
            return frame;
        }
    }
    panic!("no {kind} frame");
}

/// Every frame up to and including the first that `done` accepts. Events from before a
/// subscription may still arrive (the stream is asynchronous), so checks look at kinds and
/// ids, never at positions alone.
pub async fn frames_until(socket: &mut Socket, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    for _ in 0..200 {
        let frame = next_frame(socket).await;
        let finished = done(&frame);
        seen.push(frame);
        if finished {
            return seen;
        }
    }
    panic!("the awaited frame never came: {seen:?}");
}

/// Subscribes to `channels` and returns the answer (`subscribed` or `error`), skipping any
/// events that arrive first (the stream may still be delivering what set the test up).
pub async fn subscribe(socket: &mut Socket, channels: &[&str]) -> Value {
    send(
        socket,
        json!({"action": "subscribe", "channel_ids": channels}),
    )
    .await;
    for _ in 0..1000 {
        let frame = next_frame(socket).await;
        if frame["type"] == "subscribed" || frame["type"] == "error" {
            return frame;
        }
    }
    panic!("no answer to subscribe");
}

/// A socket opened as `user` and subscribed to `channels` (the answer must be `subscribed`).
pub async fn connect_subscribed(api: &Api, user: &TestUser, channels: &[&str]) -> Socket {
    let mut socket = connect(api, user).await;
    let answer = subscribe(&mut socket, channels).await;
    assert_eq!(answer["type"], "subscribed", "{answer}");
    socket
}

/// The next frame of `kind` or the next `error`, skipping others (a frame whose answer is
/// either).
pub async fn next_of_or_error(socket: &mut Socket, kind: &str) -> Value {
    for _ in 0..200 {
        let frame = next_frame(socket).await;
        if frame["type"] == kind || frame["type"] == "error" {
            return frame;
        }
    }
    panic!("no {kind} or error frame");
}

/// Sends a `doc.update` frame (`update`: base64 of Yjs v1).
pub async fn send_doc_update(socket: &mut Socket, channel_id: &str, update: &str) {
    send(
        socket,
        json!({"action": "doc.update", "channel_id": channel_id, "update": update}),
    )
    .await;
}

/// Sends `doc.sync` from `state_vector` (base64; empty for nothing) and returns the answer
/// (`doc.sync` or `error`).
pub async fn doc_sync(socket: &mut Socket, channel_id: &str, state_vector: &str) -> Value {
    send(
        socket,
        json!({"action": "doc.sync", "channel_id": channel_id, "state_vector": state_vector}),
    )
    .await;
    next_of_or_error(socket, "doc.sync").await
}

/// Sends a `doc.update` and waits until the gateway has handled it: a `ping` sent after it
/// is answered after it (one socket's frames are handled in order). Returns the `error`
/// frame it answered, if any; other frames meanwhile are skipped.
pub async fn doc_update_answer(
    socket: &mut Socket,
    channel_id: &str,
    update: &str,
) -> Option<Value> {
    send_doc_update(socket, channel_id, update).await;
    send(socket, json!({"action": "ping"})).await;
    let mut error = None;
    for _ in 0..1000 {
        let frame = next_frame(socket).await;
        if frame["type"] == "error" && error.is_none() {
            error = Some(frame);
        } else if frame["type"] == "pong" {
            return error;
        }
    }
    panic!("no pong after doc.update");
}
