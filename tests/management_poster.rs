//! The deployed poster (`ManagementPoster`) against a management API of the test's own that
//! holds each post open: with an in-flight limit, the posts of several events at once stay
//! within it (the broadcaster's partitions share it); without one, they do not. A 410 is
//! a gone connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use huddle_shared::aws::sdk_config_from;
use huddle_shared::realtime::{ManagementPoster, PostOutcome, Poster};

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
