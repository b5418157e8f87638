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

    /// A JSON call, with a Bearer token when given. The request is built at once, so the
    /// future borrows only the client (not the path, token or body).
    pub fn call<'a>(
        &'a self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> impl Future<Output = Reply> + use<'a> {
        let mut request = self.request(method, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request)
    }

    pub fn get<'a>(
        &'a self,
        path: &str,
        token: Option<&str>,
    ) -> impl Future<Output = Reply> + use<'a> {
        self.call(Method::GET, path, token, None)
    }

    pub fn post<'a>(
        &'a self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> impl Future<Output = Reply> + use<'a> {
        self.call(Method::POST, path, token, Some(body))
    }

    pub fn patch<'a>(
        &'a self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> impl Future<Output = Reply> + use<'a> {
        self.call(Method::PATCH, path, token, Some(body))
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
    app_state_with(&[]).await
}

/// [`app_state`] with some variables of the environment replaced (e.g. a tighter bound
/// than the running gateway's, for checks below HTTP).
pub async fn app_state_with(overrides: &[(&str, &str)]) -> AppState {
    let config = Config::from_lookup(|name| {
        overrides
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
            .or_else(|| std::env::var(name).ok())
    })
    .expect("the stack's environment: run through scripts/test");
    let sdk_config = huddle_shared::state::load_aws_config().await;
    AppState::new(config, &sdk_config)
}

/// The signing secret the running gateway uses (tests forge tokens with it and without it).
pub fn jwt_secret() -> String {
    std::env::var("JWT_SECRET").expect("JWT_SECRET is not set: run the tests through scripts/test")
}

/// A workspace with one user in each role, an outsider, a public channel created by the
/// owner and a private channel created by the member (who is its only member).
#[derive(Debug, Clone)]
pub struct Team {
    pub owner: TestUser,
    pub admin: TestUser,
    pub member: TestUser,
    pub outsider: TestUser,
    pub workspace_id: String,
    pub general_id: String,
    pub public_id: String,
    pub private_id: String,
}

/// The four users of a [`Team`]; registering costs a password hash each, so tests that
/// build many teams pass the same people.
#[derive(Debug, Clone)]
pub struct People {
    pub owner: TestUser,
    pub admin: TestUser,
    pub member: TestUser,
    pub outsider: TestUser,
}

impl People {
    pub async fn register(api: &Api) -> Self {
        let (owner, admin, member, outsider) = tokio::join!(
            api.register_user(),
            api.register_user(),
            api.register_user(),
            api.register_user()
        );
        Self {
            owner,
            admin,
            member,
            outsider,
        }
    }
}

impl Api {
    /// Creates a workspace owned by `owner`; returns its JSON.
    pub async fn create_workspace(&self, owner: &TestUser, name: &str) -> Value {
        let reply = self
            .post("/v1/workspaces", owner.token(), json!({"name": name}))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create workspace: {:?}",
            reply.body
        );
        reply.body
    }

    /// Adds `user` to a workspace with `role`, as `by`.
    pub async fn add_to_workspace(
        &self,
        by: &TestUser,
        workspace_id: &str,
        user: &TestUser,
        role: &str,
    ) {
        let reply = self
            .post(
                &format!("/v1/workspaces/{workspace_id}/members"),
                by.token(),
                json!({"user_id": user.id, "role": role}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "add member: {:?}",
            reply.body
        );
    }

    /// Creates a channel as `by`; returns its JSON.
    pub async fn create_channel(&self, by: &TestUser, workspace_id: &str, body: Value) -> Value {
        let reply = self
            .post(
                &format!("/v1/workspaces/{workspace_id}/channels"),
                by.token(),
                body,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create channel: {:?}",
            reply.body
        );
        reply.body
    }

    /// A fresh [`Team`] made of `people`.
    pub async fn team(&self, people: &People) -> Team {
        let workspace = self.create_workspace(&people.owner, "Team").await;
        let workspace_id = workspace["id"].as_str().unwrap().to_owned();
        self.add_to_workspace(&people.owner, &workspace_id, &people.admin, "admin")
            .await;
        self.add_to_workspace(&people.owner, &workspace_id, &people.member, "member")
            .await;
        let public = self
            .create_channel(
                &people.owner,
                &workspace_id,
                json!({"name": "public", "kind": "chat"}),
            )
            .await;
        let private = self
            .create_channel(
                &people.member,
                &workspace_id,
                json!({"name": "private", "kind": "chat", "private": true}),
            )
            .await;
        Team {
            owner: people.owner.clone(),
            admin: people.admin.clone(),
            member: people.member.clone(),
            outsider: people.outsider.clone(),
            general_id: workspace["general_channel_id"].as_str().unwrap().to_owned(),
            workspace_id,
            public_id: public["id"].as_str().unwrap().to_owned(),
            private_id: private["id"].as_str().unwrap().to_owned(),
        }
    }

    pub fn delete<'a>(
        &'a self,
        path: &str,
        token: Option<&str>,
    ) -> impl Future<Output = Reply> + use<'a> {
        self.call(Method::DELETE, path, token, None)
    }

    pub fn put<'a>(
        &'a self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> impl Future<Output = Reply> + use<'a> {
        self.call(Method::PUT, path, token, Some(body))
    }

    /// Walks a list route to its end with `limit`, returning every item.
    pub async fn walk(&self, path: &str, token: Option<&str>, limit: u32) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let separator = if path.contains('?') { '&' } else { '?' };
        for _ in 0..1000 {
            let url = match &cursor {
                Some(cursor) => format!("{path}{separator}limit={limit}&cursor={cursor}"),
                None => format!("{path}{separator}limit={limit}"),
            };
            let reply = self.get(&url, token).await;
            assert_eq!(reply.status, StatusCode::OK, "{url}: {:?}", reply.body);
            let page = reply.body["items"].as_array().unwrap();
            assert!(page.len() <= limit as usize);
            items.extend(page.iter().cloned());
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("{path}: pagination did not end");
    }
}

/// A stream image of a top-level message, keyed as the store keys it, with `content`
/// as given (a JSON string for a well-formed message; anything else makes a poison record).
pub fn message_image(
    channel: huddle_shared::model::ChannelId,
    message: huddle_shared::model::MessageId,
    workspace: huddle_shared::model::WorkspaceId,
    author: huddle_shared::model::UserId,
    content: Value,
) -> serde_dynamo::Item {
    use huddle_shared::keys;
    let (cid, mid) = (channel.to_string(), message.to_string());
    let mut image = serde_json::to_value(keys::message(&cid, &mid)).unwrap();
    let listing = serde_json::to_value(keys::message_listing(&cid, None, &mid)).unwrap();
    let fields = json!({
        "type": keys::entity::MESSAGE, "id": mid, "channel_id": cid,
        "workspace_id": workspace.to_string(), "author_id": author.to_string(),
        "content": content, "created_at": "2026-11-21T00:00:00Z",
    });
    for extra in [listing, fields] {
        if let (Some(image), Value::Object(extra)) = (image.as_object_mut(), extra) {
            image.extend(extra);
        }
    }
    serde_dynamo::to_item(image).unwrap()
}

/// A stream image of a WebSocket ticket (an entity the consumers ignore).
pub fn ticket_image() -> serde_dynamo::Item {
    use huddle_shared::keys;
    let mut image = serde_json::to_value(keys::ws_ticket("digest")).unwrap();
    if let Some(image) = image.as_object_mut() {
        image.insert(keys::TYPE.to_owned(), json!(keys::entity::WS_TICKET));
    }
    serde_dynamo::to_item(image).unwrap()
}
