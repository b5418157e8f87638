//! Helpers for the integration tests: an HTTP client for the running local gateway, user
//! registration, and the same `AppState` the functions build, for checks below HTTP.
//! The stack comes from `scripts/test`; without it every test fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::AppState;
use huddle_shared::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The gateway's base URL, set by `scripts/test`.
pub fn base_url() -> String {
    std::env::var("HUDDLE_BASE_URL")
        .expect("HUDDLE_BASE_URL is not set: run the tests through scripts/test")
}

/// A unique, valid email address.
pub fn unique_email() -> String {
    format!(
        "user-{}@example.test",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

/// A response: status, headers and the JSON body (`Null` for an empty one).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error body.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// The fields named in `error.details`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["error"]["details"]
            .as_array()
            .map(|details| {
                details
                    .iter()
                    .filter_map(|d| d["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A client for the API.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

impl Api {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base_url(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// Sends a request and reads the reply.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the gateway is not reachable");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("reading the body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "non-JSON body ({status}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A JSON call, with a Bearer token when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.request(method, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    /// Registers a fresh user and returns it with its tokens.
    pub async fn register_user(&self) -> TestUser {
        let email = unique_email();
        let password = "correct horse battery".to_owned();
        let reply = self
            .post(
                "/v1/auth/register",
                None,
                json!({"email": email, "password": password, "display_name": "Test User"}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "register: {:?}",
            reply.body
        );
        TestUser::from_session(&reply.body, email, password)
    }
}

/// A registered user and the tokens of its session.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestUser {
    pub fn from_session(body: &Value, email: String, password: String) -> Self {
        Self {
            id: body["user"]["id"].as_str().expect("user.id").to_owned(),
            email,
            password,
            access_token: body["tokens"]["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh_token: body["tokens"]["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }

    pub fn token(&self) -> Option<&str> {
        Some(&self.access_token)
    }
}

/// The same state the functions build at cold start, from the same environment.
pub async fn app_state() -> AppState {
    let config = Config::from_env().expect("the stack's environment: run through scripts/test");
    let sdk_config = huddle_shared::state::load_aws_config().await;
    AppState::new(config, &sdk_config)
}

/// The signing secret the running gateway uses (tests forge tokens with it and without it).
pub fn jwt_secret() -> String {
    std::env::var("JWT_SECRET").expect("JWT_SECRET is not set: run the tests through scripts/test")
}
