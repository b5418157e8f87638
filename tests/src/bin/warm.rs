//! Warm latency of the busiest routes (run by `scripts/bench`, never by the tests): 8
//! concurrent clients call one route at a time through the local gateway, and each answer's
//! `x-huddle-aws-calls` header (the stack counts calls) says how long the server spent on
//! the request and how much of that it waited on DynamoDB Local. Writes a Markdown section
//! to `BENCH_WARM_OUTPUT`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::future::join_all;
use huddle_tests::measure::{ms, percentile, setting};
use huddle_tests::{Api, TestUser};
use reqwest::Method;
use serde_json::{Value, json};

/// One answer: the client's latency, the server's time and its wait on AWS.
struct Sample {
    latency: Duration,
    server: Duration,
    aws: Duration,
}

fn header_micros(header: &str, name: &str) -> Duration {
    let micros = header
        .split("; ")
        .find_map(|part| part.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_micros(micros)
}

/// What client `client` sends as its `n`th request of a route.
type Request = (Method, String, Option<Value>);

/// The five routes, each a function from (client, n) to its request.
struct Route {
    name: &'static str,
    request: Box<dyn Fn(usize, usize) -> Request + Send + Sync>,
}

async fn call(http: &reqwest::Client, api: &Api, user: &TestUser, request: Request) -> Sample {
    let (method, path, body) = request;
    let mut builder = http
        .request(method, api.url(&path))
        .bearer_auth(&user.access_token);
    if let Some(body) = body {
        builder = builder.json(&body);
    }
    let started = Instant::now();
    let response = builder.send().await.expect("the gateway answers");
    let status = response.status();
    let header = response
        .headers()
        .get("x-huddle-aws-calls")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.bytes().await.expect("a body");
    let latency = started.elapsed();
    assert!(
        status.is_success(),
        "{path}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    Sample {
        latency,
        server: header_micros(&header, "server_us"),
        aws: header_micros(&header, "aws_us"),
    }
}

#[tokio::main]
async fn main() {
    let clients = setting("BENCH_WARM_CLIENTS", 8);
    let per_client = setting("BENCH_WARM_REQUESTS", 100);
    let warmup = setting("BENCH_WARM_WARMUP", 20);
    let output = std::env::var("BENCH_WARM_OUTPUT").expect("BENCH_WARM_OUTPUT: where to write");
    let api = Api::new();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients * 2)
        .build()
        .unwrap();

    let users: Vec<TestUser> = join_all((0..clients).map(|_| api.register_user())).await;
    let owner = &users[0];
    let others: Vec<&TestUser> = users[1..].iter().collect();
    let workspace = api.workspace_with(owner, &others).await;
    let wid = workspace["id"].as_str().unwrap().to_owned();
    let channel = api
        .create_channel(owner, &wid, json!({"name": "warm", "kind": "chat"}))
        .await;
    let cid = channel["id"].as_str().unwrap().to_owned();
    join_all(users[1..].iter().map(|user| api.join(user, &cid))).await;
    // A channel with history: 50 messages, which the reads page through and react to.
    let mut messages = Vec::new();
    for n in 0..50 {
        let sent = api
            .post_text(&users[n % clients], &cid, &format!("history {n}"))
            .await;
        messages.push(sent["id"].as_str().unwrap().to_owned());
    }
    let messages = std::sync::Arc::new(messages);

    let routes: Vec<Route> = vec![
        Route {
            name: "GET /v1/channels/{channel_id}/messages",
            request: Box::new({
                let cid = cid.clone();
                move |_, _| (Method::GET, format!("/v1/channels/{cid}/messages"), None)
            }),
        },
        Route {
            name: "POST /v1/channels/{channel_id}/messages",
            request: Box::new({
                let cid = cid.clone();
                move |client, n| {
                    let body = json!({"content": format!("warm {client} {n}")});
                    (
                        Method::POST,
                        format!("/v1/channels/{cid}/messages"),
                        Some(body),
                    )
                }
            }),
        },
        Route {
            name: "PUT /v1/channels/{channel_id}/read",
            request: Box::new({
                let (cid, messages) = (cid.clone(), messages.clone());
                move |_, n| {
                    let body = json!({"message_id": messages[n % messages.len()]});
                    (Method::PUT, format!("/v1/channels/{cid}/read"), Some(body))
                }
            }),
        },
        Route {
            name: "GET /v1/workspaces/{workspace_id}/channels",
            request: Box::new({
                let wid = wid.clone();
                move |_, _| (Method::GET, format!("/v1/workspaces/{wid}/channels"), None)
            }),
        },
        Route {
            name: "PUT/DELETE .../reactions/{emoji} (alternating)",
            request: Box::new({
                let (cid, messages) = (cid.clone(), messages.clone());
                move |_, n| {
                    let message = &messages[(n / 2) % messages.len()];
                    let method = if n % 2 == 0 {
                        Method::PUT
                    } else {
                        Method::DELETE
                    };
                    let path = format!("/v1/channels/{cid}/messages/{message}/reactions/tada");
                    (method, path, None)
                }
            }),
        },
    ];

    let mut report = format!(
        "## Warm latency\n\n\
         {clients} concurrent clients, each sending {per_client} requests of one route one \
         after another ({warmup} per client first, not counted), through the local gateway. \
         Latency is the client's, from send to the whole answer. The server's time and its \
         time in AWS SDK calls come from each answer's `x-huddle-aws-calls` header \
         (`server_us`; `aws_us`: the time at least one call was in flight, from the SDK \
         call's start to its end, so it holds the SDK's serialising, signing and parsing as \
         well as DynamoDB Local's answer); the rest of the server's time is our code \
         (routing, auth, JSON, the rules).\n\n\
         | route | requests | p50 (ms) | p99 (ms) | server, mean (ms) | in SDK calls (DynamoDB Local) | our code |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for route in &routes {
        let run = |count: usize, offset: usize| {
            join_all(users.iter().enumerate().map(|(client, user)| {
                let (http, api, route) = (&http, &api, &route);
                async move {
                    let mut samples = Vec::with_capacity(count);
                    for n in offset..offset + count {
                        samples.push(call(http, api, user, (route.request)(client, n)).await);
                    }
                    samples
                }
            }))
        };
        run(warmup, 0).await;
        let samples: Vec<Sample> = run(per_client, warmup)
            .await
            .into_iter()
            .flatten()
            .collect();
        let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
        latencies.sort();
        let server: Duration = samples.iter().map(|s| s.server).sum();
        let aws: Duration = samples.iter().map(|s| s.aws).sum();
        let count = u32::try_from(samples.len()).unwrap();
        let share = if server.is_zero() {
            0.0
        } else {
            aws.as_secs_f64() / server.as_secs_f64()
        };
        report.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {:.0}% | {:.0}% |\n",
            route.name,
            samples.len(),
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            ms(server / count),
            share * 100.0,
            (1.0 - share) * 100.0,
        ));
        eprintln!("warm latency: {} done", route.name);
    }
    std::fs::write(&output, report).expect("writing the warm-latency report");
}
