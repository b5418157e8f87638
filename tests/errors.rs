//! The error model over HTTP: malformed bodies, wrong types, oversize bodies, unknown
//! routes and methods all get the API.md error body with a 4xx, never a 5xx.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_tests::Api;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn health_answers_ok_with_a_request_id() {
    let api = Api::new();
    let reply = api.get("/v1/health", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"status": "ok"}));
    assert!(reply.headers.contains_key("x-request-id"));

    let echoed = api
        .send(
            api.request(Method::GET, "/v1/health")
                .header("x-request-id", "trace-me-123"),
        )
        .await;
    assert_eq!(echoed.headers["x-request-id"], "trace-me-123");
}

#[tokio::test]
async fn malformed_bodies_are_400s() {
    let api = Api::new();
    let raw = |body: &'static str| {
        api.request(Method::POST, "/v1/auth/register")
            .header("content-type", "application/json")
            .body(body)
    };
    for body in [
        "{",
        "not json",
        "",
        "[]",
        "null",
        r#"{"email": "a@b.co"} trailing"#,
    ] {
        let reply = api.send(raw(body)).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body:?}: {:?}",
            reply.body
        );
        assert_eq!(reply.error_code(), "invalid_request", "{body:?}");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }

    let wrong_type = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": "a@b.co", "password": 12345678, "display_name": "A"}),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.error_fields(), ["password"]);

    let missing = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": "a@b.co", "password": "12345678"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("display_name")
    );

    let no_content_type = api
        .send(
            api.request(Method::POST, "/v1/auth/login")
                .body(r#"{"email":"a@b.co","password":"x"}"#),
        )
        .await;
    assert_eq!(no_content_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_content_type.error_code(), "invalid_request");
}

#[tokio::test]
async fn oversize_bodies_are_413s() {
    let api = Api::new();
    let huge = format!(
        r#"{{"email":"a@b.co","password":"12345678","display_name":"{}"}}"#,
        "x".repeat(1_100_000)
    );
    let reply = api
        .send(
            api.request(Method::POST, "/v1/auth/register")
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error_code(), "too_large");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let api = Api::new();
    let missing = api.get("/v1/nowhere", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error_code(), "not_found");

    let wrong_method = api.call(Method::DELETE, "/v1/auth/login", None, None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error_code(), "method_not_allowed");
}
