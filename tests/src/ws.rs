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
pub const WAIT: Duration = Duration::from_secs(15);

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

/// Sends one JSON frame.
pub async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
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

/// Subscribes to `channels` and returns the answering frame.
pub async fn subscribe(socket: &mut Socket, channels: &[&str]) -> Value {
    send(
        socket,
        json!({"action": "subscribe", "channel_ids": channels}),
    )
    .await;
    next_frame(socket).await
}

/// Subscribes to `channels` and returns the answer (`subscribed` or `error`), skipping any
/// events that arrive first.
pub async fn subscribe_answer(socket: &mut Socket, channels: &[&str]) -> Value {
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
    let answer = subscribe_answer(&mut socket, channels).await;
    assert_eq!(answer["type"], "subscribed", "{answer}");
    socket
}
