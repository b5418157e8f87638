//! The deployed poster (`ManagementPoster`) against management APIs of the test's own
//! rather than the stack: it signs exactly as the AWS SDK's management API client does
//! (same address, headers, body and signature for the same post); it retries, gives up and
//! reports gone connections as the SDK's standard retry mode would; and with an in-flight
//! limit, the posts of several events at once stay within it (the broadcaster's
//! partitions share it), while without one they do not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_apigatewaymanagement::config::Credentials;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use huddle_shared::aws::sdk_config_from;
use huddle_shared::realtime::{ManagementPoster, PostOutcome, Poster};

/// A connection id as API Gateway makes them (base64, ending in `=`).
const CONNECTION: &str = "L0SM9cOFvHcCIhw=";
const FRAME: &[u8] = br#"{"type":"message.created","data":{"id":"m1"}}"#;
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SESSION_TOKEN: &str = "a-session-token";

fn signing_config() -> aws_types::SdkConfig {
    sdk_config_from([
        ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDEXAMPLE".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), SECRET.to_owned()),
        ("AWS_SESSION_TOKEN".to_owned(), SESSION_TOKEN.to_owned()),
    ])
}

/// A post as the recording server received it.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// What the recording server answers (in turn; 200 once the list runs out) and has seen.
#[derive(Default)]
struct Script {
    statuses: VecDeque<u16>,
    received: Vec<Received>,
}

async fn record(State(script): State<Arc<Mutex<Script>>>, request: Request) -> StatusCode {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let mut script = script.lock().unwrap();
    script.received.push(Received {
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body,
    });
    StatusCode::from_u16(script.statuses.pop_front().unwrap_or(200)).unwrap()
}

/// A management API on 127.0.0.1 answering posts with `statuses` in turn, under `/prod`.
async fn recorder(statuses: &[u16]) -> (String, Arc<Mutex<Script>>) {
    let script = Arc::new(Mutex::new(Script {
        statuses: statuses.iter().copied().collect(),
        received: Vec::new(),
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/prod", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/prod/@connections/{connection}", post(record))
        .with_state(script.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, script)
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received.headers[name].to_str().unwrap()
}

#[tokio::test]
async fn posts_sign_exactly_as_the_sdk_client_does() {
    let (endpoint, script) = recorder(&[]).await;
    let sdk_config = signing_config();
    let sdk = aws_sdk_apigatewaymanagement::Client::from_conf(
        aws_sdk_apigatewaymanagement::config::Builder::from(&sdk_config)
            .endpoint_url(&endpoint)
            .build(),
    );
    sdk.post_to_connection()
        .connection_id(CONNECTION)
        .data(Blob::new(FRAME))
        .send()
        .await
        .expect("the SDK's post");
    let poster = ManagementPoster::new(&sdk_config, &endpoint);
    assert_eq!(
        poster.post(CONNECTION, FRAME.to_vec()).await,
        PostOutcome::Delivered
    );
    let [by_sdk, ours] =
        <[Received; 2]>::try_from(script.lock().unwrap().received.clone()).expect("two posts");

    // The same post: the address (the id encoded as a path label), the headers, the body.
    assert_eq!(by_sdk.path, "/prod/@connections/L0SM9cOFvHcCIhw%3D");
    assert_eq!(ours.path, by_sdk.path);
    for name in [
        "content-type",
        "content-length",
        "host",
        "x-amz-security-token",
    ] {
        assert_eq!(ours.headers.get(name), by_sdk.headers.get(name), "{name}");
    }
    assert_eq!(ours.body, by_sdk.body);
    assert_eq!(&ours.body[..], FRAME);
    let signed_headers = |received: &Received| {
        header(received, "authorization")
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap()
            .to_owned()
    };
    // The SDK signs its user-agent header too; Huddle sends none.
    assert_eq!(
        signed_headers(&by_sdk),
        format!("{};x-amz-user-agent", signed_headers(&ours))
    );

    // Our signing of the SDK's very request (its signed headers, its moment) gives the
    // SDK's signature.
    let signed_at =
        chrono::NaiveDateTime::parse_from_str(header(&by_sdk, "x-amz-date"), "%Y%m%dT%H%M%SZ")
            .unwrap()
            .and_utc();
    let mut copy = axum::http::Request::post(format!(
        "{}{}",
        endpoint.trim_end_matches("/prod"),
        by_sdk.path
    ));
    for name in signed_headers(&by_sdk).split(';') {
        copy = copy.header(name, header(&by_sdk, name));
    }
    let mut copy = copy.body(()).unwrap();
    poster
        .sign(
            &mut copy,
            &by_sdk.body,
            Credentials::new(
                "AKIDEXAMPLE",
                SECRET,
                Some(SESSION_TOKEN.into()),
                None,
                "test",
            ),
            SystemTime::from(signed_at),
        )
        .unwrap();
    assert_eq!(
        copy.headers()["authorization"].to_str().unwrap(),
        header(&by_sdk, "authorization")
    );
}

/// Posts one frame to a recorder answering `statuses`: the outcome, and the posts made.
async fn post_against(statuses: &[u16]) -> (PostOutcome, usize) {
    let (endpoint, script) = recorder(statuses).await;
    let poster = ManagementPoster::new(&signing_config(), &endpoint);
    let outcome = poster.post(CONNECTION, FRAME.to_vec()).await;
    let made = script.lock().unwrap().received.len();
    (outcome, made)
}

#[tokio::test]
async fn a_gone_connection_is_reported_after_one_post() {
    assert_eq!(post_against(&[410]).await, (PostOutcome::Gone, 1));
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_until_delivered() {
    assert_eq!(post_against(&[429, 503]).await, (PostOutcome::Delivered, 3));
}

#[tokio::test]
async fn a_post_gives_up_after_three_attempts_and_a_refused_one_at_once() {
    for (statuses, posts, says) in [(&[500, 502, 504][..], 3, "504"), (&[403][..], 1, "403")] {
        let (outcome, made) = post_against(statuses).await;
        assert!(
            matches!(&outcome, PostOutcome::Failed(reason) if reason.contains(says)),
            "{statuses:?}: {outcome:?}"
        );
        assert_eq!(made, posts, "{statuses:?}");
    }
}

#[tokio::test]
async fn nobody_listening_fails_after_the_retries() {
    // A port that was free a moment ago: connections are refused.
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let poster = ManagementPoster::new(&signing_config(), &address);
    let outcome = poster.post(CONNECTION, FRAME.to_vec()).await;
    assert!(
        matches!(&outcome, PostOutcome::Failed(reason) if reason.matches("; ").count() == 2),
        "three failed attempts: {outcome:?}"
    );
}

/// Requests the server holds open until this many are in flight (or [`HOLD_AT_MOST`]).
const GATHER: usize = 8;
const HOLD_AT_MOST: Duration = Duration::from_millis(100);

#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    most: AtomicUsize,
}

async fn hold(
    State(in_flight): State<Arc<InFlight>>,
    Path(connection): Path<String>,
) -> StatusCode {
    let now = in_flight.now.fetch_add(1, Ordering::SeqCst) + 1;
    in_flight.most.fetch_max(now, Ordering::SeqCst);
    let gathered = async {
        while in_flight.now.load(Ordering::SeqCst) < GATHER {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    let _ = tokio::time::timeout(HOLD_AT_MOST, gathered).await;
    in_flight.now.fetch_sub(1, Ordering::SeqCst);
    if connection.starts_with("gone") {
        StatusCode::GONE
    } else {
        StatusCode::OK
    }
}

/// A management API on 127.0.0.1 and what it saw in flight at most.
async fn management_api() -> (String, Arc<InFlight>) {
    let in_flight = Arc::new(InFlight::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/@connections/{connection}", post(hold))
        .with_state(in_flight.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, in_flight)
}

fn poster(endpoint: &str) -> ManagementPoster {
    let sdk_config = sdk_config_from([
        ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDTEST".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "secret".to_owned()),
    ]);
    ManagementPoster::new(&sdk_config, endpoint)
}

/// Two events' posts at once, 20 connections each, through clones of `poster` (as the
/// broadcaster's partitions use it).
async fn two_events(poster: &ManagementPoster) -> Vec<PostOutcome> {
    let event = |name: &'static str| {
        let poster = poster.clone();
        async move {
            let posts = (0..20).map(|i| {
                let poster = poster.clone();
                async move { poster.post(&format!("{name}-{i}"), b"{}".to_vec()).await }
            });
            futures::future::join_all(posts).await
        }
    };
    let (first, second) = tokio::join!(event("a"), event("b"));
    first.into_iter().chain(second).collect()
}

#[tokio::test]
async fn posts_in_flight_stay_within_the_limit_over_every_event() {
    let (endpoint, in_flight) = management_api().await;
    let outcomes = two_events(&poster(&endpoint).with_in_flight_limit(4)).await;
    assert_eq!(outcomes.len(), 40);
    assert!(
        outcomes
            .iter()
            .all(|outcome| *outcome == PostOutcome::Delivered)
    );
    let most = in_flight.most.load(Ordering::SeqCst);
    assert!(
        (1..=4).contains(&most),
        "{most} posts were in flight at once"
    );
}

#[tokio::test]
async fn without_a_limit_the_events_post_all_at_once() {
    let (endpoint, in_flight) = management_api().await;
    let outcomes = two_events(&poster(&endpoint)).await;
    assert!(
        outcomes
            .iter()
            .all(|outcome| *outcome == PostOutcome::Delivered)
    );
    assert!(in_flight.most.load(Ordering::SeqCst) >= GATHER);
}

#[tokio::test]
async fn a_connection_that_answers_410_is_gone() {
    let (endpoint, _) = management_api().await;
    let poster = poster(&endpoint).with_in_flight_limit(1);
    assert_eq!(
        poster.post("gone-1", b"{}".to_vec()).await,
        PostOutcome::Gone
    );
    assert_eq!(
        poster.post("here-1", b"{}".to_vec()).await,
        PostOutcome::Delivered
    );
}
