//! Auth flows against the real local stack: registration (including 20 concurrent ones),
//! login, access-token verification, refresh rotation and reuse, logout and tickets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::auth::rules as auth_domain;
use huddle_shared::auth::secrets;
use huddle_shared::ids::UserId;
use huddle_tests::{Api, TestUser, app_state, count_status, jwt_secret, unique_email};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn register_returns_the_user_and_a_token_pair() {
    let api = Api::new();
    let email = unique_email();
    let reply = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "display_name": "  Ada Lovelace "}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let user = &reply.body["user"];
    assert_eq!(user["email"], email);
    assert_eq!(user["display_name"], "Ada Lovelace");
    assert!(user["id"].as_str().unwrap().parse::<UserId>().is_ok());
    assert!(user.get("password_hash").is_none());
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
    let tokens = &reply.body["tokens"];
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 1800);
    assert!(tokens["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 40);

    let me = api
        .get("/v1/users/me", tokens["access_token"].as_str())
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], user["id"]);
}

#[tokio::test]
async fn an_email_registers_once_whatever_its_case() {
    let api = Api::new();
    let user = api.register_user().await;
    let reply = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": user.email.to_uppercase(), "password": PASSWORD, "display_name": "Again"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error_code(), "conflict");
}

#[tokio::test]
async fn registration_validates_every_field_at_once() {
    let api = Api::new();
    let reply = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": "not-an-email", "password": "short", "display_name": ""}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "invalid_request");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["display_name", "email", "password"]);

    let too_long = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": unique_email(), "password": "p".repeat(129), "display_name": "x".repeat(65)}),
        )
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    let mut fields = too_long.error_fields();
    fields.sort();
    assert_eq!(fields, ["display_name", "password"]);

    let unknown_field = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": unique_email(), "password": PASSWORD, "display_name": "A", "role": "admin"}),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_email_create_one_account() {
    let api = Api::new();
    let email = unique_email();
    let attempts = (0..20).map(|i| {
        let api = api.clone();
        let email = email.clone();
        async move {
            api.post(
                "/v1/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "display_name": format!("Racer {i}")}),
            )
            .await
            .status
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 19), "{statuses:?}");

    let login = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
}

#[tokio::test]
async fn login_answers_unknown_email_and_wrong_password_alike() {
    let api = Api::new();
    let user = api.register_user().await;

    let ok = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": format!("  {}  ", user.email.to_uppercase()), "password": user.password}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(ok.body["user"]["id"], user.id.as_str());
    assert_eq!(ok.body["user"]["email"], user.email.as_str());
    assert_ne!(
        ok.body["tokens"]["refresh_token"],
        user.refresh_token.as_str()
    );

    let wrong_password = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": user.email, "password": "wrong password"}),
        )
        .await;
    let unknown_email = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": unique_email(), "password": PASSWORD}),
        )
        .await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.error_code(), "unauthorized");

    let missing = api
        .post("/v1/auth/login", None, json!({"email": user.email}))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

fn claims(overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "sub": UserId::generate().to_string(),
        "iss": "huddle",
        "aud": "huddle-api",
        "iat": now,
        "exp": now + 600,
    });
    if let (Some(base), Some(overrides)) = (claims.as_object_mut(), overrides.as_object()) {
        for (key, value) in overrides {
            if value.is_null() {
                base.remove(key);
            } else {
                base.insert(key.clone(), value.clone());
            }
        }
    }
    claims
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    huddle_shared::auth::jwt_crypto::install();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn bad_access_tokens_are_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let api = Api::new();
    let user = api.register_user().await;
    let secret = jwt_secret();
    let key = secret.as_bytes();
    let for_user = |overrides: Value| {
        let mut overrides = overrides;
        overrides["sub"] = json!(user.id);
        claims(overrides)
    };

    // The control: a token we sign the right way is accepted.
    let good = sign(&for_user(json!({})), key);
    assert_eq!(
        api.get("/v1/users/me", Some(&good)).await.status,
        StatusCode::OK
    );

    let now = chrono::Utc::now().timestamp();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_body = URL_SAFE_NO_PAD.encode(for_user(json!({})).to_string());
    let cases = [
        (
            "forged",
            sign(&for_user(json!({})), b"another-secret-another-secret-xx"),
        ),
        (
            "expired",
            sign(
                &for_user(json!({"iat": now - 7200, "exp": now - 3600})),
                key,
            ),
        ),
        ("alg none", format!("{none_header}.{none_body}.")),
        (
            "wrong audience",
            sign(&for_user(json!({"aud": "someone-else"})), key),
        ),
        (
            "wrong issuer",
            sign(&for_user(json!({"iss": "someone-else"})), key),
        ),
        ("no exp", sign(&for_user(json!({"exp": null})), key)),
        ("no aud", sign(&for_user(json!({"aud": null})), key)),
        ("HS512", {
            huddle_shared::auth::jwt_crypto::install();
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS512),
                &for_user(json!({})),
                &EncodingKey::from_secret(key),
            )
            .unwrap()
        }),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (name, token) in cases {
        let reply = api.get("/v1/users/me", Some(&token)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{name} token was accepted"
        );
        assert_eq!(reply.error_code(), "unauthorized", "{name}");
    }

    let no_header = api.get("/v1/users/me", None).await;
    assert_eq!(no_header.status, StatusCode::UNAUTHORIZED);
    let basic = api
        .send(
            api.request(reqwest::Method::GET, "/v1/users/me")
                .basic_auth("a", Some("b")),
        )
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
}

async fn refresh(api: &Api, token: &str) -> huddle_tests::Reply {
    api.post("/v1/auth/refresh", None, json!({"refresh_token": token}))
        .await
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let api = Api::new();
    let user = api.register_user().await;

    let first = refresh(&api, &user.refresh_token).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let rotated = first.body["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let access = first.body["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(rotated, user.refresh_token);
    assert_eq!(
        api.get("/v1/users/me", Some(&access)).await.status,
        StatusCode::OK
    );

    // The rotated token works once...
    let second = refresh(&api, &rotated).await;
    assert_eq!(second.status, StatusCode::OK);
    let newest = second.body["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // ...and presenting a spent one revokes the family: the newest token dies too.
    let reused = refresh(&api, &user.refresh_token).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    let after_reuse = refresh(&api, &newest).await;
    assert_eq!(after_reuse.status, StatusCode::UNAUTHORIZED);

    // Another session of the same user is untouched.
    let login = api
        .post(
            "/v1/auth/login",
            None,
            json!({"email": user.email, "password": user.password}),
        )
        .await;
    let other = login.body["tokens"]["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&api, other).await.status, StatusCode::OK);
}

#[tokio::test]
async fn concurrent_use_of_one_refresh_token_succeeds_at_most_once() {
    let api = Api::new();
    let user = api.register_user().await;
    let attempts = (0..8).map(|_| refresh(&api, &user.refresh_token));
    let replies = futures::future::join_all(attempts).await;
    let ok = count_status(&replies, StatusCode::OK);
    assert!(ok <= 1, "{ok} concurrent refreshes succeeded");
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::OK || r.status == StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test]
async fn unknown_or_malformed_refresh_tokens_are_refused() {
    let api = Api::new();
    assert_eq!(
        refresh(&api, "no-such-token").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(refresh(&api, "").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&api, &"x".repeat(10_000)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let wrong_type = api
        .post("/v1/auth/refresh", None, json!({"refresh_token": 42}))
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.error_fields(), ["refresh_token"]);
}

#[tokio::test]
async fn logout_revokes_the_session_and_only_the_callers() {
    let api = Api::new();
    let user = api.register_user().await;
    let other = api.register_user().await;

    let anonymous = api
        .post(
            "/v1/auth/logout",
            None,
            json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // Someone else's refresh token: answered like any unknown token, and left alone.
    let foreign = api
        .post(
            "/v1/auth/logout",
            other.token(),
            json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NO_CONTENT);

    let rotated = refresh(&api, &user.refresh_token).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let current = rotated.body["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let logout = api
        .post(
            "/v1/auth/logout",
            user.token(),
            json!({"refresh_token": current}),
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(logout.body, Value::Null);
    assert_eq!(
        refresh(&api, &current).await.status,
        StatusCode::UNAUTHORIZED
    );

    let again = api
        .post(
            "/v1/auth/logout",
            user.token(),
            json!({"refresh_token": current}),
        )
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "logout is idempotent");
    assert_eq!(
        refresh(&api, &other.refresh_token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_ws_ticket_is_single_use() {
    let api = Api::new();
    let user: TestUser = api.register_user().await;

    let anonymous = api.post("/v1/auth/ws-ticket", None, json!({})).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let reply = api
        .send(
            api.request(reqwest::Method::POST, "/v1/auth/ws-ticket")
                .bearer_auth(&user.access_token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["expires_in"], 60);
    let ticket = reply.body["ticket"].as_str().unwrap();

    // Redeemed the way $connect redeems it: the same domain function, the same table.
    let state = app_state().await;
    let redeemed = auth_domain::redeem_ws_ticket(&state, ticket).await;
    assert_eq!(redeemed.unwrap().to_string(), user.id);
    let reused = auth_domain::redeem_ws_ticket(&state, ticket).await;
    assert!(matches!(
        reused,
        Err(huddle_shared::ApiError::Unauthorized(_))
    ));
    let unknown = auth_domain::redeem_ws_ticket(&state, "not-a-ticket").await;
    assert!(matches!(
        unknown,
        Err(huddle_shared::ApiError::Unauthorized(_))
    ));
}

#[tokio::test]
async fn an_expired_ws_ticket_is_refused() {
    let state = app_state().await;
    let ticket = secrets::generate().unwrap();
    let user = UserId::generate();
    let already_expired = chrono::Utc::now().timestamp() - 1;
    state
        .store
        .put_ws_ticket(&secrets::digest(&ticket), user, already_expired)
        .await
        .unwrap();
    let redeemed = auth_domain::redeem_ws_ticket(&state, &ticket).await;
    assert!(matches!(
        redeemed,
        Err(huddle_shared::ApiError::Unauthorized(_))
    ));
}
