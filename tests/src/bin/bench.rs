//! The realtime benchmark (run by `scripts/bench`, never by the tests): opens many
//! subscribed WebSocket connections on a running local stack, sends messages over HTTP and
//! measures the time from each send to every socket's receipt. Writes a Markdown report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use huddle_tests::{Api, TestUser, base_url};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let sockets = setting("BENCH_SOCKETS", 1000);
    let rounds = setting("BENCH_ROUNDS", 20);
    let users_count = setting("BENCH_USERS", 10);
    let output = std::env::var("BENCH_OUTPUT").unwrap_or_else(|_| "bench-results.md".into());
    let api = Api::new();

    let owner = api.register_user().await;
    let workspace = api.create_workspace(&owner, "Bench").await;
    let wid = workspace["id"].as_str().unwrap().to_owned();
    let general = workspace["general_channel_id"].as_str().unwrap().to_owned();
    let mut users: Vec<TestUser> = Vec::new();
    for _ in 0..users_count {
        let user = api.register_user().await;
        api.add_to_workspace(&owner, &wid, &user, "member").await;
        users.push(user);
    }

    // Every receipt: (round, when).
    let (receipts, mut received) = mpsc::unbounded_channel::<(usize, Instant)>();
    let ws_base = base_url().replacen("http://", "ws://", 1);
    let message_ids: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let opened = Instant::now();
    let mut ready = Vec::new();
    for index in 0..sockets {
        let user = &users[index % users.len()];
        let ticket = api
            .post("/v1/auth/ws-ticket", user.token(), json!({}))
            .await
            .body["ticket"]
            .as_str()
            .unwrap()
            .to_owned();
        let (mut socket, _) =
            tokio_tungstenite::connect_async(format!("{ws_base}/ws?ticket={ticket}"))
                .await
                .expect("connect");
        socket
            .send(Message::Text(
                json!({"action": "subscribe", "channel_ids": [general]})
                    .to_string()
                    .into(),
            ))
            .await
            .unwrap();
        let receipts = receipts.clone();
        let ids = message_ids.clone();
        let (subscribed_tx, subscribed_rx) = tokio::sync::oneshot::channel();
        ready.push(subscribed_rx);
        tokio::spawn(async move {
            let mut subscribed = Some(subscribed_tx);
            while let Some(Ok(Message::Text(text))) = socket.next().await {
                let frame: Value = serde_json::from_str(&text).unwrap_or_default();
                if frame["type"] == "subscribed" {
                    if let Some(tx) = subscribed.take() {
                        let _sent = tx.send(());
                    }
                } else if frame["type"] == "message.created" {
                    let id = frame["data"]["id"].as_str().unwrap_or_default();
                    let round = ids.lock().unwrap().iter().position(|m| m == id);
                    if let Some(round) = round {
                        let _sent = receipts.send((round, Instant::now()));
                    }
                }
            }
        });
    }
    for subscribed in ready {
        subscribed.await.expect("subscribed");
    }
    let setup = opened.elapsed();
    drop(receipts);

    let mut all = Vec::new();
    let mut last_per_round = Vec::new();
    let mut missing = 0;
    for round in 0..rounds {
        let sent_at = Instant::now();
        let reply = api
            .post(
                &format!("/v1/channels/{general}/messages"),
                owner.token(),
                json!({"content": format!("bench {round}")}),
            )
            .await;
        message_ids
            .lock()
            .unwrap()
            .push(reply.body["id"].as_str().unwrap().to_owned());
        let mut got = 0;
        let mut last = Duration::ZERO;
        while got < sockets {
            match tokio::time::timeout(Duration::from_secs(30), received.recv()).await {
                Ok(Some((r, at))) if r == round => {
                    got += 1;
                    let latency = at - sent_at;
                    last = last.max(latency);
                    all.push(latency);
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        missing += sockets - got;
        last_per_round.push(last);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    all.sort();
    last_per_round.sort();
    let report = format!(
        "# Realtime benchmark\n\n\
         Generated by `scripts/bench` on {date}. {sockets} WebSocket connections ({users} users) subscribed to one\n\
         channel of the local gateway; {rounds} messages sent over HTTP, one at a time. Latency is from the\n\
         send to the socket's receipt of `message.created`, through the real path: the table's stream,\n\
         the local poller (200 ms poll interval), the broadcaster, and `post_to_connection` over HTTP to the\n\
         gateway's management API. Machine: {cpus} cores. Build profile: {profile}.\n\n\
         | measure | p50 (ms) | p99 (ms) | max (ms) |\n|---|---|---|---|\n\
         | every delivery ({deliveries}) | {p50} | {p99} | {max} |\n\
         | last receipt per message | {l50} | {l99} | {lmax} |\n\n\
         Deliveries missing after 30 s: {missing}. Opening and subscribing all sockets took {setup} ms.\n",
        date = chrono::Utc::now().format("%Y-%m-%d"),
        users = users.len(),
        cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        profile = std::env::var("BENCH_PROFILE").unwrap_or_else(|_| "unknown".into()),
        deliveries = all.len(),
        p50 = ms(percentile(&all, 0.50)),
        p99 = ms(percentile(&all, 0.99)),
        max = ms(all.last().copied().unwrap_or_default()),
        l50 = ms(percentile(&last_per_round, 0.50)),
        l99 = ms(percentile(&last_per_round, 0.99)),
        lmax = ms(last_per_round.last().copied().unwrap_or_default()),
        setup = setup.as_millis(),
    );
    std::fs::write(&output, &report).expect("writing the report");
    println!("{report}");
}
