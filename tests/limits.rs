//! Rate limits and the WebSocket cap: bursts over a limit get 429 `rate_limited` with
//! `Retry-After`, calls under it pass, and a failed-login limit refuses even the right
//! password. Limits that the shared test gateway relaxes (it runs the whole suite from one
//! address) are driven through the same rules with their own configuration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};

use futures::future::join_all;
use huddle_shared::ApiError;
use huddle_shared::AppState;
use huddle_shared::auth::rules::{self as auth, LoginRequest, RegisterRequest};
use huddle_shared::ids::{ChannelId, UserId};
use huddle_shared::{limits, messages};
use huddle_tests::ws::{self, ws_url};
use huddle_tests::{Api, People, app_state_with, unique_email};
use reqwest::StatusCode;
use serde_json::json;

fn registration(email: &str) -> RegisterRequest {
    RegisterRequest {
        email: email.to_owned(),
        password: "correct horse battery".to_owned(),
        display_name: "Limited".to_owned(),
    }
}

fn rand_octets() -> [u8; 4] {
    let id = ulid::Ulid::new().0.to_le_bytes();
    [id[0], id[1], id[2], id[3]]
}

fn retry_after(error: &ApiError) -> u64 {
    match error {
        ApiError::RateLimited { retry_after, .. } => *retry_after,
        other => panic!("expected rate_limited, got {other:?}"),
    }
}

/// Ten failed logins to one email in the window, then even the right password is refused
/// (429 with Retry-After), through the real gateway; another email is unaffected.
#[tokio::test]
async fn failed_logins_lock_an_email_even_for_the_right_password() {
    let api = Api::new();
    let user = api.register_user().await;
    let other = api.register_user().await;
    let attempt = |email: String, password: &'static str| {
        let api = &api;
        async move {
            api.post(
                "/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await
        }
    };
    for _ in 0..10 {
        let reply = attempt(user.email.clone(), "wrong password!").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let locked = api
        .send(
            api.request(reqwest::Method::POST, "/v1/auth/login").json(
                &json!({"email": user.email.to_uppercase(), "password": user.password.clone()}),
            ),
        )
        .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        locked.body
    );
    assert_eq!(locked.error_code(), "rate_limited");
    let seconds: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&seconds), "{seconds}");
    // Another account from the same address still signs in.
    let fine = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": other.email, "password": other.password}),
        )
        .await;
    assert_eq!(fine.status, StatusCode::OK);
}

/// Per source address: register and login calls beyond the hourly limit are refused, for
/// that address only; `0` turns the limit off.
#[tokio::test]
async fn auth_calls_are_limited_per_address() {
    let state = app_state_with(|config| config.limits.address_per_hour = 3).await;
    // Addresses of this run alone (buckets outlive a run by their window).
    let [a, b, c, _] = rand_octets();
    let here = Some(IpAddr::V4(Ipv4Addr::new(10, a, b, c)));
    let there = Some(IpAddr::V4(Ipv4Addr::new(10, a, b, c.wrapping_add(1))));
    let results = join_all((0..5).map(|_| {
        let state = &state;
        async move { auth::register(state, registration(&unique_email()), here).await }
    }))
    .await;
    let refused: Vec<&ApiError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(refused.len(), 2, "{results:?}");
    assert!(refused.iter().all(|e| retry_after(e) >= 1));
    let login = LoginRequest {
        email: unique_email(),
        password: "whatever123".into(),
    };
    let error = auth::login(&state, login, here).await.unwrap_err();
    assert!(matches!(error, ApiError::RateLimited { .. }), "{error:?}");
    // Another address is its own bucket.
    auth::register(&state, registration(&unique_email()), there)
        .await
        .unwrap();
    // Off: no limit at all.
    let off = app_state_with(|config| config.limits.address_per_hour = 0).await;
    for _ in 0..4 {
        auth::register(&off, registration(&unique_email()), here)
            .await
            .unwrap();
    }
}

/// Sends `content` to `channel` as `user` through the send rule.
async fn send_text(
    state: &AppState,
    user: UserId,
    channel: ChannelId,
    content: String,
) -> Result<messages::MessageView, ApiError> {
    messages::send(
        state,
        user,
        channel,
        messages::SendMessageRequest {
            content,
            parent_id: None,
            attachment_ids: Vec::new(),
            client_id: None,
        },
    )
    .await
}

/// Sends per user: a burst over the limit is refused, exactly the limit passes, and
/// another user's sends are unaffected.
#[tokio::test]
async fn message_sends_are_limited_per_user() {
    let api = Api::new();
    let people = People::register(&api).await;
    let team = api.team(&people).await;
    let state = app_state_with(|config| config.limits.sends = 5).await;
    let channel = team.general_id.parse().unwrap();
    let send = |user: UserId, n: usize| send_text(&state, user, channel, format!("burst {n}"));
    let member: UserId = team.member.id.parse().unwrap();
    let results = join_all((0..8).map(|n| send(member, n))).await;
    let sent = results.iter().filter(|r| r.is_ok()).count();
    let limited = results
        .iter()
        .filter(|r| matches!(r, Err(ApiError::RateLimited { .. })))
        .count();
    assert_eq!((sent, limited), (5, 3), "{results:?}");
    let owner: UserId = team.owner.id.parse().unwrap();
    send(owner, 0).await.unwrap();
}

/// A send refused for access counts nothing against the sender's limit, also where this
/// process already knows the channel and lets the send's transaction alone check access:
/// the refusal is then the one the access read gives (404 where the caller may not see the
/// channel, 403 to a workspace member outside a public one), and a membership that ends
/// between two sends ends them.
#[tokio::test]
async fn refused_sends_count_nothing_and_are_explained_as_a_read_would() {
    let api = Api::new();
    let people = People::register(&api).await;
    let team = api.team(&people).await;
    let state = app_state_with(|config| config.limits.sends = 2).await;
    let send = |user: &str, channel: &str| {
        let (user, channel) = (user.parse().unwrap(), channel.parse().unwrap());
        send_text(&state, user, channel, "refused or not".into())
    };
    let known = |channel: &str| {
        state
            .store
            .memory()
            .channel_homes
            .get(&channel.parse().unwrap())
            .is_some()
    };
    let (admin, outsider) = (&team.admin.id, &team.outsider.id);
    let cases = [
        (admin, &team.private_id, StatusCode::NOT_FOUND),
        (admin, &team.public_id, StatusCode::FORBIDDEN),
        (outsider, &team.general_id, StatusCode::NOT_FOUND),
    ];
    for (user, channel, status) in cases {
        // The first send reads access (the process has not met the channel); the next
        // ones are checked by their transaction, then explained by the same read.
        assert!(!known(channel));
        for _ in 0..3 {
            let refused = send(user, channel).await.unwrap_err();
            assert_eq!(refused.status(), status, "{refused:?}");
            assert!(known(channel));
        }
    }
    // None of those counted: the admin still has both sends of the window.
    send(admin, &team.general_id).await.unwrap();
    send(admin, &team.general_id).await.unwrap();
    let refused = send(admin, &team.general_id).await.unwrap_err();
    assert!(retry_after(&refused) >= 1);

    // The member sends in their private channel (known to the process now), is removed
    // from the workspace, and their next send there is refused by the write.
    send(&team.member.id, &team.private_id).await.unwrap();
    api.remove_from_workspace(&team.owner, &team.workspace_id, &team.member)
        .await;
    let refused = send(&team.member.id, &team.private_id).await.unwrap_err();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{refused:?}");
}

/// Upload requests per user, the same way.
#[tokio::test]
async fn upload_requests_are_limited_per_user() {
    let state = app_state_with(|config| config.limits.uploads_per_minute = 2).await;
    let user = UserId::generate();
    limits::upload(&state, user).await.unwrap();
    limits::upload(&state, user).await.unwrap();
    let error = limits::upload(&state, user).await.unwrap_err();
    assert!(retry_after(&error) <= 60);
    limits::upload(&state, UserId::generate()).await.unwrap();
}

/// At most ten open WebSockets per user: the eleventh is refused with 429 before the
/// upgrade, and closing one frees its slot.
#[tokio::test]
async fn an_eleventh_websocket_is_refused_until_one_closes() {
    let api = Api::new();
    let user = api.register_user().await;
    let mut sockets = Vec::new();
    for _ in 0..10 {
        sockets.push(ws::connect(&api, &user).await);
    }
    let ticket = ws::ticket(&api, &user).await;
    match tokio_tungstenite::connect_async(ws_url(&ticket)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        }
        other => panic!("expected a refused upgrade, got {:?}", other.map(|_| ())),
    }
    // Another user is unaffected.
    let other = api.register_user().await;
    let _theirs = ws::connect(&api, &other).await;
    // Closing one gives its slot back (the gateway runs $disconnect on close).
    let mut closed = sockets.pop().unwrap();
    closed.close(None).await.unwrap();
    drop(closed);
    huddle_tests::eventually("a slot frees up", || async {
        let ticket = ws::ticket(&api, &user).await;
        tokio_tungstenite::connect_async(ws_url(&ticket))
            .await
            .is_ok()
    })
    .await;
    drop(sockets);
}

/// Concurrent connects at the cap admit exactly the free slots.
#[tokio::test]
async fn concurrent_connects_never_pass_the_cap() {
    let api = Api::new();
    let user = api.register_user().await;
    let tickets = join_all((0..14).map(|_| ws::ticket(&api, &user))).await;
    let attempts = join_all(
        tickets
            .iter()
            .map(|ticket| tokio_tungstenite::connect_async(ws_url(ticket))),
    )
    .await;
    let opened: Vec<_> = attempts.into_iter().filter_map(Result::ok).collect();
    assert_eq!(opened.len(), 10);
}
