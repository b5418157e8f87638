//! Helpers for the integration tests: an HTTP client for the running local gateway, user
//! registration, the same `AppState` the functions build, for checks below HTTP, and raw
//! reads of the table ([`RawTable`]) for checks of what is stored.
//! The stack comes from `scripts/test`; without it every test fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod measure;
pub mod uploads;
pub mod ws;
pub mod yjs;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use huddle_shared::AppState;
use huddle_shared::config::Config;
use huddle_shared::keys::{Key, Partition, SortRange};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

/// A file of this checkout, by its path from the repository's root. The root is found from
/// `CARGO_MANIFEST_DIR` as cargo sets it when it runs a test (falling back to where the test
/// was compiled): a shared target directory may hold a test binary that cargo compiled in
/// another checkout of the same code and rightly finds fresh.
pub fn repo_file(relative: &str) -> std::path::PathBuf {
    let tests_crate = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    tests_crate.join("..").join(relative)
}

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

/// How many of `replies` answered `status`.
pub fn count_status(replies: &[Reply], status: StatusCode) -> usize {
    replies.iter().filter(|r| r.status == status).count()
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
    app_state_with(|_| {}).await
}

/// [`app_state`] with some of its configuration changed (a small limit, say), for calling
/// the domain rules directly: the gateway reads its configuration once for the whole run.
pub async fn app_state_with(change: impl FnOnce(&mut Config)) -> AppState {
    let mut config = Config::from_env().expect("the stack's environment: run through scripts/test");
    change(&mut config);
    let sdk_config = huddle_shared::state::load_aws_config();
    AppState::new(config, &sdk_config).expect("building the state")
}

/// A typed id (a ULID newtype) from its string form, as the API hands ids out.
pub fn typed<T>(id: &str) -> T
where
    T: std::str::FromStr,
    T::Err: std::fmt::Debug,
{
    id.parse().expect("a well-formed id")
}

/// A typed id (a ULID newtype) from a JSON string.
pub fn id<T>(value: &Value) -> T
where
    T: std::str::FromStr,
    T::Err: std::fmt::Debug,
{
    value
        .as_str()
        .unwrap_or_else(|| panic!("not an id: {value}"))
        .parse()
        .unwrap()
}

/// Polls until `check` holds, for effects that follow the table's stream (about 15 s at
/// most).
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    // As long as a WebSocket frame is waited for: what the stream drives can lag behind a
    // burst of writes (the permission matrix's) by tens of seconds on a small machine.
    let deadline = tokio::time::Instant::now() + ws::WAIT;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen");
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

/// A [`Team`] (reached through it, by `Deref`) with two doc channels besides.
#[derive(Debug, Clone)]
pub struct DocTeam {
    pub team: Team,
    /// A public doc channel the owner created (and so belongs to).
    pub doc_id: String,
    /// A private doc channel the member created.
    pub private_doc_id: String,
}

impl std::ops::Deref for DocTeam {
    type Target = Team;

    fn deref(&self) -> &Team {
        &self.team
    }
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
        let body = json!({"name": name});
        self.must_post("/v1/workspaces", owner, body, StatusCode::CREATED)
            .await
    }

    /// Adds `user` to a workspace with `role`, as `by`.
    pub async fn add_to_workspace(
        &self,
        by: &TestUser,
        workspace_id: &str,
        user: &TestUser,
        role: &str,
    ) {
        let path = format!("/v1/workspaces/{workspace_id}/members");
        let body = json!({"user_id": user.id, "role": role});
        self.must_post(&path, by, body, StatusCode::CREATED).await;
    }

    /// Creates a channel as `by`; returns its JSON.
    pub async fn create_channel(&self, by: &TestUser, workspace_id: &str, body: Value) -> Value {
        let path = format!("/v1/workspaces/{workspace_id}/channels");
        self.must_post(&path, by, body, StatusCode::CREATED).await
    }

    /// A [`Team`] of freshly registered people.
    pub async fn fresh_team(&self) -> Team {
        self.team(&People::register(self).await).await
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

    /// Sends a message as `user` (the body as given); returns the message.
    pub async fn send_message(&self, user: &TestUser, channel_id: &str, body: Value) -> Value {
        let path = format!("/v1/channels/{channel_id}/messages");
        self.must_post(&path, user, body, StatusCode::CREATED).await
    }

    /// One page of a list route: `limit`, and `cursor` when given (URL-encoded).
    pub async fn page(
        &self,
        path: &str,
        token: Option<&str>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Reply {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{path}{separator}limit={limit}");
        if let Some(cursor) = cursor {
            url.push_str("&cursor=");
            url.push_str(&percent_encode(cursor));
        }
        self.get(&url, token).await
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

/// Typed helpers, one per route, for setup steps that must succeed: each asserts the
/// route's success status (the body in the message) and returns the JSON (`Null` for a
/// 204). Denials keep the raw request and their own assertion.
impl Api {
    /// A call as `user` that must answer `expected`; returns the body.
    pub async fn must(
        &self,
        method: Method,
        path: &str,
        user: &TestUser,
        body: Option<Value>,
        expected: StatusCode,
    ) -> Value {
        let reply = self.call(method.clone(), path, user.token(), body).await;
        assert_eq!(reply.status, expected, "{method} {path}: {:?}", reply.body);
        reply.body
    }

    /// A POST as `user` that must answer `expected`; returns the body.
    pub async fn must_post(
        &self,
        path: &str,
        user: &TestUser,
        body: Value,
        expected: StatusCode,
    ) -> Value {
        self.must(Method::POST, path, user, Some(body), expected)
            .await
    }

    /// A PUT of `body` as `user` that must answer 204.
    pub async fn must_put(&self, path: &str, user: &TestUser, body: Value) {
        self.must(Method::PUT, path, user, Some(body), StatusCode::NO_CONTENT)
            .await;
    }

    /// A DELETE as `user` that must answer 204.
    pub async fn must_delete(&self, path: &str, user: &TestUser) {
        self.must(Method::DELETE, path, user, None, StatusCode::NO_CONTENT)
            .await;
    }

    /// Joins a public channel as `user`; returns the channel.
    pub async fn join(&self, user: &TestUser, channel_id: &str) -> Value {
        let path = format!("/v1/channels/{channel_id}/join");
        self.must_post(&path, user, json!({}), StatusCode::OK).await
    }

    /// Leaves a channel as `user`.
    pub async fn leave(&self, user: &TestUser, channel_id: &str) {
        let path = format!("/v1/channels/{channel_id}/leave");
        self.must_post(&path, user, json!({}), StatusCode::NO_CONTENT)
            .await;
    }

    /// Adds `user` to a channel, as `by`; returns the membership.
    pub async fn add_channel_member(
        &self,
        by: &TestUser,
        channel_id: &str,
        user: &TestUser,
    ) -> Value {
        let path = format!("/v1/channels/{channel_id}/members");
        let body = json!({"user_id": user.id});
        self.must_post(&path, by, body, StatusCode::CREATED).await
    }

    /// Removes `user` from a channel, as `by` (themselves to leave).
    pub async fn remove_channel_member(&self, by: &TestUser, channel_id: &str, user: &TestUser) {
        let path = format!("/v1/channels/{channel_id}/members/{}", user.id);
        self.must_delete(&path, by).await;
    }

    /// Opens a new DM of `by` with `others` (201); returns it.
    pub async fn open_dm(&self, by: &TestUser, workspace_id: &str, others: &[&TestUser]) -> Value {
        let ids: Vec<&str> = others.iter().map(|user| user.id.as_str()).collect();
        let path = format!("/v1/workspaces/{workspace_id}/dms");
        let body = json!({"user_ids": ids});
        self.must_post(&path, by, body, StatusCode::CREATED).await
    }

    /// Reacts to a message with `emoji` as `user`.
    pub async fn react(&self, user: &TestUser, channel_id: &str, message_id: &str, emoji: &str) {
        let emoji = percent_encode(emoji);
        let path = format!("/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}");
        self.must_put(&path, user, json!({})).await;
    }

    /// Pins a message as `user`.
    pub async fn pin(&self, user: &TestUser, channel_id: &str, message_id: &str) {
        let path = format!("/v1/channels/{channel_id}/pins/{message_id}");
        self.must_put(&path, user, json!({})).await;
    }

    /// Moves `user`'s read marker in a channel to `message_id`.
    pub async fn mark_read(&self, user: &TestUser, channel_id: &str, message_id: &str) {
        let path = format!("/v1/channels/{channel_id}/read");
        self.must_put(&path, user, json!({"message_id": message_id}))
            .await;
    }

    /// Creates an invite as `by` (the body as given); returns it (`code`, ...).
    pub async fn create_invite(&self, by: &TestUser, workspace_id: &str, body: Value) -> Value {
        let path = format!("/v1/workspaces/{workspace_id}/invites");
        self.must_post(&path, by, body, StatusCode::CREATED).await
    }

    /// Accepts an invite as `user`; returns `{workspace, role}`.
    pub async fn accept_invite(&self, user: &TestUser, code: &str) -> Value {
        let path = format!("/v1/invites/{code}/accept");
        self.must_post(&path, user, json!({}), StatusCode::OK).await
    }

    /// Removes `user` from a workspace, as `by` (themselves to leave).
    pub async fn remove_from_workspace(&self, by: &TestUser, workspace_id: &str, user: &TestUser) {
        let path = format!("/v1/workspaces/{workspace_id}/members/{}", user.id);
        self.must_delete(&path, by).await;
    }

    /// Deletes a workspace as `by` (its owner).
    pub async fn delete_workspace(&self, by: &TestUser, workspace_id: &str) {
        let path = format!("/v1/workspaces/{workspace_id}");
        self.must_delete(&path, by).await;
    }

    /// Deletes a channel as `by`.
    pub async fn delete_channel(&self, by: &TestUser, channel_id: &str) {
        let path = format!("/v1/channels/{channel_id}");
        self.must_delete(&path, by).await;
    }

    /// Reads a channel as `user` (200); returns it.
    pub async fn get_channel(&self, user: &TestUser, channel_id: &str) -> Value {
        let path = format!("/v1/channels/{channel_id}");
        self.must(Method::GET, &path, user, None, StatusCode::OK)
            .await
    }

    /// Reads a workspace as `user` (200); returns it.
    pub async fn get_workspace(&self, user: &TestUser, workspace_id: &str) -> Value {
        let path = format!("/v1/workspaces/{workspace_id}");
        self.must(Method::GET, &path, user, None, StatusCode::OK)
            .await
    }

    /// Sends a text message as `user`; returns the message.
    pub async fn post_text(&self, user: &TestUser, channel_id: &str, content: &str) -> Value {
        self.send_message(user, channel_id, json!({"content": content}))
            .await
    }

    /// A workspace owned by `owner` with `members` added as members; returns its JSON.
    pub async fn workspace_with(&self, owner: &TestUser, members: &[&TestUser]) -> Value {
        let workspace = self.create_workspace(owner, "Team").await;
        let workspace_id = workspace["id"].as_str().unwrap();
        for member in members {
            self.add_to_workspace(owner, workspace_id, member, "member")
                .await;
        }
        workspace
    }
}

/// Typed helpers for notifications, levels and the activity log.
impl Api {
    /// Every notification of `user` (newest first), `query` (`unread_only=true`, ...)
    /// added to the path; walks the pages.
    pub async fn notifications(&self, user: &TestUser, query: &str) -> Vec<Value> {
        let path = if query.is_empty() {
            "/v1/notifications".to_owned()
        } else {
            format!("/v1/notifications?{query}")
        };
        self.walk(&path, user.token(), 100).await
    }

    /// `user`'s unread count (the counter the route reads).
    pub async fn unread_count(&self, user: &TestUser) -> i64 {
        let body = self
            .must(
                Method::GET,
                "/v1/notifications/unread-count",
                user,
                None,
                StatusCode::OK,
            )
            .await;
        body["count"].as_i64().expect("count")
    }

    /// Marks one of `user`'s notifications read (204).
    pub async fn read_notification(&self, user: &TestUser, notification_id: &str) {
        let path = format!("/v1/notifications/{notification_id}/read");
        self.must_post(&path, user, json!({}), StatusCode::NO_CONTENT)
            .await;
    }

    /// Marks all of `user`'s notifications read (204).
    pub async fn read_all_notifications(&self, user: &TestUser) {
        self.must_post(
            "/v1/notifications/read-all",
            user,
            json!({}),
            StatusCode::NO_CONTENT,
        )
        .await;
    }

    /// Sets `user`'s notification level for a channel (204).
    pub async fn set_notification_level(&self, user: &TestUser, channel_id: &str, level: &str) {
        let path = format!("/v1/channels/{channel_id}/notification-level");
        self.must_put(&path, user, json!({"level": level})).await;
    }

    /// A workspace's whole activity log as `user` (newest first), `query` (`actor_id=..`)
    /// added to the path; walks the pages `limit` at a time.
    pub async fn activity(
        &self,
        user: &TestUser,
        workspace_id: &str,
        query: &str,
        limit: u32,
    ) -> Vec<Value> {
        let mut path = format!("/v1/workspaces/{workspace_id}/activity");
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        self.walk(&path, user.token(), limit).await
    }
}

/// `/v1/channels/{cid}/tasks`.
pub fn tasks_path(channel_id: &str) -> String {
    format!("/v1/channels/{channel_id}/tasks")
}

/// `/v1/channels/{cid}/tasks/{tid}`.
pub fn task_path(channel_id: &str, task_id: &str) -> String {
    format!("/v1/channels/{channel_id}/tasks/{task_id}")
}

/// `/v1/channels/{cid}/board`.
pub fn board_path(channel_id: &str) -> String {
    format!("/v1/channels/{channel_id}/board")
}

/// `/v1/channels/{cid}/columns`.
pub fn columns_path(channel_id: &str) -> String {
    format!("/v1/channels/{channel_id}/columns")
}

/// `/v1/channels/{cid}/columns/{col_id}`.
pub fn column_path(channel_id: &str, column_id: &str) -> String {
    format!("/v1/channels/{channel_id}/columns/{column_id}")
}

/// `/v1/channels/{cid}/columns/{col_id}/cards`: create a card, or page a column's cards.
pub fn column_cards_path(channel_id: &str, column_id: &str) -> String {
    format!("/v1/channels/{channel_id}/columns/{column_id}/cards")
}

/// `/v1/channels/{cid}/cards/{card_id}`.
pub fn card_path(channel_id: &str, card_id: &str) -> String {
    format!("/v1/channels/{channel_id}/cards/{card_id}")
}

/// `/v1/channels/{cid}/stats`.
pub fn stats_path(channel_id: &str) -> String {
    format!("/v1/channels/{channel_id}/stats")
}

/// `/v1/workspaces/{wid}/my-work?status=...`.
pub fn my_work_path(workspace_id: &str, status: &str) -> String {
    format!("/v1/workspaces/{workspace_id}/my-work?status={status}")
}

/// `/v1/workspaces/{wid}/workload`.
pub fn workload_path(workspace_id: &str) -> String {
    format!("/v1/workspaces/{workspace_id}/workload")
}

/// The string at `value` (an id, a name), owned; panics on anything else.
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_owned()
}

/// The ids of `items`, in order.
pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|item| text(&item["id"])).collect()
}

impl Reply {
    /// Asserts a 400 `invalid_request` whose details name `field` (or an element of it,
    /// such as `labels[3]`); `what` goes into the message.
    pub fn assert_invalid(&self, field: &str, what: &str) {
        assert_eq!(
            self.status,
            StatusCode::BAD_REQUEST,
            "{what}: {:?}",
            self.body
        );
        assert_eq!(
            self.error_code(),
            "invalid_request",
            "{what}: {:?}",
            self.body
        );
        let named = self.error_fields().iter().any(|named| {
            named == field
                || named.starts_with(&format!("{field}["))
                || named.starts_with(&format!("{field}."))
        });
        assert!(
            named,
            "{what}: the details do not name {field}: {:?}",
            self.body
        );
    }
}

/// Typed helpers for tasks, kanban boards, stats and workload (one per route, as above).
impl Api {
    /// Creates a task as `by` (the body as given); returns it.
    pub async fn create_task(&self, by: &TestUser, channel_id: &str, body: Value) -> Value {
        self.must_post(&tasks_path(channel_id), by, body, StatusCode::CREATED)
            .await
    }

    /// Reads a task as `user`.
    pub async fn get_task(&self, user: &TestUser, channel_id: &str, task_id: &str) -> Value {
        let path = task_path(channel_id, task_id);
        self.must(Method::GET, &path, user, None, StatusCode::OK)
            .await
    }

    /// Patches a task as `by`; returns it.
    pub async fn patch_task(
        &self,
        by: &TestUser,
        channel_id: &str,
        task_id: &str,
        body: Value,
    ) -> Value {
        let path = task_path(channel_id, task_id);
        self.must(Method::PATCH, &path, by, Some(body), StatusCode::OK)
            .await
    }

    /// Deletes a task as `by`.
    pub async fn delete_task(&self, by: &TestUser, channel_id: &str, task_id: &str) {
        self.must_delete(&task_path(channel_id, task_id), by).await;
    }

    /// Completes a task as `by`; returns it.
    pub async fn complete_task(&self, by: &TestUser, channel_id: &str, task_id: &str) -> Value {
        let path = format!("{}/complete", task_path(channel_id, task_id));
        self.must_post(&path, by, json!({}), StatusCode::OK).await
    }

    /// Reopens a task as `by`; returns it.
    pub async fn reopen_task(&self, by: &TestUser, channel_id: &str, task_id: &str) -> Value {
        let path = format!("{}/reopen", task_path(channel_id, task_id));
        self.must_post(&path, by, json!({}), StatusCode::OK).await
    }

    /// Moves a task as `by` (`{before_id}` or `{after_id}`); returns it.
    pub async fn move_task(
        &self,
        by: &TestUser,
        channel_id: &str,
        task_id: &str,
        body: Value,
    ) -> Value {
        let path = format!("{}/move", task_path(channel_id, task_id));
        self.must_post(&path, by, body, StatusCode::OK).await
    }

    /// Every task of a channel with `status` (`open`, `done`, `all`), in list order.
    pub async fn tasks(&self, user: &TestUser, channel_id: &str, status: &str) -> Vec<Value> {
        let path = format!("{}?status={status}", tasks_path(channel_id));
        self.walk(&path, user.token(), 100).await
    }

    /// The board of a kanban channel as `user`.
    pub async fn board(&self, user: &TestUser, channel_id: &str) -> Value {
        let path = board_path(channel_id);
        self.must(Method::GET, &path, user, None, StatusCode::OK)
            .await
    }

    /// Creates a column as `by`; returns it.
    pub async fn create_column(&self, by: &TestUser, channel_id: &str, body: Value) -> Value {
        self.must_post(&columns_path(channel_id), by, body, StatusCode::CREATED)
            .await
    }

    /// Patches a column as `by`; returns it.
    pub async fn patch_column(
        &self,
        by: &TestUser,
        channel_id: &str,
        column_id: &str,
        body: Value,
    ) -> Value {
        let path = column_path(channel_id, column_id);
        self.must(Method::PATCH, &path, by, Some(body), StatusCode::OK)
            .await
    }

    /// Moves a column as `by` (`{before_id}` or `{after_id}`); returns it.
    pub async fn move_column(
        &self,
        by: &TestUser,
        channel_id: &str,
        column_id: &str,
        body: Value,
    ) -> Value {
        let path = format!("{}/move", column_path(channel_id, column_id));
        self.must_post(&path, by, body, StatusCode::OK).await
    }

    /// Deletes an empty column as `by`.
    pub async fn delete_column(&self, by: &TestUser, channel_id: &str, column_id: &str) {
        self.must_delete(&column_path(channel_id, column_id), by)
            .await;
    }

    /// Every card of a column, walked through its pages, in board order.
    pub async fn column_cards(
        &self,
        user: &TestUser,
        channel_id: &str,
        column_id: &str,
    ) -> Vec<Value> {
        let path = column_cards_path(channel_id, column_id);
        self.walk(&path, user.token(), 100).await
    }

    /// Creates a card in a column as `by`; returns it.
    pub async fn create_card(
        &self,
        by: &TestUser,
        channel_id: &str,
        column_id: &str,
        body: Value,
    ) -> Value {
        let path = column_cards_path(channel_id, column_id);
        self.must_post(&path, by, body, StatusCode::CREATED).await
    }

    /// Reads a card as `user`.
    pub async fn get_card(&self, user: &TestUser, channel_id: &str, card_id: &str) -> Value {
        let path = card_path(channel_id, card_id);
        self.must(Method::GET, &path, user, None, StatusCode::OK)
            .await
    }

    /// Patches a card as `by`; returns it.
    pub async fn patch_card(
        &self,
        by: &TestUser,
        channel_id: &str,
        card_id: &str,
        body: Value,
    ) -> Value {
        let path = card_path(channel_id, card_id);
        self.must(Method::PATCH, &path, by, Some(body), StatusCode::OK)
            .await
    }

    /// Deletes a card as `by`.
    pub async fn delete_card(&self, by: &TestUser, channel_id: &str, card_id: &str) {
        self.must_delete(&card_path(channel_id, card_id), by).await;
    }

    /// Moves a card as `by` (`{column_id, before_id?|after_id?}`); returns it.
    pub async fn move_card(
        &self,
        by: &TestUser,
        channel_id: &str,
        card_id: &str,
        body: Value,
    ) -> Value {
        let path = format!("{}/move", card_path(channel_id, card_id));
        self.must_post(&path, by, body, StatusCode::OK).await
    }

    /// The stats of a todo or kanban channel as `user`.
    pub async fn stats(&self, user: &TestUser, channel_id: &str) -> Value {
        let path = stats_path(channel_id);
        self.must(Method::GET, &path, user, None, StatusCode::OK)
            .await
    }

    /// Every item of `user`'s my-work with `status`, walked with pages of `limit`.
    pub async fn my_work(
        &self,
        user: &TestUser,
        workspace_id: &str,
        status: &str,
        limit: u32,
    ) -> Vec<Value> {
        let path = my_work_path(workspace_id, status);
        self.walk(&path, user.token(), limit).await
    }

    /// The workload of a workspace as `user` (an admin or the owner).
    pub async fn workload(&self, user: &TestUser, workspace_id: &str) -> Value {
        let path = workload_path(workspace_id);
        self.must(Method::GET, &path, user, None, StatusCode::OK)
            .await
    }
}

/// A stream record as the consumers receive it (for feeding a consumer directly).
pub fn stream_change(
    id: &str,
    kind: huddle_shared::stream::ChangeKind,
    old: Option<serde_dynamo::Item>,
    new: Option<serde_dynamo::Item>,
    by_ttl: bool,
) -> huddle_shared::stream::Change {
    huddle_shared::stream::Change {
        id: id.into(),
        kind,
        old,
        new,
        by_ttl,
        at: chrono::Utc::now(),
    }
}

/// A stream image of a top-level message, keyed as the store keys it, with `content`
/// as given (a JSON string for a well-formed message; anything else makes a poison record).
pub fn message_image(
    channel: huddle_shared::ids::ChannelId,
    message: huddle_shared::ids::MessageId,
    workspace: huddle_shared::ids::WorkspaceId,
    author: huddle_shared::ids::UserId,
    content: Value,
) -> serde_dynamo::Item {
    use huddle_shared::keys;
    let (cid, mid) = (channel.to_string(), message.to_string());
    let mut image = serde_json::to_value(keys::message(channel, message)).unwrap();
    let listing = serde_json::to_value(keys::message_listing(channel, None, message)).unwrap();
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

/// The table as stored, below the store's types: items come back in DynamoDB JSON
/// (`{"S": ..}`, `{"N": ..}`, `{"BOOL": ..}`, `{"NULL": true}`, `{"SS": [..]}` sorted,
/// `{"L": [..]}`, `{"M": {..}}`), so a test can assert exactly what an item holds,
/// attribute types included.
#[derive(Debug, Clone)]
pub struct RawTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl RawTable {
    pub async fn new() -> Self {
        let state = app_state().await;
        Self {
            client: state.store.client().clone(),
            table: state.store.table().to_owned(),
        }
    }

    /// The item at `key` (a strongly consistent GetItem), `None` if there is none.
    pub async fn item(&self, key: &Key) -> Option<Value> {
        let key: HashMap<String, AttributeValue> = serde_dynamo::to_item(key).unwrap();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem on the local table");
        output.item.as_ref().map(dynamo_json)
    }

    /// The item at `key` as a stream image carries it (for building stream records from
    /// real items), `None` if there is none.
    pub async fn image(&self, key: &Key) -> Option<serde_dynamo::Item> {
        let key: HashMap<String, AttributeValue> = serde_dynamo::to_item(key).unwrap();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem on the local table");
        output.item.map(serde_dynamo::Item::from)
    }

    /// Every item of a partition of the table or of an index (Query, never Scan), in
    /// sort-key order.
    pub async fn query(&self, partition: &Partition) -> Vec<Value> {
        let mut condition = "#pk = :pk".to_owned();
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(partition.index.map(str::to_owned))
            .expression_attribute_names("#pk", partition.pk_attribute)
            .expression_attribute_values(":pk", AttributeValue::S(partition.pk.clone()));
        let bound = match &partition.range {
            SortRange::All => None,
            SortRange::Prefix(prefix) => Some(("begins_with(#sk, :sk)", prefix, None)),
            SortRange::Below(below) => Some(("#sk < :sk", below, None)),
            SortRange::Above(above) => Some(("#sk > :sk", above, None)),
            SortRange::Between(low, high) => Some(("#sk BETWEEN :sk AND :high", low, Some(high))),
        };
        if let Some((expression, value, high)) = bound {
            condition = format!("{condition} AND {expression}");
            request = request
                .expression_attribute_names("#sk", partition.sk_attribute)
                .expression_attribute_values(":sk", AttributeValue::S(value.clone()));
            if let Some(high) = high {
                request =
                    request.expression_attribute_values(":high", AttributeValue::S(high.clone()));
            }
        }
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = request
                .clone()
                .key_condition_expression(&condition)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("Query on the local table");
            items.extend(output.items().iter().map(dynamo_json));
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return items,
            }
        }
    }
}

/// An item in DynamoDB JSON (sets sorted, so equal sets compare equal).
pub fn dynamo_json(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), attribute_json(value)))
            .collect::<Map<_, _>>(),
    )
}

fn attribute_json(value: &AttributeValue) -> Value {
    let sorted = |values: &[String]| {
        let mut values = values.to_vec();
        values.sort();
        values
    };
    let base64 = |blob: &aws_sdk_dynamodb::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(blob.as_ref())
    };
    match value {
        AttributeValue::S(text) => json!({"S": text}),
        AttributeValue::N(number) => json!({"N": number}),
        AttributeValue::Bool(flag) => json!({"BOOL": flag}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::Ss(set) => json!({"SS": sorted(set)}),
        AttributeValue::Ns(set) => json!({"NS": sorted(set)}),
        AttributeValue::L(list) => {
            json!({"L": list.iter().map(attribute_json).collect::<Vec<_>>()})
        }
        AttributeValue::M(map) => json!({"M": dynamo_json(map)}),
        AttributeValue::B(blob) => json!({"B": base64(blob)}),
        AttributeValue::Bs(blobs) => {
            let mut encoded: Vec<String> = blobs.iter().map(base64).collect();
            encoded.sort();
            json!({"BS": encoded})
        }
        other => panic!("an attribute of an unknown type: {other:?}"),
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Everything a cursor shows: the text itself and, when it is base64, what it decodes to.
pub fn cursor_reveals(cursor: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
    let decoded = URL_SAFE_NO_PAD
        .decode(cursor)
        .or_else(|_| URL_SAFE.decode(cursor))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    format!("{cursor}\n{decoded}")
}

/// Cursors nobody may use: key-shaped JSON (as base64, the way raw start keys look) for
/// `partition` with short, empty, missing and extra attributes, plus malformed ones.
/// `valid` is a genuine cursor of the list, to be truncated, extended and bit-flipped.
pub fn forged_cursors(partition: &huddle_shared::keys::Partition, valid: &str) -> Vec<String> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use huddle_shared::keys::{PK, SK, SortRange};
    let (pk, sk) = (partition.pk_attribute, partition.sk_attribute);
    let prefix = match &partition.range {
        SortRange::Prefix(prefix) => prefix.clone(),
        _ => String::new(),
    };
    let inside = format!("{prefix}01");
    let encode = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let mut key_shaped = vec![
        json!({pk: partition.pk, sk: "01"}),
        json!({pk: partition.pk, sk: inside}),
        json!({pk: partition.pk, sk: ""}),
        json!({pk: "", sk: ""}),
        json!({sk: inside}),
        json!({pk: partition.pk}),
        json!({pk: partition.pk, sk: inside, "extra": "x"}),
        json!({pk: partition.pk, sk: 7}),
        json!([partition.pk, inside]),
        json!("01"),
    ];
    if partition.index.is_some() {
        key_shaped.push(json!({pk: partition.pk, sk: inside, PK: "", SK: ""}));
        key_shaped.push(json!({pk: partition.pk, sk: inside, PK: "CH#01", SK: "META"}));
    } else {
        key_shaped.push(json!({PK: partition.pk, SK: inside, "GSI1PK": "x", "GSI1SK": "y"}));
    }
    let mut forged: Vec<String> = key_shaped.into_iter().map(encode).collect();
    let mut bytes = URL_SAFE_NO_PAD.decode(valid).unwrap_or_default();
    for at in [0, bytes.len() / 2, bytes.len().saturating_sub(1)] {
        if let Some(byte) = bytes.get_mut(at) {
            *byte ^= 0x01;
            forged.push(URL_SAFE_NO_PAD.encode(&bytes));
            if let Some(byte) = bytes.get_mut(at) {
                *byte ^= 0x01;
            }
        }
    }
    forged.extend([
        valid[..valid.len() / 2].to_owned(),
        valid[..valid.len() - 1].to_owned(),
        format!("{valid}A"),
        format!("{valid}AAAA"),
        format!("A{valid}"),
        valid.to_ascii_uppercase(),
        "not a cursor".to_owned(),
        "%%%".to_owned(),
        "A".repeat(3000),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
    ]);
    forged
}

/// Typed helpers for the document routes.
impl Api {
    /// A fresh [`DocTeam`] made of `people`.
    pub async fn doc_team(&self, people: &People) -> DocTeam {
        let team = self.team(people).await;
        let (doc, private_doc) = tokio::join!(
            self.create_channel(
                &people.owner,
                &team.workspace_id,
                json!({"name": "notes", "kind": "doc"}),
            ),
            self.create_channel(
                &people.member,
                &team.workspace_id,
                json!({"name": "secret-notes", "kind": "doc", "private": true}),
            )
        );
        DocTeam {
            team,
            doc_id: doc["id"].as_str().unwrap().to_owned(),
            private_doc_id: private_doc["id"].as_str().unwrap().to_owned(),
        }
    }

    /// A [`DocTeam`] of freshly registered people.
    pub async fn fresh_doc_team(&self) -> DocTeam {
        self.doc_team(&People::register(self).await).await
    }

    /// The document of a doc channel, as `user` (must answer 200).
    pub async fn get_document(&self, user: &TestUser, channel_id: &str) -> Value {
        let path = format!("/v1/channels/{channel_id}/document");
        self.must(Method::GET, &path, user, None, StatusCode::OK)
            .await
    }

    /// Saves `content` over `base_version` as `user` (must answer 200); returns the document.
    pub async fn save_document(
        &self,
        user: &TestUser,
        channel_id: &str,
        content: &str,
        base_version: u64,
    ) -> Value {
        let path = format!("/v1/channels/{channel_id}/document");
        let body = json!({"content": content, "base_version": base_version});
        self.must(Method::PUT, &path, user, Some(body), StatusCode::OK)
            .await
    }

    /// HTTP sync from `state_vector` (base64; empty for nothing) as `user`; returns
    /// `{update, state_vector}`.
    pub async fn sync_document(
        &self,
        user: &TestUser,
        channel_id: &str,
        state_vector: &str,
    ) -> Value {
        let path = format!("/v1/channels/{channel_id}/document/sync");
        self.must_post(
            &path,
            user,
            json!({"state_vector": state_vector}),
            StatusCode::OK,
        )
        .await
    }
}
