//! The benchmark (run by `scripts/bench`, never by the tests). Its full run: a burst of
//! logins against the gateway's bounded password hashing, measuring the gateway's resident
//! memory before and at its peak; the stream poller's idle cost; live document edits; and
//! fan-out: many subscribed WebSocket connections, messages sent over HTTP and the time from
//! each send to every socket's receipt, beside the AWS sample chat's algorithm posting the
//! same frame to the same sockets. With `BENCH_PART=fanout` it measures fan-out only and
//! appends a summary line to `BENCH_ROWS` (one per stack configuration: `scripts/bench`
//! starts a stack per post concurrency), which the full run's report includes.
//! Writes a Markdown report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use huddle_shared::ids::UserId;
use huddle_tests::measure::{ms, percentile, proc_status_mib, setting};
use huddle_tests::{Api, RawTable, TestUser, base_url, typed, yjs};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// What the login burst measured.
struct LoginBurst {
    logins: usize,
    clients: usize,
    ok: usize,
    unauthorized: usize,
    unavailable: usize,
    other: usize,
    elapsed: Duration,
    rss_before: Option<f64>,
    rss_peak_sampled: Option<f64>,
    rss_hwm: Option<f64>,
    rss_after: Option<f64>,
}

/// `logins` logins (one in four with a wrong password) from `clients` concurrent clients,
/// while the gateway's resident memory is sampled every 5 ms.
async fn login_burst(api: &Api, users: &[TestUser], logins: usize, clients: usize) -> LoginBurst {
    let pid: Option<u32> = std::env::var("GATEWAY_PID")
        .ok()
        .and_then(|v| v.parse().ok());
    let rss = move || pid.and_then(|pid| proc_status_mib(pid, "VmRSS:"));
    let rss_before = rss();
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak: Option<f64> = None;
            while sampling.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(now) = rss() {
                    peak = Some(peak.map_or(now, |p: f64| p.max(now)));
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            peak
        })
    };
    let started = Instant::now();
    let statuses: Vec<u16> = futures::stream::iter(0..logins)
        .map(|i| {
            let user = &users[i % users.len()];
            let password = if i % 4 == 3 {
                "wrong password".to_owned()
            } else {
                user.password.clone()
            };
            let reply = api.post(
                "/v1/auth/login",
                None,
                json!({"email": user.email, "password": password}),
            );
            async move { reply.await.status.as_u16() }
        })
        .buffer_unordered(clients)
        .collect()
        .await;
    let elapsed = started.elapsed();
    sampling.store(false, std::sync::atomic::Ordering::SeqCst);
    let rss_peak_sampled = sampler.await.unwrap_or_default();
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    LoginBurst {
        logins,
        clients,
        ok: count(200),
        unauthorized: count(401),
        unavailable: count(503),
        other: statuses
            .iter()
            .filter(|s| ![200, 401, 503].contains(*s))
            .count(),
        elapsed,
        rss_before,
        rss_peak_sampled,
        rss_hwm: pid.and_then(|pid| proc_status_mib(pid, "VmHWM:")),
        rss_after: rss(),
    }
}

fn mib(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.0}"))
}

/// The processor's name, from `/proc/cpuinfo`.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// CPU time (user + system) a process has used, from `/proc/<pid>/stat`.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces) start after its `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

fn pid_from(name: &str) -> Option<u32> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The share of one core the gateway and DynamoDB Local use over `span` while nothing
/// happens: the cost of polling an idle stream.
async fn idle_cost(span: Duration) -> (Option<f64>, Option<f64>) {
    let pids = [pid_from("GATEWAY_PID"), pid_from("BENCH_DYNAMO_PID")];
    let before = pids.map(|pid| pid.and_then(cpu_time));
    tokio::time::sleep(span).await;
    let after = pids.map(|pid| pid.and_then(cpu_time));
    let share =
        |i: usize| Some((after[i]? - before[i]?).as_secs_f64() / span.as_secs_f64() * 100.0);
    (share(0), share(1))
}

/// One fan-out measurement: an algorithm on a set of sockets, summarised.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    /// `huddle` (the message's way through the stream and the broadcaster) or `peer` (the
    /// AWS sample's algorithm).
    algorithm: String,
    sockets: usize,
    rounds: usize,
    /// Huddle's `WEBSOCKET_POST_CONCURRENCY` on this stack.
    concurrency: usize,
    /// The local poller's longest idle wait on this stack, in ms (`None`: its default).
    idle_max_ms: Option<u64>,
    /// Which set of sockets it was measured on (Huddle and the peer share one per run).
    run: String,
    deliveries: usize,
    missing: usize,
    /// Huddle's send: the median time to the HTTP answer (the message written); `None`
    /// for the peer, which writes nothing.
    #[serde(default)]
    answered_p50: Option<f64>,
    /// Per message, when the first socket had it: the median.
    #[serde(default)]
    first_p50: f64,
    p50: f64,
    p99: f64,
    max: f64,
    last_p50: f64,
    last_p99: f64,
    last_max: f64,
    /// Opening and subscribing the sockets, in ms.
    setup_ms: u64,
}

fn ms_f(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What the receivers hear of: a round's frame id and when it arrived.
type Receipt = (String, Instant);

/// Only what the receivers read of a frame.
#[derive(Deserialize)]
struct FrameHead {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<FrameData>,
}

#[derive(Deserialize)]
struct FrameData {
    #[serde(default)]
    id: Option<String>,
}

/// Subscribed sockets and what they hear.
struct Sockets {
    count: usize,
    received: mpsc::UnboundedReceiver<Receipt>,
    /// A `message.created` frame as Huddle delivered it (the peer posts the same frame).
    sample: Arc<Mutex<Option<String>>>,
    setup: Duration,
}

/// Opens `count` WebSockets (spread over `users`), each subscribed to `channel`; each
/// socket's task timestamps every `message.created` frame on arrival, before parsing it.
async fn open_sockets(api: &Api, users: &[TestUser], channel: &str, count: usize) -> Sockets {
    let (receipts, received) = mpsc::unbounded_channel::<Receipt>();
    let sample: Arc<Mutex<Option<String>>> = Arc::default();
    let ws_base = base_url().replacen("http://", "ws://", 1);
    let opened = Instant::now();
    let opening = futures::stream::iter(0..count)
        .map(|index| {
            let user = &users[index % users.len()];
            let receipts = receipts.clone();
            let sample = sample.clone();
            let ws_base = ws_base.clone();
            async move {
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
                        json!({"action": "subscribe", "channel_ids": [channel]})
                            .to_string()
                            .into(),
                    ))
                    .await
                    .unwrap();
                let (subscribed_tx, subscribed_rx) = tokio::sync::oneshot::channel();
                tokio::spawn(async move {
                    let mut subscribed = Some(subscribed_tx);
                    while let Some(Ok(Message::Text(text))) = socket.next().await {
                        let at = Instant::now();
                        let Ok(frame) = serde_json::from_str::<FrameHead>(&text) else {
                            continue;
                        };
                        if frame.kind == "subscribed" {
                            if let Some(tx) = subscribed.take() {
                                let _sent = tx.send(());
                            }
                        } else if frame.kind == "message.created"
                            && let Some(id) = frame.data.and_then(|d| d.id)
                        {
                            {
                                let mut sample = sample.lock().unwrap();
                                if sample.is_none() && !id.starts_with("peer-") {
                                    *sample = Some(text.to_string());
                                }
                            }
                            let _sent = receipts.send((id, at));
                        }
                    }
                });
                subscribed_rx.await.expect("subscribed");
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>();
    opening.await;
    Sockets {
        count,
        received,
        sample,
        setup: opened.elapsed(),
    }
}

/// Waits for `id` to reach every socket (30 s at most); the latency of each receipt from
/// `sent_at`, and how many never came.
async fn collect_round(
    sockets: &mut Sockets,
    id: &str,
    sent_at: Instant,
    early: &mut HashMap<String, Vec<Instant>>,
) -> (Vec<Duration>, usize) {
    let mut latencies: Vec<Duration> = early
        .remove(id)
        .unwrap_or_default()
        .into_iter()
        .map(|at| at - sent_at)
        .collect();
    while latencies.len() < sockets.count {
        match tokio::time::timeout(Duration::from_secs(30), sockets.received.recv()).await {
            Ok(Some((got, at))) if got == id => latencies.push(at - sent_at),
            // A receipt that beat the send's answer (the id was not known yet).
            Ok(Some((got, at))) => early.entry(got).or_default().push(at),
            _ => break,
        }
    }
    let missing = sockets.count - latencies.len();
    (latencies, missing)
}

/// The partition that holds every row of the peer's connections table.
const PEER_PARTITION: &str = "connections";

/// One row of the peer's connections table: one per open socket, as the AWS sample keeps.
/// The sample's table is keyed by `connectionId` alone and read whole with a Scan; this one
/// puts every socket in one partition (`pk`) sorted by `connectionId`, so the same read of
/// every connection is a Query of that partition.
#[derive(Serialize, Deserialize)]
struct PeerConnection {
    pk: String,
    #[serde(rename = "connectionId")]
    connection_id: String,
}

impl PeerConnection {
    fn new(connection_id: String) -> Self {
        Self {
            pk: PEER_PARTITION.to_owned(),
            connection_id,
        }
    }
}

/// The peer's connections table, filled with the ids of the same sockets Huddle posts to,
/// read from Huddle's table through each user's connections.
async fn peer_table(users: &[TestUser]) -> (aws_sdk_dynamodb::Client, String) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PutRequest,
        ScalarAttributeType, WriteRequest,
    };
    let state = huddle_tests::app_state().await;
    let client = state.store.client().clone();
    let table = format!("{}-peer-connections-by-partition", state.store.table());
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .unwrap()
    };
    let created = client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("connectionId"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("connectionId", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    if let Err(error) = created {
        assert!(
            error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()),
            "creating the peer's table: {error:?}"
        );
    }
    let mut ids: Vec<String> = Vec::new();
    for user in users {
        let user_id: UserId = typed(&user.id);
        let connections = state.store.list_user_connections(user_id).await.unwrap();
        ids.extend(connections.into_iter().map(|c| c.connection_id));
    }
    for chunk in ids.chunks(25) {
        let writes = chunk
            .iter()
            .map(|id| {
                let item = serde_dynamo::to_item(PeerConnection::new(id.clone())).unwrap();
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                    .build()
            })
            .collect();
        let mut pending = Some(HashMap::from([(table.clone(), writes)]));
        while let Some(items) = pending.take().filter(|p| !p.is_empty()) {
            let output = client
                .batch_write_item()
                .set_request_items(Some(items))
                .send()
                .await
                .unwrap();
            pending = output.unprocessed_items;
        }
    }
    (client, table)
}

/// The AWS sample chat's `sendmessage` algorithm (aws-samples/simple-websockets-chat-app),
/// measured as the peer to beat, never Huddle's code: read every connection (the sample
/// Scans its table; this reads the same rows with a Query of the one partition that holds
/// them, page by page, so the work stays O(all connections) without a Scan), then post the
/// frame to every connection at once (its `Promise.all`: unbounded concurrency) with the
/// AWS SDK's management API client (the sample's `postToConnection`), deleting the
/// connections that answer 410. It reads the peer's own table, not Huddle's.
async fn peer_send(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    poster: &aws_sdk_apigatewaymanagement::Client,
    frame: &[u8],
) {
    let mut connections: Vec<PeerConnection> = Vec::new();
    let mut start = None;
    loop {
        let page = dynamo
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(PEER_PARTITION.to_owned()),
            )
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        let rows: Vec<PeerConnection> = serde_dynamo::from_items(page.items().to_vec()).unwrap();
        connections.extend(rows);
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    let posts = connections.iter().map(|connection| async move {
        let outcome = poster
            .post_to_connection()
            .connection_id(&connection.connection_id)
            .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(frame))
            .send()
            .await;
        (connection, outcome)
    });
    for (connection, outcome) in futures::future::join_all(posts).await {
        let gone = outcome.as_ref().is_err_and(|error| {
            error
                .as_service_error()
                .is_some_and(|e| e.is_gone_exception())
                || error
                    .raw_response()
                    .is_some_and(|response| response.status().as_u16() == 410)
        });
        if gone {
            dynamo
                .delete_item()
                .table_name(table)
                .set_key(Some(serde_dynamo::to_item(connection).unwrap()))
                .send()
                .await
                .unwrap();
        }
    }
}

/// One algorithm's latencies over a fan-out's messages.
#[derive(Default)]
struct Latencies {
    /// Every socket's receipt of every message.
    all: Vec<Duration>,
    /// Per message, the first receipt.
    first: Vec<Duration>,
    /// Per message, the last receipt.
    last: Vec<Duration>,
    /// Per message, the send's HTTP answer (Huddle only).
    answered: Vec<Duration>,
    /// Receipts that never came.
    missing: usize,
}

/// The fan-out measurement on a fresh set of sockets: `rounds` messages sent through
/// Huddle and, when `with_peer`, as many posted by the peer's algorithm, alternating (so
/// both meet the same machine load), each one at a time.
async fn fan_out(
    api: &Api,
    owner: &TestUser,
    users: &[TestUser],
    channel: &str,
    sockets: usize,
    rounds: usize,
    with_peer: bool,
) -> Vec<Row> {
    let config = huddle_tests::app_state().await.config.clone();
    let idle_max_ms = std::env::var("STREAM_POLL_IDLE_MAX_MS")
        .ok()
        .and_then(|v| v.parse().ok());
    let run = ulid::Ulid::new().to_string();
    let mut open = open_sockets(api, users, channel, sockets).await;
    let peer = if with_peer {
        let sdk_config = huddle_shared::state::load_aws_config();
        let (dynamo, table) = peer_table(users).await;
        Some((
            dynamo,
            table,
            aws_sdk_apigatewaymanagement::Client::from_conf(
                aws_sdk_apigatewaymanagement::config::Builder::from(&sdk_config)
                    .endpoint_url(base_url())
                    .build(),
            ),
        ))
    } else {
        None
    };
    let mut early: HashMap<String, Vec<Instant>> = HashMap::new();
    let mut results: [Latencies; 2] = Default::default();
    // Rounds sent first and not measured, for both algorithms alike: DynamoDB Local's JIT
    // compiler still takes a large share of the machine's CPU after the sockets are open,
    // and compiles the paths these rounds take.
    let warmup = setting("BENCH_WARMUP_ROUNDS", 10);
    for round in 0..warmup + rounds {
        for (which, measured) in results.iter_mut().enumerate() {
            let mut discarded = Latencies::default();
            let result = if round < warmup {
                &mut discarded
            } else {
                measured
            };
            let (id, sent_at) = if which == 0 {
                let sent_at = Instant::now();
                let reply = api
                    .post(
                        &format!("/v1/channels/{channel}/messages"),
                        owner.token(),
                        json!({"content": format!("bench {round}")}),
                    )
                    .await;
                result.answered.push(sent_at.elapsed());
                (reply.body["id"].as_str().unwrap().to_owned(), sent_at)
            } else {
                let Some((dynamo, table, poster)) = &peer else {
                    continue;
                };
                let id = format!("peer-{round}");
                let sample = open.sample.lock().unwrap().clone().expect("a frame heard");
                let mut frame: Value = serde_json::from_str(&sample).unwrap();
                frame["data"]["id"] = json!(id);
                let frame = serde_json::to_vec(&frame).unwrap();
                let sent_at = Instant::now();
                peer_send(dynamo, table, poster, &frame).await;
                (id, sent_at)
            };
            let (latencies, missing) = collect_round(&mut open, &id, sent_at, &mut early).await;
            result
                .first
                .push(latencies.iter().copied().min().unwrap_or_default());
            result
                .last
                .push(latencies.iter().copied().max().unwrap_or_default());
            result.all.extend(latencies);
            result.missing += missing;
            // A pause between messages (varied, so sends do not fall in step with the
            // poller's waits): each message meets an idle stream.
            tokio::time::sleep(Duration::from_millis(200 + (round as u64 * 37) % 50)).await;
        }
    }
    results
        .into_iter()
        .zip(["huddle", "peer"])
        .filter(|(latencies, _)| !latencies.all.is_empty())
        .map(|(mut latencies, algorithm)| {
            let Latencies {
                all,
                first,
                last,
                answered,
                missing,
            } = &mut latencies;
            for sample in [&mut *all, &mut *first, &mut *last, &mut *answered] {
                sample.sort();
            }
            Row {
                algorithm: algorithm.into(),
                sockets,
                rounds,
                concurrency: config.websocket_post_concurrency,
                idle_max_ms,
                run: run.clone(),
                deliveries: all.len(),
                missing: *missing,
                answered_p50: (!answered.is_empty()).then(|| ms_f(percentile(answered, 0.50))),
                first_p50: ms_f(percentile(first, 0.50)),
                p50: ms_f(percentile(all, 0.50)),
                p99: ms_f(percentile(all, 0.99)),
                max: ms_f(all.last().copied().unwrap_or_default()),
                last_p50: ms_f(percentile(last, 0.50)),
                last_p99: ms_f(percentile(last, 0.99)),
                last_max: ms_f(last.last().copied().unwrap_or_default()),
                setup_ms: u64::try_from(open.setup.as_millis()).unwrap_or(u64::MAX),
            }
        })
        .collect()
}

/// The workspace every part uses: its owner, `users` members and the general channel.
async fn bench_workspace(
    api: &Api,
    users_count: usize,
) -> (TestUser, Vec<TestUser>, String, String) {
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
    (owner, users, wid, general)
}

fn read_rows(path: &str) -> Vec<Row> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn append_rows(path: &str, rows: &[Row]) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("opening BENCH_ROWS");
    for row in rows {
        writeln!(file, "{}", serde_json::to_string(row).unwrap()).unwrap();
    }
}

fn row_line(row: &Row, first: &str) -> String {
    format!(
        "| {first} | {deliveries} | {answered} | {f50:.1} | {p50:.1} | {p99:.1} | {max:.1} | {l50:.1} | {l99:.1} | {lmax:.1} | {missing} |\n",
        deliveries = row.deliveries,
        answered = row
            .answered_p50
            .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1}")),
        f50 = row.first_p50,
        p50 = row.p50,
        p99 = row.p99,
        max = row.max,
        l50 = row.last_p50,
        l99 = row.last_p99,
        lmax = row.last_max,
        missing = row.missing,
    )
}

const ROW_HEAD: &str = "| deliveries | send answered p50 | first receipt p50 | p50 | p99 | max | last receipt p50 | last receipt p99 | last receipt max | missing |";

fn fan_out_sections(rows: &[Row], idle: (Option<f64>, Option<f64>), idle_span: Duration) -> String {
    let percent = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1} %"));
    let mut sweep: Vec<&Row> = rows
        .iter()
        .filter(|r| r.algorithm == "huddle" && r.sockets == 1000)
        .collect();
    sweep.sort_by_key(|r| (r.idle_max_ms.is_some(), r.idle_max_ms, r.concurrency));
    let idle_max = |r: &Row| {
        r.idle_max_ms
            .map_or_else(|| "default".to_owned(), |v| v.to_string())
    };
    let mut out = String::from(
        "## Fan-out\n\n\
         Subscribed WebSocket connections (spread over 10 users) on one channel of the local gateway;\n\
         messages sent over HTTP one at a time, 200-250 ms apart, so each meets an idle stream, after\n\
         `BENCH_WARMUP_ROUNDS` (default 10) not measured (DynamoDB Local's JIT compiler is still busy).\n\
         Latency (ms) is from the send to a socket's receipt of `message.created`, taken on arrival, through\n\
         the real path: the write, the table's stream, the local poller (reads again at once while records\n\
         come; when idle, waits 5 ms, then twice as long after each empty read, up to\n\
         `STREAM_POLL_IDLE_MAX_MS`), the broadcaster (the audience Query, the access check, then\n\
         a signed `POST @connections/{id}` over HTTP to the gateway's management API,\n\
         `WEBSOCKET_POST_CONCURRENCY` at a time). p50/p99/max count each socket's receipt; \"send answered\"\n\
         is the send's HTTP answer (the message written), and \"first receipt\" and \"last receipt\" are,\n\
         per message, when the first and the last socket had it. Each line of the first table is its own stack (the concurrency is read once at\n\
         start).\n\n### Post concurrency, 1,000 sockets\n\n",
    );
    out.push_str(&format!(
        "| concurrency | idle wait max (ms) {ROW_HEAD}\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    ));
    for row in &sweep {
        out.push_str(&row_line(
            row,
            &format!("{} | {}", row.concurrency, idle_max(row)),
        ));
    }
    let mut sizes: Vec<&Row> = rows.iter().filter(|r| r.algorithm == "huddle").collect();
    sizes.sort_by_key(|r| r.sockets);
    out.push_str(&format!(
        "\n### By socket count (the default concurrency)\n\n| sockets | concurrency {ROW_HEAD} setup (ms) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    ));
    for row in sizes.iter().filter(|r| {
        r.concurrency == huddle_shared::config::DEFAULT_WEBSOCKET_POST_CONCURRENCY
            && r.idle_max_ms.is_none()
    }) {
        let line = row_line(row, &format!("{} | {}", row.sockets, row.concurrency));
        out.push_str(&format!("{} {} |\n", line.trim_end(), row.setup_ms));
    }
    out.push_str(&format!(
        "\nThe poller's idle cost: over {secs} s with nothing written, the gateway used {gateway} of a core\n\
         and DynamoDB Local {dynamo} (`/proc/<pid>/stat`).\n\n",
        secs = idle_span.as_secs(),
        gateway = percent(idle.0),
        dynamo = percent(idle.1),
    ));
    let mut peers: Vec<&Row> = rows.iter().filter(|r| r.algorithm == "peer").collect();
    peers.sort_by_key(|r| r.sockets);
    out.push_str(
        "## Fan-out peer: the AWS sample's algorithm\n\n\
         The `sendmessage` of the AWS sample chat (aws-samples/simple-websockets-chat-app): read every\n\
         connection (the sample Scans its table; here the same rows sit in one partition and are read\n\
         with a Query, page by page, so the work is the same O(all connections) with no Scan anywhere),\n\
         then post to every connection at once (`Promise.all`: unbounded\n\
         concurrency) with the AWS SDK's management API client, as the sample does (Huddle posts\n\
         with its own signed requests). Run by the benchmark itself against the same stack and the same subscribed sockets,\n\
         alternating message for message with Huddle's path: a table of its own in the same DynamoDB Local\n\
         (one item per socket, as the sample keeps), the same `message.created` frame\n\
         (another id), the same management API. Its latency is from the start of its read, so it leaves\n\
         out the HTTP request, the write and the stream that Huddle's includes (\"send answered\" is\n\
         Huddle's HTTP answer, the message written; \"first receipt\" is when the first socket had\n\
         the message); and it does O(all connections) work per message where Huddle does O(the\n\
         channel's subscribers).\n\n",
    );
    out.push_str(&format!(
        "| sockets | algorithm {ROW_HEAD}\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    ));
    for peer in &peers {
        let huddle = sizes.iter().find(|r| r.run == peer.run);
        if let Some(huddle) = huddle {
            out.push_str(&row_line(
                huddle,
                &format!(
                    "{} | Huddle (concurrency {})",
                    huddle.sockets, huddle.concurrency
                ),
            ));
        }
        out.push_str(&row_line(peer, &format!("{} | the sample's", peer.sockets)));
    }
    out.push('\n');
    out
}

#[tokio::main]
async fn main() {
    let sockets = setting("BENCH_SOCKETS", 1000);
    let rounds = setting("BENCH_ROUNDS", 20);
    let users_count = setting("BENCH_USERS", 10);
    let rows_path = std::env::var("BENCH_ROWS").unwrap_or_else(|_| "bench-rows.jsonl".into());
    let api = Api::new();
    let (owner, users, wid, general) = bench_workspace(&api, users_count).await;

    if std::env::var("BENCH_PART").as_deref() == Ok("fanout") {
        let with_peer = std::env::var("BENCH_PEER").as_deref() == Ok("1");
        let rows = fan_out(&api, &owner, &users, &general, sockets, rounds, with_peer).await;
        for row in &rows {
            println!("{}", serde_json::to_string(row).unwrap());
        }
        append_rows(&rows_path, &rows);
        return;
    }

    let logins = setting("BENCH_LOGINS", 200);
    let login_clients = setting("BENCH_LOGIN_CLIENTS", 100);
    let output = std::env::var("BENCH_OUTPUT").unwrap_or_else(|_| "bench-results.md".into());

    // First, while the gateway has done little else: the login burst and its memory.
    let burst = login_burst(&api, &users, logins, login_clients).await;
    // The gateway's bound, from the same environment it read.
    let hashing = huddle_tests::app_state().await.config.clone();

    // Live document edits between two editors, and a 100 KB document's stored size.
    let documents = document_bench(&api, &owner, &users[0], &wid).await;

    // The stream poller's cost while nothing is written.
    let idle_span = Duration::from_secs(5);
    let idle = idle_cost(idle_span).await;

    // Fan-out with the default settings, Huddle beside the peer; with the other stacks' rows.
    let mine = fan_out(&api, &owner, &users, &general, sockets, rounds, true).await;
    append_rows(&rows_path, &mine);
    let rows = read_rows(&rows_path);

    let report = format!(
        "# Benchmark\n\n\
         Generated by `scripts/bench` on {date}. Machine: {cpus} cores, {cpu}. Build profile: {profile}.\n\
         One machine runs everything (DynamoDB Local, the gateway, the benchmark's clients and sockets).\n\n\
         {fan_out}\
         ## Login burst and memory\n\n\
         Before the sockets: {logins} logins (one in four with a wrong password) from {clients} concurrent\n\
         clients, against password hashing bounded to {hash_concurrency} at once with {hash_queue} waiting\n\
         (`PASSWORD_HASH_CONCURRENCY`, `PASSWORD_HASH_QUEUE`; defaults: the cores, 32 per core). Answers: {ok} × 200,\n\
         {unauthorized} × 401, {unavailable} × 503 (`unavailable`, `Retry-After`), {other} other; {burst_ms} ms in all.\n\
         The gateway's resident memory (MiB, from `/proc/<pid>/status`):\n\n\
         | before | peak during the burst (sampled every 5 ms) | peak since start (`VmHWM`) | after |\n|---|---|---|---|\n\
         | {rss_before} | {rss_peak} | {rss_hwm} | {rss_after} |\n\n\
         Each hashing thread keeps and reuses its 19 MiB of argon2 memory, so hashing holds at most\n\
         {hash_concurrency} × 19 MiB whatever the burst. Before the bound, the issue measured 200 logins at\n\
         100 concurrent clients taking the gateway from 1.7 GB to 3.0 GB resident: every login held its\n\
         own blocking thread and 19 MiB.\n\n{documents}",
        date = chrono::Utc::now().format("%Y-%m-%d"),
        cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu = cpu_model(),
        profile = std::env::var("BENCH_PROFILE").unwrap_or_else(|_| "unknown".into()),
        fan_out = fan_out_sections(&rows, idle, idle_span),
        logins = burst.logins,
        clients = burst.clients,
        hash_concurrency = hashing.password_hash_concurrency,
        hash_queue = hashing.password_hash_queue,
        ok = burst.ok,
        unauthorized = burst.unauthorized,
        unavailable = burst.unavailable,
        other = burst.other,
        burst_ms = burst.elapsed.as_millis(),
        rss_before = mib(burst.rss_before),
        rss_peak = mib(burst.rss_peak_sampled),
        rss_hwm = mib(burst.rss_hwm),
        rss_after = mib(burst.rss_after),
    );
    std::fs::write(&output, &report).expect("writing the report");
    println!("{report}");
}

/// The approximate stored size of an item in DynamoDB JSON (attribute names plus values;
/// binary values by their decoded length), as DynamoDB counts it against 400 KB.
fn item_bytes(item: &Value) -> usize {
    use base64::Engine;
    fn value_bytes(value: &Value) -> usize {
        let Some((kind, inner)) = value.as_object().and_then(|m| m.iter().next()) else {
            return 0;
        };
        match kind.as_str() {
            "B" => base64::engine::general_purpose::STANDARD
                .decode(inner.as_str().unwrap_or_default())
                .map(|b| b.len())
                .unwrap_or(0),
            "S" | "N" => inner.as_str().unwrap_or_default().len(),
            "M" => item_bytes(inner),
            "L" => inner
                .as_array()
                .map(|l| l.iter().map(value_bytes).sum())
                .unwrap_or(0),
            _ => 1,
        }
    }
    item.as_object()
        .map(|m| m.iter().map(|(name, v)| name.len() + value_bytes(v)).sum())
        .unwrap_or(0)
}

/// `(items, total bytes, largest item bytes)` of a document's partition.
async fn document_footprint(raw: &RawTable, channel_id: &str) -> (usize, usize, usize) {
    let items = raw
        .query(&huddle_shared::keys::document_partition(typed(channel_id)))
        .await;
    let sizes: Vec<usize> = items.iter().map(item_bytes).collect();
    (
        sizes.len(),
        sizes.iter().sum(),
        sizes.iter().copied().max().unwrap_or(0),
    )
}

/// Two editors of one doc channel: the time from one's `doc.update` send to the other's
/// receipt, `BENCH_DOC_EDITS` (default 100) times, one at a time; then a 100 KB document
/// typed in 30 live updates, its stored items measured before and after the compaction
/// that the next updates trigger. Returns the report's section.
async fn document_bench(api: &Api, owner: &TestUser, other: &TestUser, wid: &str) -> String {
    let edits = setting("BENCH_DOC_EDITS", 100);
    let channel = api
        .create_channel(owner, wid, json!({"name": "bench-doc", "kind": "doc"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.join(other, &channel).await;
    api.save_document(owner, &channel, "bench", 0).await;
    let base = api.sync_document(owner, &channel, "").await["update"]
        .as_str()
        .unwrap()
        .to_owned();
    // The updates are made first (by the reference Yjs), so only delivery is timed.
    let mut mine = vec![base];
    for i in 0..edits {
        let update = yjs::edit(7, &mine, 0, &format!("{} ", i % 10), 0).await;
        mine.push(update);
    }
    let mut sender = huddle_tests::ws::connect_subscribed(api, owner, &[channel.as_str()]).await;
    let mut receiver = huddle_tests::ws::connect_subscribed(api, other, &[channel.as_str()]).await;
    let mut latencies = Vec::new();
    for update in &mine[1..] {
        let sent = Instant::now();
        huddle_tests::ws::send_doc_update(&mut sender, &channel, update).await;
        let frame = huddle_tests::ws::next_of(&mut receiver, "doc.update").await;
        latencies.push(sent.elapsed());
        assert_eq!(frame["data"]["update"], update.as_str());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort();

    // A 100 KB document typed in 30 updates of about 3.4 KB: below the compaction
    // thresholds (32 updates, 128 KiB), so it is all log.
    let raw = RawTable::new().await;
    let big = api
        .create_channel(owner, wid, json!({"name": "bench-big-doc", "kind": "doc"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut socket = huddle_tests::ws::connect(api, owner).await;
    let mut typed_so_far: Vec<String> = Vec::new();
    let chunk: String = "lorem ipsum dolor sit amet, ".repeat(122); // 3416 bytes
    let mut length = 0;
    for _ in 0..30 {
        let update = yjs::edit(8, &typed_so_far, length, &chunk, 0).await;
        length += chunk.len();
        assert_eq!(
            huddle_tests::ws::doc_update_answer(&mut socket, &big, &update).await,
            None
        );
        typed_so_far.push(update);
    }
    let before = document_footprint(&raw, &big).await;
    // Two more small updates: the log reaches 32 updates and is compacted.
    for _ in 0..2 {
        let update = yjs::edit(8, &typed_so_far, length, ".", 0).await;
        length += 1;
        assert_eq!(
            huddle_tests::ws::doc_update_answer(&mut socket, &big, &update).await,
            None
        );
        typed_so_far.push(update);
    }
    let after = document_footprint(&raw, &big).await;
    format!(
        "## Live document edits\n\n\
         Two editors of one doc channel, each on its own WebSocket. {edits} `doc.update` frames sent\n\
         one at a time (updates made beforehand by the reference Yjs); latency is from the send to the\n\
         other editor's receipt of `doc.update`. The path: the WebSocket function loads the document,\n\
         checks the update, stores it (one transaction: log item and version), then posts it straight to\n\
         the channel's other subscribers, with no stream hop (messages take the stream, above).\n\n\
         | measure | p50 (ms) | p99 (ms) | max (ms) |\n|---|---|---|---|\n\
         | update to second editor ({count}) | {p50} | {p99} | {max} |\n\n\
         A 100 KB document ({length} bytes of text) typed in 32 live updates; its `DOC#cid` partition\n\
         (approximate item sizes: attribute names and values, binary by its length):\n\n\
         | | items | total bytes | largest item |\n|---|---|---|---|\n\
         | 30 updates, before compaction | {b_items} | {b_total} | {b_max} |\n\
         | after the compaction at 32 updates | {a_items} | {a_total} | {a_max} |\n\n\
         After compaction the partition holds the record, the revision and its snapshot part (the\n\
         whole Yjs state, one item far below DynamoDB's 400 KB).\n",
        count = latencies.len(),
        p50 = ms(percentile(&latencies, 0.50)),
        p99 = ms(percentile(&latencies, 0.99)),
        max = ms(latencies.last().copied().unwrap_or_default()),
        b_items = before.0,
        b_total = before.1,
        b_max = before.2,
        a_items = after.0,
        a_total = after.1,
        a_max = after.2,
    )
}
