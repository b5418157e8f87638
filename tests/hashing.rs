//! The bound on password hashing: at most N hashes at once and a bounded queue; callers
//! beyond it get 503 `unavailable` with `Retry-After` at once, and a refused hash leaves
//! nothing behind. Its own test binary, so its burst never meets another file's tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::ApiError;
use huddle_shared::auth::rules::{self as auth, LoginRequest, RegisterRequest};
use huddle_tests::{Api, TestUser, app_state, app_state_with, unique_email};
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

fn registration(email: &str) -> RegisterRequest {
    RegisterRequest {
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        display_name: "Bounded".to_owned(),
    }
}

fn login(email: &str, password: &str) -> LoginRequest {
    LoginRequest {
        email: email.to_owned(),
        password: password.to_owned(),
    }
}

/// Below HTTP, with the same domain code and table as the gateway but a bound of one hash
/// and no queue: while the one permit is held, every kind of hash is refused at once, and a
/// refused registration writes nothing.
#[tokio::test]
async fn a_refused_hash_is_a_503_and_leaves_nothing_behind() {
    let state = app_state_with(|config| {
        config.password_hash_concurrency = 1;
        config.password_hash_queue = 0;
    })
    .await;
    let existing = unique_email();
    auth::register(&state, registration(&existing), None)
        .await
        .unwrap();

    let held = state.passwords.acquire().await.unwrap();
    let email = unique_email();
    let refused = auth::register(&state, registration(&email), None).await;
    assert!(
        matches!(refused, Err(ApiError::Unavailable(_))),
        "{refused:?}"
    );
    assert!(state.store.get_credential(&email).await.unwrap().is_none());
    for (who, password) in [(existing.as_str(), PASSWORD), (email.as_str(), PASSWORD)] {
        // A known email (real verification) and an unknown one (the dummy) alike.
        let refused = auth::login(&state, login(who, password), None).await;
        assert!(
            matches!(refused, Err(ApiError::Unavailable(_))),
            "{refused:?}"
        );
    }
    drop(held);

    // Nothing of the refused registration is in the way of a new one.
    let session = auth::register(&state, registration(&email), None)
        .await
        .unwrap();
    let credential = state.store.get_credential(&email).await.unwrap().unwrap();
    assert_eq!(credential.user_id, session.user.id);
    let logged_in = auth::login(&state, login(&existing, PASSWORD), None).await;
    assert!(logged_in.is_ok());
    let wrong = auth::login(&state, login(&existing, "wrong password"), None).await;
    assert!(matches!(wrong, Err(ApiError::Unauthorized(_))));
}

/// What one request of the burst was.
#[derive(Debug, Clone)]
enum Attempt {
    Right(usize),
    Wrong(usize),
    Unknown,
    Register(String),
}

/// Against the running gateway and its default bound (N = the cores, a queue of 32 per
/// hash, read from the same environment here): a burst of three times that many sign-ins
/// at once overflows it, whatever the machine's speed, and every answer is right.
#[tokio::test]
async fn a_sign_in_burst_beyond_the_bound_gets_503s_and_correct_answers() {
    let api = Api::new();
    let config = app_state().await.config.clone();
    let bound = config.password_hash_concurrency + config.password_hash_queue;
    let burst = 3 * bound;
    let mut users: Vec<TestUser> = Vec::new();
    for _ in 0..4 {
        users.push(api.register_user().await);
    }

    let attempts: Vec<Attempt> = (0..burst)
        .map(|i| match i % 4 {
            0 => Attempt::Right(i % users.len()),
            1 => Attempt::Wrong(i % users.len()),
            2 => Attempt::Unknown,
            _ => Attempt::Register(unique_email()),
        })
        .collect();
    let replies = futures::future::join_all(attempts.iter().map(|attempt| match attempt {
        Attempt::Right(u) => api.post(
            "/v1/auth/login",
            None,
            json!({"email": users[*u].email, "password": PASSWORD}),
        ),
        Attempt::Wrong(u) => api.post(
            "/v1/auth/login",
            None,
            json!({"email": users[*u].email, "password": "wrong password"}),
        ),
        Attempt::Unknown => api.post(
            "/v1/auth/login",
            None,
            json!({"email": unique_email(), "password": PASSWORD}),
        ),
        Attempt::Register(email) => api.post(
            "/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "display_name": "Burst"}),
        ),
    }))
    .await;

    let mut refused = 0;
    let mut refused_emails = Vec::new();
    let mut registered_emails = Vec::new();
    for (attempt, reply) in attempts.iter().zip(&replies) {
        if reply.status == StatusCode::SERVICE_UNAVAILABLE {
            refused += 1;
            assert_eq!(reply.error_code(), "unavailable", "{:?}", reply.body);
            assert_eq!(reply.headers["retry-after"], "1");
            if let Attempt::Register(email) = attempt {
                refused_emails.push(email.clone());
            }
            continue;
        }
        match attempt {
            Attempt::Right(u) => {
                assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
                assert_eq!(reply.body["user"]["id"], users[*u].id.as_str());
            }
            Attempt::Wrong(_) | Attempt::Unknown => {
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
                assert_eq!(reply.error_code(), "unauthorized");
            }
            Attempt::Register(email) => {
                assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
                registered_emails.push(email.clone());
            }
        }
    }
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    println!("a burst of {burst} against a bound of {bound}: {refused} refused");
    assert!(refused > 0, "no 503 in a burst of {burst}: {statuses:?}");
    assert!(refused < burst, "nothing served: {statuses:?}");

    // Afterwards: accepted registrations have their account, refused ones left nothing
    // (their email registers now), and the bound is free again.
    for email in &registered_emails {
        let reply = api
            .post(
                "/v1/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{email}: {:?}", reply.body);
    }
    for email in &refused_emails {
        let reply = api
            .post(
                "/v1/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "display_name": "Again"}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{email}: {:?}",
            reply.body
        );
    }
}
