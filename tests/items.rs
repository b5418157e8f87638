//! The single table item by item: every entity is created through the real path (HTTP
//! routes, the WebSocket, the stream) and then read raw with GetItem, and each test asserts
//! the exact stored item: keys, index keys (and their absence), `type`, the exact set of
//! attribute names with their DynamoDB types, the deterministic values, and the format and
//! relations of the rest (times, TTLs, generated ids). Refused writes leave items as they
//! were. A stray, missing or retyped attribute fails here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use huddle_shared::keys::{self, Key, Partition};
use huddle_tests::uploads::{
    complete_upload, put_upload, request_avatar, request_upload, upload_file,
};
use huddle_tests::ws::{self, next_of, send};
use huddle_tests::{Api, People, RawTable, TestUser, app_state, typed, yjs};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

// ---- where items live: the only calls to keys.rs in this file -------------------------

/// An entity's primary key, by the ids the API hands out.
enum At<'a> {
    User(&'a str),
    Credential(&'a str),
    RefreshToken(&'a str),
    RefreshFamily(&'a str),
    Ticket(&'a str),
    Workspace(&'a str),
    WorkspaceMember(&'a str, &'a str),
    Invite(&'a str),
    Channel(&'a str),
    ChannelName(&'a str, &'a str),
    DmMarker(&'a str, &'a str),
    ChannelMember(&'a str, &'a str),
    Message(&'a str, &'a str),
    ClientMarker(&'a str, &'a str, &'a str),
    Posting(&'a str, &'a str, &'a str),
    Connection(&'a str),
    Subscription(&'a str, &'a str),
    Presence(&'a str),
    File(&'a str),
    ThreadParticipant(&'a str, &'a str, &'a str),
    Task(&'a str, &'a str),
    Column(&'a str, &'a str),
    Card(&'a str, &'a str),
    WorkTotals(&'a str),
    WorkAssignee(&'a str, &'a str),
    Workload(&'a str, &'a str),
    DueMarker(&'a str, &'a str, &'a str),
    Notification(&'a str, &'a str),
    NotificationCounter(&'a str),
    ExpiryMarker(&'a str, &'a str),
    Activity(&'a str, &'a str),
    Document(&'a str),
    DocumentUpdate(&'a str, u64),
    DocumentRevision(&'a str, u64),
    DocumentPart(&'a str, u64, u32),
}

fn key(at: At<'_>) -> Key {
    match at {
        At::User(user) => keys::user(typed(user)),
        At::Credential(email) => keys::credential(email),
        At::RefreshToken(digest) => keys::refresh_token(digest),
        At::RefreshFamily(family) => keys::refresh_family(typed(family)),
        At::Ticket(digest) => keys::ws_ticket(digest),
        At::Workspace(workspace) => keys::workspace(typed(workspace)),
        At::WorkspaceMember(workspace, user) => {
            keys::workspace_member(typed(workspace), typed(user))
        }
        At::Invite(code) => keys::invite(code),
        At::Channel(channel) => keys::channel(typed(channel)),
        At::ChannelName(workspace, name) => keys::channel_name(typed(workspace), name),
        At::DmMarker(workspace, digest) => keys::dm_marker(typed(workspace), digest),
        At::ChannelMember(channel, user) => keys::channel_member(typed(channel), typed(user)),
        At::Message(channel, message) => keys::message(typed(channel), typed(message)),
        At::ClientMarker(channel, user, client) => {
            keys::client_marker(typed(channel), typed(user), client)
        }
        At::Posting(workspace, term, message) => {
            keys::search_posting(typed(workspace), term, typed(message))
        }
        At::Connection(connection) => keys::connection(connection),
        At::Subscription(channel, connection) => keys::subscription(typed(channel), connection),
        At::Presence(user) => keys::presence(typed(user)),
        At::File(file) => keys::file(typed(file)),
        At::ThreadParticipant(channel, parent, user) => {
            keys::thread_participant(typed(channel), typed(parent), typed(user))
        }
        At::Task(channel, task) => keys::task(typed(channel), typed(task)),
        At::Column(channel, column) => keys::column(typed(channel), typed(column)),
        At::Card(channel, card) => keys::card(typed(channel), typed(card)),
        At::WorkTotals(channel) => keys::work_totals(typed(channel)),
        At::WorkAssignee(channel, user) => keys::work_assignee(typed(channel), typed(user)),
        At::Workload(workspace, user) => keys::workload(typed(workspace), typed(user)),
        At::DueMarker(channel, date, item) => keys::due_marker(typed(channel), date, item),
        At::Notification(user, notification) => {
            keys::notification(typed(user), typed(notification))
        }
        At::NotificationCounter(user) => keys::notification_counter(typed(user)),
        At::ExpiryMarker(user, notification) => {
            keys::expiry_marker(typed(user), typed(notification))
        }
        At::Activity(workspace, entry) => keys::activity(typed(workspace), typed(entry)),
        At::Document(channel) => keys::document(typed(channel)),
        At::DocumentUpdate(channel, version) => keys::document_update(typed(channel), version),
        At::DocumentRevision(channel, version) => keys::document_revision(typed(channel), version),
        At::DocumentPart(channel, version, part) => {
            keys::document_part(typed(channel), version, part)
        }
    }
}

/// A partition read with a Query: a message's edit history (its version ids are never
/// handed out), a user's connections (GSI1; connection ids are the gateway's).
enum In<'a> {
    History(&'a str, &'a str),
    UserConnections(&'a str),
    /// Everything stored for a channel's document.
    Document(&'a str),
}

fn partition(of: In<'_>) -> Partition {
    match of {
        In::History(channel, message) => keys::message_versions(typed(channel), typed(message)),
        In::UserConnections(user) => keys::user_connections(typed(user)),
        In::Document(channel) => keys::document_partition(typed(channel)),
    }
}

// ---- expected items --------------------------------------------------------------------

/// Placeholders for what is not deterministic. An expected string may hold one, alone or
/// inside a key (`HIST#<mid>#` + ULID): the stored value must then have that shape there.
const TIME: &str = "<an RFC 3339 UTC time>";
const ULID: &str = "<a ULID>";
const EPOCH: &str = "<epoch seconds>";
const ARGON2ID: &str = "<an argon2id PHC string>";

/// A key written out literally (`["CH", id]` is `CH#id`), independently of keys.rs.
fn k(parts: &[&str]) -> String {
    parts.join("#")
}

fn s(text: &str) -> Value {
    json!({ "S": text })
}

fn n(number: impl ToString) -> Value {
    json!({ "N": number.to_string() })
}

fn flag(value: bool) -> Value {
    json!({ "BOOL": value })
}

fn nul() -> Value {
    json!({ "NULL": true })
}

fn list(values: &[Value]) -> Value {
    json!({ "L": values })
}

fn string_set(values: &[&str]) -> Value {
    let mut values = values.to_vec();
    values.sort_unstable();
    json!({ "SS": values })
}

fn shape_matches(shape: &str, actual: &str) -> bool {
    match shape {
        TIME => actual.ends_with('Z') && DateTime::parse_from_rfc3339(actual).is_ok(),
        ULID => actual.len() == 26 && ulid::Ulid::from_string(actual).is_ok(),
        EPOCH => actual
            .parse::<i64>()
            .is_ok_and(|seconds| seconds > 1_600_000_000),
        ARGON2ID => actual.starts_with("$argon2id$v=19$") && actual.split('$').count() == 6,
        _ => false,
    }
}

fn string_matches(expected: &str, actual: &str) -> bool {
    for shape in [TIME, ULID, EPOCH, ARGON2ID] {
        if let Some((prefix, suffix)) = expected.split_once(shape) {
            return actual.len() >= prefix.len() + suffix.len()
                && actual.starts_with(prefix)
                && actual.ends_with(suffix)
                && shape_matches(shape, &actual[prefix.len()..actual.len() - suffix.len()]);
        }
    }
    expected == actual
}

fn value_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(expected), Value::String(actual)) => string_matches(expected, actual),
        (Value::Object(expected), Value::Object(actual)) => {
            expected.len() == actual.len()
                && expected.iter().all(|(name, value)| {
                    actual
                        .get(name)
                        .is_some_and(|found| value_matches(value, found))
                })
        }
        (Value::Array(expected), Value::Array(actual)) => {
            expected.len() == actual.len()
                && expected
                    .iter()
                    .zip(actual)
                    .all(|(expected, found)| value_matches(expected, found))
        }
        _ => expected == actual,
    }
}

/// Asserts that `actual` is exactly `expected`: the same attribute names, and each value of
/// the same DynamoDB type and equal (or of the placeholder's shape).
#[track_caller]
fn assert_item(actual: &Value, expected: Value) {
    let (stored, wanted) = (actual.as_object().unwrap(), expected.as_object().unwrap());
    let missing: Vec<&String> = wanted
        .keys()
        .filter(|name| !stored.contains_key(*name))
        .collect();
    let stray: Vec<&String> = stored
        .keys()
        .filter(|name| !wanted.contains_key(*name))
        .collect();
    let wrong: Vec<String> = wanted
        .iter()
        .filter_map(|(name, value)| {
            let found = stored.get(name)?;
            (!value_matches(value, found))
                .then(|| format!("{name}: expected {value}, stored {found}"))
        })
        .collect();
    assert!(
        missing.is_empty() && stray.is_empty() && wrong.is_empty(),
        "item {} {}:\n  missing: {missing:?}\n  stray: {stray:?}\n  wrong: {wrong:#?}\n  stored: {}",
        actual["PK"],
        actual["SK"],
        serde_json::to_string_pretty(actual).unwrap()
    );
}

#[test]
fn the_item_check_refuses_stray_missing_retyped_and_misshapen_attributes() {
    let expected = || {
        json!({
            "PK": s("USER#1"), "n": n(1), "at": s(TIME),
            "SK": s(&(k(&["HIST", "m", ""]) + ULID)),
        })
    };
    let stored = json!({
        "PK": s("USER#1"), "n": n(1), "at": s("2026-01-02T03:04:05.123456Z"),
        "SK": s("HIST#m#01J00000000000000000000000"),
    });
    assert_item(&stored, expected());
    let refused = |change: &dyn Fn(&mut Value)| {
        let mut item = stored.clone();
        change(&mut item);
        std::panic::catch_unwind(|| assert_item(&item, expected())).is_err()
    };
    assert!(refused(&|item| item["stray"] = nul()));
    assert!(refused(&|item| {
        item.as_object_mut().unwrap().remove("n");
    }));
    assert!(refused(&|item| item["n"] = s("1")));
    assert!(refused(&|item| item["n"] = n(2)));
    assert!(refused(&|item| item["at"] = s("2026-01-02 03:04:05")));
    assert!(refused(&|item| item["at"] = n(1_767_323_045)));
    assert!(refused(
        &|item| item["SK"] = s("HIST#x#01J00000000000000000000000")
    ));
    assert!(refused(&|item| item["SK"] = s("HIST#m#not-a-ulid")));
}

/// A string attribute's value.
fn text<'a>(item: &'a Value, name: &str) -> &'a str {
    item[name]["S"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not a string in {item}"))
}

/// A number attribute's value.
fn number(item: &Value, name: &str) -> i64 {
    item[name]["N"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not an integer in {item}"))
}

/// A time attribute's value.
fn time(item: &Value, name: &str) -> DateTime<Utc> {
    text(item, name).parse().unwrap()
}

fn json_id(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}

/// The digest under which a secret (refresh token, ticket) or a DM member set is stored:
/// SHA-256, URL-safe base64 without padding.
fn digest(secret: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

fn now_epoch() -> i64 {
    Utc::now().timestamp()
}

// ---- reading items -----------------------------------------------------------------------

async fn stored(raw: &RawTable, at: At<'_>) -> Value {
    let key = key(at);
    raw.item(&key)
        .await
        .unwrap_or_else(|| panic!("no item at {key:?}"))
}

async fn assert_absent(raw: &RawTable, at: At<'_>) {
    let key = key(at);
    if let Some(item) = raw.item(&key).await {
        panic!("expected no item at {key:?}, found {item}");
    }
}

const POLLS: usize = 450;
const POLL_PAUSE: Duration = Duration::from_millis(100);

/// An item written asynchronously (by the stream or a WebSocket frame): polled, boundedly.
async fn eventually(raw: &RawTable, at: At<'_>) -> Value {
    let key = key(at);
    for _ in 0..POLLS {
        if let Some(item) = raw.item(&key).await {
            return item;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    panic!("no item at {key:?} in time");
}

/// An item removed asynchronously: polled, boundedly.
async fn eventually_absent(raw: &RawTable, at: At<'_>) {
    let key = key(at);
    for _ in 0..POLLS {
        if raw.item(&key).await.is_none() {
            return;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    panic!("the item at {key:?} is still there");
}

// ---- auth --------------------------------------------------------------------------------

#[tokio::test]
async fn account_session_and_ticket_items_are_exact() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let config = app_state().await.config;
    let refresh_ttl = i64::try_from(config.refresh_token_ttl.as_secs()).unwrap();
    let ticket_ttl = i64::try_from(config.ws_ticket_ttl.as_secs()).unwrap();

    // The email keeps its case on the profile; its marker is keyed by the lower-cased form.
    let email = format!("Item.{}@Example.TEST", ulid::Ulid::new());
    let password = "correct horse battery".to_owned();
    let registered = api
        .post(
            "/v1/auth/register",
            None,
            json!({"email": email, "password": password, "display_name": "Ada Item"}),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{:?}",
        registered.body
    );
    let user = TestUser::from_session(&registered.body, email.clone(), password);
    let uid = user.id.as_str();

    let profile = stored(&raw, At::User(uid)).await;
    assert_item(
        &profile,
        json!({
            "PK": s(&k(&["USER", uid])), "SK": s("PROFILE"), "type": s("user"),
            "id": s(uid), "email": s(&email), "display_name": s("Ada Item"),
            "bio": nul(), "avatar_url": nul(),
            "created_at": s(TIME), "updated_at": s(TIME),
        }),
    );
    assert_eq!(profile["updated_at"], profile["created_at"]);

    let lower = email.to_lowercase();
    let credential = stored(&raw, At::Credential(&lower)).await;
    assert_item(
        &credential,
        json!({
            "PK": s(&k(&["EMAIL", &lower])), "SK": s("EMAIL"), "type": s("credential"),
            "user_id": s(uid), "password_hash": s(ARGON2ID), "created_at": s(TIME),
        }),
    );
    assert_eq!(credential["created_at"], profile["created_at"]);
    assert_absent(&raw, At::Credential(&email)).await;

    // Registering the same email in another case is refused and writes nothing.
    let again = api
        .post(
            "/v1/auth/register",
            None,
            json!({
                "email": email.to_uppercase(),
                "password": "another horse battery",
                "display_name": "Eve",
            }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(stored(&raw, At::Credential(&lower)).await, credential);

    // The session: a token stored by digest (never the secret), in a family.
    let first_digest = digest(&user.refresh_token);
    let token = stored(&raw, At::RefreshToken(&first_digest)).await;
    assert_item(
        &token,
        json!({
            "PK": s(&k(&["REFRESH", &first_digest])), "SK": s("TOKEN"),
            "type": s("refresh_token"),
            "token_hash": s(&first_digest), "user_id": s(uid), "family_id": s(ULID),
            "created_at": s(TIME), "expires_at": n(EPOCH),
        }),
    );
    assert_eq!(
        number(&token, "expires_at"),
        time(&token, "created_at").timestamp() + refresh_ttl
    );
    assert_absent(&raw, At::RefreshToken(&user.refresh_token)).await;
    let family_id = text(&token, "family_id").to_owned();
    let family = stored(&raw, At::RefreshFamily(&family_id)).await;
    let expected_family = |revoked: bool| {
        json!({
            "PK": s(&k(&["FAMILY", &family_id])), "SK": s("FAMILY"),
            "type": s("refresh_family"),
            "family_id": s(&family_id), "user_id": s(uid), "created_at": s(TIME),
            "revoked": flag(revoked), "expires_at": n(EPOCH),
        })
    };
    assert_item(&family, expected_family(false));
    assert_eq!(family["created_at"], token["created_at"]);
    assert_eq!(family["expires_at"], token["expires_at"]);

    // Rotation marks the old token used and adds the next one to the same family.
    let rotated = api
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    let next_secret = rotated.body["tokens"]["refresh_token"].as_str().unwrap();
    let used = stored(&raw, At::RefreshToken(&first_digest)).await;
    let mut expected_used = token.clone();
    expected_used["used_at"] = s(TIME);
    assert_item(&used, expected_used);
    let next_digest = digest(next_secret);
    let next = stored(&raw, At::RefreshToken(&next_digest)).await;
    assert_item(
        &next,
        json!({
            "PK": s(&k(&["REFRESH", &next_digest])), "SK": s("TOKEN"),
            "type": s("refresh_token"),
            "token_hash": s(&next_digest), "user_id": s(uid), "family_id": s(&family_id),
            "created_at": s(TIME), "expires_at": n(EPOCH),
        }),
    );
    assert_eq!(next["created_at"], used["used_at"]);
    assert_eq!(
        number(&next, "expires_at"),
        time(&next, "created_at").timestamp() + refresh_ttl
    );
    let extended = stored(&raw, At::RefreshFamily(&family_id)).await;
    assert_item(&extended, expected_family(false));
    assert_eq!(extended["expires_at"], next["expires_at"]);
    assert_eq!(extended["created_at"], family["created_at"]);

    // Logout revokes the family and leaves the tokens as they are.
    let logout = api
        .post(
            "/v1/auth/logout",
            user.token(),
            json!({"refresh_token": next_secret}),
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let revoked = stored(&raw, At::RefreshFamily(&family_id)).await;
    assert_item(&revoked, expected_family(true));
    assert_eq!(revoked["expires_at"], extended["expires_at"]);
    assert_eq!(stored(&raw, At::RefreshToken(&next_digest)).await, next);

    // A WebSocket ticket: stored by digest with its expiry, consumed by the socket it opens.
    let before = now_epoch();
    let ticket = ws::ticket(&api, &user).await;
    let after = now_epoch();
    let ticket_digest = digest(&ticket);
    let stored_ticket = stored(&raw, At::Ticket(&ticket_digest)).await;
    assert_item(
        &stored_ticket,
        json!({
            "PK": s(&k(&["TICKET", &ticket_digest])), "SK": s("TICKET"),
            "type": s("ws_ticket"), "user_id": s(uid), "expires_at": n(EPOCH),
        }),
    );
    let expires = number(&stored_ticket, "expires_at");
    assert!(
        (before + ticket_ttl..=after + ticket_ttl).contains(&expires),
        "a ticket lives {ticket_ttl} s: {expires} is not in {before}..={after} + {ticket_ttl}"
    );
    assert_absent(&raw, At::Ticket(&ticket)).await;
    let (socket, _) = tokio_tungstenite::connect_async(ws::ws_url(&ticket))
        .await
        .expect("websocket connect");
    assert_absent(&raw, At::Ticket(&ticket_digest)).await;
    drop(socket);
}

// ---- workspaces, invites, channels, DMs --------------------------------------------------

#[tokio::test]
async fn workspace_member_invite_channel_and_dm_items_are_exact() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let people = People::register(&api).await;
    let (owner, member, joiner) = (&people.owner, &people.member, &people.admin);
    let (oid, mid, jid) = (owner.id.as_str(), member.id.as_str(), joiner.id.as_str());

    let created = api
        .post(
            "/v1/workspaces",
            owner.token(),
            json!({"name": "Items", "description": "where items live"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let wid = json_id(&created.body, "id");
    let gid = json_id(&created.body, "general_channel_id");
    let (wid, gid) = (wid.as_str(), gid.as_str());

    let workspace = stored(&raw, At::Workspace(wid)).await;
    assert_item(
        &workspace,
        json!({
            "PK": s(&k(&["WS", wid])), "SK": s("META"), "type": s("workspace"),
            "id": s(wid), "name": s("Items"), "description": s("where items live"),
            "owner_id": s(oid), "general_channel_id": s(gid),
            "created_at": s(TIME), "updated_at": s(TIME),
            // `general` counts against the workspace's channel limit.
            "channel_count": n(1),
        }),
    );
    assert_eq!(workspace["updated_at"], workspace["created_at"]);

    let workspace_member = |user: &str, role: &str| {
        json!({
            "PK": s(&k(&["WS", wid])), "SK": s(&k(&["MEMBER", user])),
            "GSI1PK": s(&k(&["USER", user])), "GSI1SK": s(&k(&["WS", wid])),
            "type": s("workspace_member"),
            "workspace_id": s(wid), "user_id": s(user), "role": s(role), "joined_at": s(TIME),
        })
    };
    let owner_membership = stored(&raw, At::WorkspaceMember(wid, oid)).await;
    assert_item(&owner_membership, workspace_member(oid, "owner"));
    assert_eq!(owner_membership["joined_at"], workspace["created_at"]);
    api.add_to_workspace(owner, wid, member, "member").await;
    // Who added a member is kept (the actor of its activity entry).
    let mut added = workspace_member(mid, "member");
    added["added_by"] = s(oid);
    assert_item(&stored(&raw, At::WorkspaceMember(wid, mid)).await, added);

    let channel_member = |channel: &str, user: &str| {
        json!({
            "PK": s(&k(&["CH", channel])), "SK": s(&k(&["MEMBER", user])),
            "GSI1PK": s(&k(&["USER", user])), "GSI1SK": s(&k(&["CH", wid, channel])),
            "type": s("channel_member"),
            "channel_id": s(channel), "workspace_id": s(wid), "user_id": s(user),
            "joined_at": s(TIME), "read_count": n(0), "mention_count": n(0),
        })
    };
    // A channel item: id, (name, kind, private), topic, creator, member_count, general.
    let channel = |id: &str,
                   (name, kind, private): (&str, &str, bool),
                   topic: Value,
                   creator: &str,
                   members: u64,
                   general: bool| {
        json!({
            "PK": s(&k(&["CH", id])), "SK": s("META"),
            "GSI1PK": s(&k(&["WS", wid])), "GSI1SK": s(&k(&["CHANNEL", id])),
            "type": s("channel"),
            "id": s(id), "workspace_id": s(wid), "name": s(name), "kind": s(kind),
            "private": flag(private), "topic": topic, "created_by": s(creator),
            "created_at": s(TIME), "updated_at": s(TIME),
            "member_count": n(members), "message_count": n(0),
            "last_message_id": nul(), "last_message_at": nul(), "general": flag(general),
        })
    };
    let name_marker = |name: &str, id: &str| {
        json!({
            "PK": s(&k(&["WS", wid])), "SK": s(&k(&["CHNAME", name])),
            "type": s("channel_name"), "channel_id": s(id),
        })
    };

    // general: created with the workspace, joined by every member.
    let general = stored(&raw, At::Channel(gid)).await;
    assert_item(
        &general,
        channel(gid, ("general", "chat", false), nul(), oid, 2, true),
    );
    assert_eq!(general["created_at"], workspace["created_at"]);
    assert_item(
        &stored(&raw, At::ChannelName(wid, "general")).await,
        name_marker("general", gid),
    );
    assert_item(
        &stored(&raw, At::ChannelMember(gid, oid)).await,
        channel_member(gid, oid),
    );
    assert_item(
        &stored(&raw, At::ChannelMember(gid, mid)).await,
        channel_member(gid, mid),
    );

    // A private channel with a topic; its name is then taken in the workspace.
    let plans = api
        .create_channel(
            member,
            wid,
            json!({"name": "plans", "kind": "voice", "private": true, "topic": "roadmap"}),
        )
        .await;
    let pid = json_id(&plans, "id");
    let pid = pid.as_str();
    let plans_item = stored(&raw, At::Channel(pid)).await;
    assert_item(
        &plans_item,
        channel(pid, ("plans", "voice", true), s("roadmap"), mid, 1, false),
    );
    let plans_marker = stored(&raw, At::ChannelName(wid, "plans")).await;
    assert_item(&plans_marker, name_marker("plans", pid));
    assert_item(
        &stored(&raw, At::ChannelMember(pid, mid)).await,
        channel_member(pid, mid),
    );
    assert_absent(&raw, At::ChannelMember(pid, oid)).await;
    let taken = api
        .post(
            &format!("/v1/workspaces/{wid}/channels"),
            owner.token(),
            json!({"name": "plans", "kind": "chat"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(
        stored(&raw, At::ChannelName(wid, "plans")).await,
        plans_marker
    );
    assert_eq!(stored(&raw, At::Channel(pid)).await, plans_item);

    // A DM: the channel, its marker keyed by the digest of the sorted member ids, and a
    // membership each; no name marker.
    let opened = api
        .post(
            &format!("/v1/workspaces/{wid}/dms"),
            owner.token(),
            json!({"user_ids": [mid]}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{:?}", opened.body);
    let did = json_id(&opened.body, "id");
    let did = did.as_str();
    let mut pair = [oid, mid];
    pair.sort_unstable();
    let dm_name = format!("dm-{}", did.to_lowercase());
    let mut expected_dm = channel(did, (&dm_name, "dm", true), nul(), oid, 2, false);
    expected_dm["dm_members"] = list(&[s(pair[0]), s(pair[1])]);
    assert_item(&stored(&raw, At::Channel(did)).await, expected_dm);
    let dm_digest = digest(&pair.join(","));
    assert_item(
        &stored(&raw, At::DmMarker(wid, &dm_digest)).await,
        json!({
            "PK": s(&k(&["WS", wid])), "SK": s(&k(&["DM", &dm_digest])),
            "type": s("dm_marker"), "channel_id": s(did),
        }),
    );
    assert_absent(&raw, At::ChannelName(wid, &dm_name)).await;
    for user in [oid, mid] {
        assert_item(
            &stored(&raw, At::ChannelMember(did, user)).await,
            channel_member(did, user),
        );
    }

    // Invites: a limited one (use counter and limit) and an unlimited one.
    let invite = |code: &str, max_uses: Value, uses: u64| {
        let mut item = json!({
            "PK": s(&k(&["INVITE", code])), "SK": s("INVITE"),
            "GSI1PK": s(&k(&["WS", wid])), "GSI1SK": s(&k(&["INVITE", code])),
            "type": s("invite"),
            "code": s(code), "workspace_id": s(wid), "created_by": s(oid),
            "created_at": s(TIME), "expires_at": s(TIME), "max_uses": max_uses.clone(),
            "uses": n(uses), "expires_epoch": n(EPOCH),
        });
        if max_uses != nul() {
            item["use_limit"] = max_uses;
        }
        item
    };
    let limited = api
        .create_invite(owner, wid, json!({"max_uses": 2, "expires_in_hours": 48}))
        .await;
    let code = json_id(&limited, "code");
    let fresh = stored(&raw, At::Invite(&code)).await;
    assert_item(&fresh, invite(&code, n(2), 0));
    assert_eq!(
        time(&fresh, "expires_at"),
        time(&fresh, "created_at") + chrono::Duration::hours(48)
    );
    assert_eq!(
        number(&fresh, "expires_epoch"),
        time(&fresh, "expires_at").timestamp()
    );

    let accept = format!("/v1/invites/{code}/accept");
    let accepted = api.post(&accept, joiner.token(), json!({})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    let used_once = stored(&raw, At::Invite(&code)).await;
    assert_item(&used_once, invite(&code, n(2), 1));
    // Joined by an invite: they added themselves, with its code.
    let mut invited = workspace_member(jid, "member");
    invited["added_by"] = s(jid);
    invited["invite_code"] = s(&code);
    assert_item(&stored(&raw, At::WorkspaceMember(wid, jid)).await, invited);
    assert_item(
        &stored(&raw, At::ChannelMember(gid, jid)).await,
        channel_member(gid, jid),
    );
    assert_eq!(
        number(&stored(&raw, At::Channel(gid)).await, "member_count"),
        3
    );
    // Accepting again as a member uses nothing up.
    let again = api.post(&accept, joiner.token(), json!({})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(stored(&raw, At::Invite(&code)).await, used_once);

    let unlimited = api.create_invite(owner, wid, json!({})).await;
    let open_code = json_id(&unlimited, "code");
    let open = stored(&raw, At::Invite(&open_code)).await;
    assert_item(&open, invite(&open_code, nul(), 0));
    assert_eq!(
        time(&open, "expires_at"),
        time(&open, "created_at") + chrono::Duration::hours(168)
    );
}

// ---- messages, history, idempotency markers, search postings -----------------------------

#[tokio::test]
async fn message_reply_pin_history_marker_and_posting_items_are_exact() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let team = api.team(&People::register(&api).await).await;
    let (wid, gid) = (team.workspace_id.as_str(), team.general_id.as_str());
    let (author, replier, mentioned) = (&team.member, &team.owner, &team.admin);
    let (aid, rid, xid) = (
        author.id.as_str(),
        replier.id.as_str(),
        mentioned.id.as_str(),
    );

    let content = format!("Kickoff notes for <@{xid}>");
    let body = json!({"content": content, "client_id": "client-1"});
    let sent = api.send_message(author, gid, body.clone()).await;
    let msg = json_id(&sent, "id");
    let msg = msg.as_str();
    let message = |content: &str, mentions: &[&str]| {
        json!({
            "PK": s(&k(&["CH", gid])), "SK": s(&k(&["MSG", msg])),
            "GSI1PK": s(&k(&["TOP", gid])), "GSI1SK": s(msg),
            "type": s("message"),
            "id": s(msg), "channel_id": s(gid), "workspace_id": s(wid), "author_id": s(aid),
            "content": s(content), "parent_id": nul(), "reply_count": n(0),
            "last_reply_at": nul(),
            "mentions": list(&mentions.iter().map(|id| s(id)).collect::<Vec<_>>()),
            "pinned": flag(false), "edited_at": nul(), "deleted": flag(false),
            "created_at": s(TIME), "version": n(0), "attachments": list(&[]),
        })
    };
    let first = stored(&raw, At::Message(gid, msg)).await;
    assert_item(&first, message(&content, &[xid]));
    let marker = stored(&raw, At::ClientMarker(gid, aid, "client-1")).await;
    assert_item(
        &marker,
        json!({
            "PK": s(&k(&["CH", gid])), "SK": s(&k(&["CLIENT", aid, "client-1"])),
            "type": s("client_marker"), "message_id": s(msg),
        }),
    );

    // The send's counters: the channel's, the author's read counter, the mention's.
    let channel = stored(&raw, At::Channel(gid)).await;
    assert_eq!(number(&channel, "message_count"), 1);
    assert_eq!(channel["last_message_id"], s(msg));
    assert_eq!(channel["last_message_at"], first["created_at"]);
    let membership = |user: &str, read: u64, mentions: u64, last_read: Option<&str>| {
        let mut item = json!({
            "PK": s(&k(&["CH", gid])), "SK": s(&k(&["MEMBER", user])),
            "GSI1PK": s(&k(&["USER", user])), "GSI1SK": s(&k(&["CH", wid, gid])),
            "type": s("channel_member"),
            "channel_id": s(gid), "workspace_id": s(wid), "user_id": s(user),
            "joined_at": s(TIME), "read_count": n(read), "mention_count": n(mentions),
        });
        if let Some(last_read) = last_read {
            item["last_read_message_id"] = s(last_read);
        }
        item
    };
    assert_item(
        &stored(&raw, At::ChannelMember(gid, aid)).await,
        membership(aid, 1, 0, None),
    );
    assert_item(
        &stored(&raw, At::ChannelMember(gid, xid)).await,
        membership(xid, 0, 1, None),
    );

    // A retried send (same client_id) writes nothing new.
    let retried = api.send_message(author, gid, body).await;
    assert_eq!(retried["id"], msg);
    assert_eq!(stored(&raw, At::Channel(gid)).await, channel);
    assert_eq!(
        stored(&raw, At::ClientMarker(gid, aid, "client-1")).await,
        marker
    );
    assert_eq!(stored(&raw, At::Message(gid, msg)).await, first);

    // Reading up to the message moves the read marker and clears the mention.
    api.mark_read(mentioned, gid, msg).await;
    assert_item(
        &stored(&raw, At::ChannelMember(gid, xid)).await,
        membership(xid, 1, 0, Some(msg)),
    );

    // A thread reply: indexed under its thread, counted on its parent, not on the channel.
    let reply = api
        .send_message(replier, gid, json!({"content": "Agreed", "parent_id": msg}))
        .await;
    let reply_id = json_id(&reply, "id");
    let reply_id = reply_id.as_str();
    let reply_item = stored(&raw, At::Message(gid, reply_id)).await;
    assert_item(
        &reply_item,
        json!({
            "PK": s(&k(&["CH", gid])), "SK": s(&k(&["MSG", reply_id])),
            "GSI1PK": s(&k(&["THREAD", gid, msg])), "GSI1SK": s(reply_id),
            "type": s("message"),
            "id": s(reply_id), "channel_id": s(gid), "workspace_id": s(wid),
            "author_id": s(rid), "content": s("Agreed"), "parent_id": s(msg),
            "reply_count": n(0), "last_reply_at": nul(), "mentions": list(&[]),
            "pinned": flag(false), "edited_at": nul(), "deleted": flag(false),
            "created_at": s(TIME), "version": n(0), "attachments": list(&[]),
        }),
    );
    assert_eq!(stored(&raw, At::Channel(gid)).await, channel);
    let mut expected_parent = message(&content, &[xid]);
    expected_parent["reply_count"] = n(1);
    expected_parent["last_reply_at"] = s(TIME);
    let parent = stored(&raw, At::Message(gid, msg)).await;
    assert_item(&parent, expected_parent.clone());
    assert_eq!(parent["last_reply_at"], reply_item["created_at"]);
    // The replier's part in the thread (whom later replies notify), with its first reply.
    assert_item(
        &stored(&raw, At::ThreadParticipant(gid, msg, rid)).await,
        json!({
            "PK": s(&k(&["CH", gid])), "SK": s(&k(&["THREADP", msg, rid])),
            "type": s("thread_participant"), "user_id": s(rid), "first_reply": s(reply_id),
        }),
    );

    // A reaction is a string set of user ids under `reaction:<emoji>`; a pin adds GSI2 keys.
    let message_path = format!("/v1/channels/{gid}/messages/{msg}");
    for user in [replier, mentioned, replier] {
        api.react(user, gid, msg, "thumbsup").await;
    }
    api.pin(author, gid, msg).await;
    expected_parent["reaction:thumbsup"] = string_set(&[rid, xid]);
    // One emoji kind, counted in the same write that added its first user.
    expected_parent["reaction_kinds"] = n(1);
    expected_parent["pinned"] = flag(true);
    expected_parent["GSI2PK"] = s(&k(&["PINS", gid]));
    expected_parent["GSI2SK"] = s(ULID);
    let pinned_item = stored(&raw, At::Message(gid, msg)).await;
    assert_item(&pinned_item, expected_parent.clone());
    // The reply was neither reacted to nor pinned.
    assert_eq!(stored(&raw, At::Message(gid, reply_id)).await, reply_item);

    // An edit bumps the version and keeps the old content as a version item.
    let edited = api
        .patch(
            &message_path,
            author.token(),
            json!({"content": "Kickoff moved to Friday"}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    expected_parent["content"] = s("Kickoff moved to Friday");
    expected_parent["mentions"] = list(&[]);
    expected_parent["edited_at"] = s(TIME);
    expected_parent["version"] = n(1);
    let after_edit = stored(&raw, At::Message(gid, msg)).await;
    assert_item(&after_edit, expected_parent);
    assert_eq!(after_edit["GSI2SK"], pinned_item["GSI2SK"]);
    assert_eq!(after_edit["created_at"], first["created_at"]);
    let history = raw.query(&partition(In::History(gid, msg))).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_item(
        &history[0],
        json!({
            "PK": s(&k(&["CH", gid])), "SK": s(&(k(&["HIST", msg, ""]) + ULID)),
            "type": s("message_version"),
            "message_id": s(msg), "content": s(&content),
            "written_at": s(TIME), "replaced_at": s(TIME),
        }),
    );
    assert_eq!(history[0]["written_at"], first["created_at"]);
    assert_eq!(history[0]["replaced_at"], after_edit["edited_at"]);
    assert!(
        raw.query(&partition(In::History(gid, reply_id)))
            .await
            .is_empty()
    );

    // A non-author's edit is refused and writes nothing.
    let foreign = api
        .patch(
            &message_path,
            replier.token(),
            json!({"content": "mine now"}),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(stored(&raw, At::Message(gid, msg)).await, after_edit);
    assert_eq!(raw.query(&partition(In::History(gid, msg))).await, history);

    // Search postings follow the stream: the edit's new words are in, the old ones out.
    let posting = eventually(&raw, At::Posting(wid, "friday", msg)).await;
    assert_item(
        &posting,
        json!({
            "PK": s(&k(&["TERM", wid, "friday"])), "SK": s(msg),
            "type": s("search_term"), "message_id": s(msg), "channel_id": s(gid),
        }),
    );
    eventually_absent(&raw, At::Posting(wid, "notes", msg)).await;
    assert_eq!(
        stored(&raw, At::Posting(wid, "kickoff", msg)).await,
        json!({
            "PK": s(&k(&["TERM", wid, "kickoff"])), "SK": s(msg),
            "type": s("search_term"), "message_id": s(msg), "channel_id": s(gid),
        })
    );
    let reply_posting = eventually(&raw, At::Posting(wid, "agreed", reply_id)).await;
    assert_item(
        &reply_posting,
        json!({
            "PK": s(&k(&["TERM", wid, "agreed"])), "SK": s(reply_id),
            "type": s("search_term"), "message_id": s(reply_id), "channel_id": s(gid),
        }),
    );

    // A soft delete empties the message, keeps its place and counters, drops its postings.
    let deleted = api
        .delete(
            &format!("/v1/channels/{gid}/messages/{reply_id}"),
            replier.token(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let mut expected_deleted = reply_item.clone();
    expected_deleted["content"] = s("");
    expected_deleted["deleted"] = flag(true);
    expected_deleted["version"] = n(1);
    // Who deleted it (the actor of `message.deleted` when not its author).
    expected_deleted["deleted_by"] = s(rid);
    assert_item(
        &stored(&raw, At::Message(gid, reply_id)).await,
        expected_deleted,
    );
    assert_eq!(
        number(&stored(&raw, At::Message(gid, msg)).await, "reply_count"),
        1
    );
    eventually_absent(&raw, At::Posting(wid, "agreed", reply_id)).await;
}

// ---- realtime: connections, presence, subscriptions --------------------------------------

#[tokio::test]
async fn connection_presence_and_subscription_items_are_exact() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let team = api.team(&People::register(&api).await).await;
    let (gid, private) = (team.general_id.as_str(), team.private_id.as_str());
    let wid = team.workspace_id.as_str();
    let user = &team.member;
    let uid = user.id.as_str();

    assert_absent(&raw, At::Presence(uid)).await;
    let mut socket = ws::connect(&api, user).await;
    let connections = raw.query(&partition(In::UserConnections(uid))).await;
    assert_eq!(connections.len(), 1, "{connections:?}");
    let conn = text(&connections[0], "connection_id").to_owned();
    let conn = conn.as_str();
    let connection = stored(&raw, At::Connection(conn)).await;
    assert_eq!(connection, connections[0]);
    assert_item(
        &connection,
        json!({
            "PK": s(&k(&["CONN", conn])), "SK": s("META"),
            "GSI1PK": s(&k(&["USER", uid])), "GSI1SK": s(&k(&["CONN", conn])),
            "type": s("connection"),
            "connection_id": s(conn), "user_id": s(uid),
            "connected_at": s(TIME), "expires_at": n(EPOCH),
        }),
    );
    assert_eq!(
        number(&connection, "expires_at"),
        time(&connection, "connected_at").timestamp() + 2 * 3600 + 600,
        "a connection outlives API Gateway's 2 h limit by 10 min"
    );
    let presence = |status: &str, connections: &[&str]| {
        let mut item = json!({
            "PK": s(&k(&["USER", uid])), "SK": s("PRESENCE"), "type": s("presence"),
            "user_id": s(uid), "status": s(status),
        });
        if !connections.is_empty() {
            item["connections"] = string_set(connections);
        }
        item
    };
    assert_item(
        &stored(&raw, At::Presence(uid)).await,
        presence("online", &[conn]),
    );

    // A subscription per channel, under the channel, indexed by connection.
    // Events of the setup may still be on their way: wait for the answer by its type.
    let subscribe = json!({"action": "subscribe", "channel_ids": [gid]});
    send(&mut socket, subscribe).await;
    next_of(&mut socket, "subscribed").await;
    let subscription = eventually(&raw, At::Subscription(gid, conn)).await;
    assert_item(
        &subscription,
        json!({
            "PK": s(&k(&["CH", gid])), "SK": s(&k(&["SUB", conn])),
            "GSI1PK": s(&k(&["CONN", conn])), "GSI1SK": s(&k(&["CH", gid])),
            "GSI2PK": s(&k(&["SUBS", uid])), "GSI2SK": s(&k(&[wid, gid, conn])),
            "type": s("subscription"),
            "connection_id": s(conn), "channel_id": s(gid), "user_id": s(uid),
            "workspace_id": s(wid),
            "expires_at": n(EPOCH),
        }),
    );
    assert_eq!(subscription["expires_at"], connection["expires_at"]);
    // The connection keeps the set of its channels (the per-connection cap's counter),
    // written in the same transaction as the subscription.
    let subscribed = stored(&raw, At::Connection(conn)).await;
    assert_eq!(subscribed["channels"], string_set(&[gid]), "{subscribed}");

    // A refused subscribe (all or nothing) writes no subscription: the admin may not read
    // the member's private channel.
    let mut admin_socket = ws::connect(&api, &team.admin).await;
    let admin_connections = raw
        .query(&partition(In::UserConnections(&team.admin.id)))
        .await;
    assert_eq!(admin_connections.len(), 1, "{admin_connections:?}");
    let admin_conn = text(&admin_connections[0], "connection_id").to_owned();
    let mixed = json!({"action": "subscribe", "channel_ids": [gid, private]});
    send(&mut admin_socket, mixed).await;
    let refused = next_of(&mut admin_socket, "error").await;
    assert_eq!(refused["data"]["code"], "not_found", "{refused}");
    assert_absent(&raw, At::Subscription(gid, &admin_conn)).await;
    assert_absent(&raw, At::Subscription(private, &admin_conn)).await;

    // The chosen status is kept on the presence item.
    send(&mut socket, json!({"action": "presence", "status": "dnd"})).await;
    send(&mut socket, json!({"action": "ping"})).await;
    next_of(&mut socket, "pong").await;
    assert_item(
        &stored(&raw, At::Presence(uid)).await,
        presence("dnd", &[conn]),
    );

    // Disconnecting removes the connection and its subscriptions; the presence item stays,
    // without the connection set (DynamoDB drops a set once it is empty).
    socket.close(None).await.unwrap();
    eventually_absent(&raw, At::Connection(conn)).await;
    assert_absent(&raw, At::Subscription(gid, conn)).await;
    assert!(
        raw.query(&partition(In::UserConnections(uid)))
            .await
            .is_empty()
    );
    let mut after = presence("dnd", &[conn]);
    for _ in 0..POLLS {
        after = stored(&raw, At::Presence(uid)).await;
        if after.get("connections").is_none() {
            break;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    assert_item(&after, presence("dnd", &[]));
    drop(admin_socket);
}

// ---- files -------------------------------------------------------------------------------

#[tokio::test]
async fn pending_ready_attached_and_avatar_file_items_are_exact() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let team = api.team(&People::register(&api).await).await;
    let (wid, gid) = (team.workspace_id.as_str(), team.general_id.as_str());
    let user = &team.member;
    let uid = user.id.as_str();
    const PENDING_TTL: i64 = 24 * 3600;

    let file = |id: &str, purpose: &str, filename: &str, content_type: &str, size: u64| {
        let (workspace, channel, object_key) = match purpose {
            "attachment" => (
                s(wid),
                s(gid),
                format!("workspaces/{wid}/channels/{gid}/{id}"),
            ),
            _ => (nul(), nul(), format!("avatars/{uid}/{id}")),
        };
        let mut item = json!({
            "PK": s(&k(&["FILE", id])), "SK": s("META"), "type": s("file"),
            "id": s(id), "purpose": s(purpose), "workspace_id": workspace, "channel_id": channel,
            "uploader_id": s(uid), "filename": s(filename), "content_type": s(content_type),
            "size": n(size), "status": s("pending"), "object_key": s(&object_key),
            "created_at": s(TIME), "expires_at": n(EPOCH),
        });
        // Images wait for a thumbnail from the start; other files never have the attribute.
        if content_type.starts_with("image/") {
            item["thumbnail"] = s("pending");
        }
        item
    };

    // Pending: with a TTL, and the media type without its parameters.
    let body = b"hello, items".to_vec();
    let before = now_epoch();
    let ticket = request_upload(
        &api,
        user,
        gid,
        "notes.txt",
        "text/plain; charset=utf-8",
        body.len(),
    )
    .await;
    let after = now_epoch();
    assert_eq!(ticket.status, StatusCode::CREATED, "{:?}", ticket.body);
    let fid = json_id(&ticket.body, "file_id");
    let fid = fid.as_str();
    let expected_pending = file(fid, "attachment", "notes.txt", "text/plain", 12);
    let pending = stored(&raw, At::File(fid)).await;
    assert_item(&pending, expected_pending.clone());
    let expires = number(&pending, "expires_at");
    assert!(
        (before + PENDING_TTL..=after + PENDING_TTL).contains(&expires),
        "a pending file lives 24 h: {expires} is not in {before}..={after} + 24 h"
    );

    // Completing before the object is there is refused and changes nothing.
    let complete = format!("/v1/files/{fid}/complete");
    let early = api.post(&complete, user.token(), json!({})).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert_eq!(stored(&raw, At::File(fid)).await, pending);

    // Ready: no TTL any more.
    assert_eq!(
        put_upload(&ticket.body["upload"], body, None).await,
        StatusCode::OK
    );
    complete_upload(&api, user, fid).await;
    let mut expected_ready = expected_pending;
    expected_ready["status"] = s("ready");
    expected_ready.as_object_mut().unwrap().remove("expires_at");
    let ready = stored(&raw, At::File(fid)).await;
    assert_item(&ready, expected_ready);
    assert_eq!(ready["created_at"], pending["created_at"]);

    // A message carries a copy of its ready attachments: the file's fields, no keys.
    let other = upload_file(&api, user, gid, "plan.txt", b"plan").await;
    let other_id = json_id(&other, "id");
    let sent = api
        .send_message(
            user,
            gid,
            json!({"content": "files", "attachment_ids": [fid, other_id]}),
        )
        .await;
    let message = stored(&raw, At::Message(gid, &json_id(&sent, "id"))).await;
    let copies = message["attachments"]["L"].as_array().unwrap();
    assert_eq!(copies.len(), 2, "{message}");
    for copy in copies {
        let id = copy["M"]["id"]["S"].as_str().unwrap();
        let mut fields = stored(&raw, At::File(id)).await;
        for key_or_type in ["PK", "SK", "type"] {
            fields.as_object_mut().unwrap().remove(key_or_type);
        }
        assert_eq!(copy, &json!({ "M": fields }));
    }

    // An avatar: no workspace or channel, and the profile points at it once complete.
    let avatar_ticket = request_avatar(&api, user, "image/png", 8).await;
    let avatar_id = json_id(&avatar_ticket, "file_id");
    let avatar_id = avatar_id.as_str();
    let expected_avatar = file(avatar_id, "avatar", "avatar.png", "image/png", 8);
    assert_item(&stored(&raw, At::File(avatar_id)).await, expected_avatar);
    assert_eq!(
        put_upload(
            &avatar_ticket["upload"],
            b"\x89PNG\r\n\x1a\n".to_vec(),
            None
        )
        .await,
        StatusCode::OK
    );
    complete_upload(&api, user, avatar_id).await;
    let profile = stored(&raw, At::User(uid)).await;
    assert_item(
        &profile,
        json!({
            "PK": s(&k(&["USER", uid])), "SK": s("PROFILE"), "type": s("user"),
            "id": s(uid), "email": s(&user.email), "display_name": s("Test User"),
            "bio": nul(),
            "avatar_url": s(&format!("/v1/users/{uid}/avatar?v={avatar_id}")),
            "avatar_key": s(&format!("avatars/{uid}/{avatar_id}")),
            "created_at": s(TIME), "updated_at": s(TIME),
        }),
    );
    assert!(time(&profile, "updated_at") > time(&profile, "created_at"));

    // Those eight bytes are no picture: the thumbnails function settles the file as failed
    // (its attempt count gone with it) and leaves the profile as it was.
    let mut expected_failed = file(avatar_id, "avatar", "avatar.png", "image/png", 8);
    expected_failed["status"] = s("ready");
    expected_failed["thumbnail"] = s("failed");
    expected_failed
        .as_object_mut()
        .unwrap()
        .remove("expires_at");
    let mut settled = Value::Null;
    for _ in 0..150 {
        settled = stored(&raw, At::File(avatar_id)).await;
        if settled["thumbnail"] != s("pending") {
            break;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    assert_item(&settled, expected_failed);
    assert_eq!(stored(&raw, At::User(uid)).await, profile);
}

#[tokio::test]
async fn a_thumbnail_is_recorded_on_its_file_and_an_avatar_square_on_the_profile() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let user = api.register_user().await;
    let uid = user.id.as_str();
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(300, 200)
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let png = png.into_inner();
    let ticket = request_avatar(&api, &user, "image/png", png.len()).await;
    let fid = json_id(&ticket, "file_id");
    let fid = fid.as_str();
    assert_eq!(
        put_upload(&ticket["upload"], png.clone(), None).await,
        StatusCode::OK
    );
    complete_upload(&api, &user, fid).await;
    let object_key = format!("avatars/{uid}/{fid}");
    let thumbnail_key = format!("{object_key}.thumbnail.jpg");
    let mut file = Value::Null;
    for _ in 0..150 {
        file = stored(&raw, At::File(fid)).await;
        if file["thumbnail"] != s("pending") {
            break;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    assert_item(
        &file,
        json!({
            "PK": s(&k(&["FILE", fid])), "SK": s("META"), "type": s("file"),
            "id": s(fid), "purpose": s("avatar"), "workspace_id": nul(), "channel_id": nul(),
            "uploader_id": s(uid), "filename": s("avatar.png"), "content_type": s("image/png"),
            "size": n(png.len()), "status": s("ready"), "object_key": s(&object_key),
            "created_at": s(TIME), "thumbnail": s("ready"), "thumbnail_key": s(&thumbnail_key),
        }),
    );
    assert_item(
        &stored(&raw, At::User(uid)).await,
        json!({
            "PK": s(&k(&["USER", uid])), "SK": s("PROFILE"), "type": s("user"),
            "id": s(uid), "email": s(&user.email), "display_name": s("Test User"),
            "bio": nul(),
            "avatar_url": s(&format!("/v1/users/{uid}/avatar?v={fid}")),
            "avatar_key": s(&object_key),
            "avatar_thumbnail_key": s(&thumbnail_key),
            "created_at": s(TIME), "updated_at": s(TIME),
        }),
    );
}

// ---- tasks and boards ----------------------------------------------------------------------

#[tokio::test]
async fn task_column_card_counter_and_due_marker_items_are_exact() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let team = api.team(&People::register(&api).await).await;
    let wid = team.workspace_id.as_str();
    let (owner, member) = (&team.owner, &team.member);
    let (oid, mid) = (owner.id.as_str(), member.id.as_str());
    let todo = api
        .create_channel(owner, wid, json!({"name": "todo-items", "kind": "todo"}))
        .await;
    let tcid = json_id(&todo, "id");
    let tcid = tcid.as_str();
    api.add_channel_member(owner, tcid, member).await;

    let created = api
        .must_post(
            &format!("/v1/channels/{tcid}/tasks"),
            owner,
            json!({"title": "Ship it", "assignee_id": mid, "due_date": "2020-02-03",
                   "priority": "high", "labels": ["release"]}),
            StatusCode::CREATED,
        )
        .await;
    let tid = json_id(&created, "id");
    let tid = tid.as_str();
    let position = json_id(&created, "position");
    let task = |status: &str, gsi1: &str, gsi2: &str, revision: u64, done: bool| {
        json!({
            "PK": s(&k(&["CH", tcid])), "SK": s(&k(&["TASK", tid])),
            "GSI1PK": s(&k(&["TASKS", tcid, gsi1])), "GSI1SK": s(&k(&[&position, tid])),
            "GSI2PK": s(&k(&["WORK", wid, mid])), "GSI2SK": s(&k(&[gsi2, "2020-02-03", tid])),
            "type": s("task"),
            "id": s(tid), "channel_id": s(tcid), "workspace_id": s(wid),
            "title": s("Ship it"), "description": nul(), "status": s(status),
            "priority": s("high"), "assignee_id": s(mid), "due_date": s("2020-02-03"),
            "labels": list(&[s("release")]), "position": s(&position),
            "created_by": s(oid), "created_at": s(TIME), "updated_at": s(TIME),
            // Who made the latest change: the creator, then the member completing it.
            "updated_by": s(if revision == 1 { oid } else { mid }),
            "completed_at": if done { s(TIME) } else { nul() },
            "completed_by": if done { s(mid) } else { nul() },
            "revision": n(revision),
        })
    };
    assert_item(
        &stored(&raw, At::Task(tcid, tid)).await,
        task("open", "open", "0", 1, false),
    );
    // Counters are `ADD`s: an attribute appears with the first change that moves it.
    let totals = |open: u64, done: Option<u64>, high: u64| {
        let mut item = json!({
            "PK": s(&k(&["CH", tcid])), "SK": s("BOARD#TOTALS"), "type": s("work_totals"),
            "channel_id": s(tcid), "total": n(1), "open": n(open), "high": n(high),
        });
        if let Some(done) = done {
            item["done"] = n(done);
        }
        item
    };
    assert_item(
        &stored(&raw, At::WorkTotals(tcid)).await,
        totals(1, None, 1),
    );
    let counts = |pk: &str, sk: &str, entity: &str, open: u64, done: u64| {
        json!({
            "PK": s(pk), "SK": s(sk), "type": s(entity), "user_id": s(mid),
            "channel_id": s(tcid), "open": n(open), "done": n(done),
        })
    };
    assert_item(
        &stored(&raw, At::WorkAssignee(tcid, mid)).await,
        counts(
            &k(&["CH", tcid]),
            &k(&["BOARD", "ASSIGNEE", mid]),
            "work_assignee",
            1,
            0,
        ),
    );
    assert_item(
        &stored(&raw, At::Workload(wid, mid)).await,
        counts(&k(&["WS", wid]), &k(&["LOAD", mid]), "workload", 1, 0),
    );
    assert_item(
        &stored(&raw, At::DueMarker(tcid, "2020-02-03", tid)).await,
        json!({
            "PK": s(&k(&["CH", tcid])), "SK": s(&k(&["DUE", "2020-02-03", tid])),
            "GSI1PK": s(&k(&["DUE", wid])), "GSI1SK": s(&k(&["2020-02-03", tid])),
            "type": s("due_marker"), "channel_id": s(tcid), "item_id": s(tid),
            "due_date": s("2020-02-03"), "assignee_id": s(mid),
        }),
    );

    // Completing moves the task to the done list and the counters with it, in one write;
    // a done task has no due marker.
    api.must_post(
        &format!("/v1/channels/{tcid}/tasks/{tid}/complete"),
        member,
        json!({}),
        StatusCode::OK,
    )
    .await;
    assert_item(
        &stored(&raw, At::Task(tcid, tid)).await,
        task("done", "done", "1", 2, true),
    );
    assert_item(
        &stored(&raw, At::WorkTotals(tcid)).await,
        totals(0, Some(1), 0),
    );
    assert_item(
        &stored(&raw, At::Workload(wid, mid)).await,
        counts(&k(&["WS", wid]), &k(&["LOAD", mid]), "workload", 0, 1),
    );
    assert_absent(&raw, At::DueMarker(tcid, "2020-02-03", tid)).await;

    // A kanban channel starts with its three columns; a card counts on its column.
    let board = api
        .create_channel(owner, wid, json!({"name": "board-items", "kind": "kanban"}))
        .await;
    let kcid = json_id(&board, "id");
    let kcid = kcid.as_str();
    let columns = api
        .must(
            reqwest::Method::GET,
            &format!("/v1/channels/{kcid}/board"),
            owner,
            None,
            StatusCode::OK,
        )
        .await;
    let first = &columns["columns"][0];
    let col = json_id(first, "id");
    let col = col.as_str();
    let column = |cards: u64| {
        json!({
            "PK": s(&k(&["CH", kcid])), "SK": s(&k(&["BOARD", "COLUMN", col])),
            "type": s("column"), "id": s(col), "channel_id": s(kcid), "workspace_id": s(wid),
            "name": s("To do"), "position": s("a0"), "card_count": n(cards),
            "created_by": s(oid), "created_at": s(TIME), "updated_at": s(TIME),
            // A first column comes with the channel: no later change yet.
            "updated_by": nul(),
        })
    };
    assert_item(&stored(&raw, At::Column(kcid, col)).await, column(0));
    let card = api
        .must_post(
            &format!("/v1/channels/{kcid}/columns/{col}/cards"),
            owner,
            json!({"title": "Card", "description": "Details"}),
            StatusCode::CREATED,
        )
        .await;
    let card_id = json_id(&card, "id");
    let card_id = card_id.as_str();
    let card_position = json_id(&card, "position");
    assert_item(
        &stored(&raw, At::Card(kcid, card_id)).await,
        json!({
            "PK": s(&k(&["CH", kcid])), "SK": s(&k(&["CARD", card_id])),
            "GSI1PK": s(&k(&["COL", col])), "GSI1SK": s(&k(&[&card_position, card_id])),
            "type": s("card"), "id": s(card_id), "channel_id": s(kcid), "workspace_id": s(wid),
            "column_id": s(col), "title": s("Card"), "description": s("Details"),
            "assignee_id": nul(), "labels": list(&[]), "due_date": nul(),
            "position": s(&card_position), "created_by": s(oid), "created_at": s(TIME),
            "updated_at": s(TIME), "updated_by": s(oid), "revision": n(1),
        }),
    );
    assert_item(&stored(&raw, At::Column(kcid, col)).await, column(1));
    assert_item(
        &stored(&raw, At::WorkTotals(kcid)).await,
        json!({
            "PK": s(&k(&["CH", kcid])), "SK": s("BOARD#TOTALS"), "type": s("work_totals"),
            "channel_id": s(kcid), "columns": n(3), "total": n(1), "open": n(1),
        }),
    );
}

// ---- notifications and activity ---------------------------------------------------------

/// Waits for `user`'s notification about `message` (through the stream); returns its id.
async fn notification_of(api: &Api, user: &TestUser, message: &str) -> String {
    for _ in 0..POLLS {
        let found = api
            .notifications(user, "")
            .await
            .into_iter()
            .find(|n| n["message_id"] == message);
        if let Some(found) = found {
            return json_id(&found, "id");
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    panic!("no notification of {message} in time");
}

#[tokio::test]
async fn notification_counter_expiry_marker_level_and_activity_items_are_exact() {
    use huddle_shared::stream::ChangeKind;

    let api = Api::new();
    let raw = RawTable::new().await;
    let state = app_state().await;
    let team = api.team(&People::register(&api).await).await;
    let (owner, member) = (&team.owner, &team.member);
    let (oid, mid) = (owner.id.as_str(), member.id.as_str());
    let (wid, gid) = (team.workspace_id.as_str(), team.general_id.as_str());

    let content = format!("<@{mid}> items\tahead");
    let message = api.post_text(owner, gid, &content).await;
    let msg = json_id(&message, "id");
    let nid = notification_of(&api, member, &msg).await;
    let nid = nid.as_str();
    let notification = |read: bool| {
        let mut item = json!({
            "PK": s(&k(&["USER", mid])), "SK": s(&k(&["NOTIF", nid])),
            "type": s("notification"), "expires_at": n(EPOCH),
            "id": s(nid), "user_id": s(mid), "kind": s("mention"), "workspace_id": s(wid),
            "channel_id": s(gid), "message_id": s(&msg), "task_id": nul(), "card_id": nul(),
            "actor_id": s(oid), "preview": s(&format!("<@{mid}> items ahead")),
            "read": flag(read), "created_at": s(TIME),
        });
        if !read {
            item["GSI2PK"] = s(&k(&["UNREAD", mid]));
            item["GSI2SK"] = s(nid);
        }
        item
    };
    let unread = stored(&raw, At::Notification(mid, nid)).await;
    assert_item(&unread, notification(false));
    // Kept 90 days from the event, which is the message's creation.
    assert_eq!(text(&unread, "created_at"), message["created_at"]);
    assert_eq!(
        number(&unread, "expires_at"),
        time(&unread, "created_at").timestamp() + 90 * 24 * 3600
    );
    let counter = |unread: u64| {
        json!({
            "PK": s(&k(&["USER", mid])), "SK": s("NOTIFCOUNT"),
            "type": s("notification_counter"), "unread": n(unread),
        })
    };
    assert_item(
        &stored(&raw, At::NotificationCounter(mid)).await,
        counter(1),
    );

    api.read_notification(member, nid).await;
    assert_item(
        &stored(&raw, At::Notification(mid, nid)).await,
        notification(true),
    );
    assert_item(
        &stored(&raw, At::NotificationCounter(mid)).await,
        counter(0),
    );

    // An unread one removed by the TTL: the count given back, and a marker that it was.
    let again = api
        .post_text(owner, gid, &format!("<@{mid}> expires"))
        .await;
    let expiring = notification_of(&api, member, &json_id(&again, "id")).await;
    let expiring = expiring.as_str();
    assert_item(
        &stored(&raw, At::NotificationCounter(mid)).await,
        counter(1),
    );
    let image = raw
        .image(&key(At::Notification(mid, expiring)))
        .await
        .unwrap();
    let removal =
        huddle_tests::stream_change("expired", ChangeKind::Remove, Some(image), None, true);
    assert!(
        huddle_notifier::consume(&state, &[removal])
            .await
            .is_empty()
    );
    assert_item(
        &stored(&raw, At::NotificationCounter(mid)).await,
        counter(0),
    );
    let marker = stored(&raw, At::ExpiryMarker(mid, expiring)).await;
    assert_item(
        &marker,
        json!({
            "PK": s(&k(&["USER", mid])), "SK": s(&k(&["EXPIRED", expiring])),
            "type": s("expiry_marker"), "expires_at": n(EPOCH),
        }),
    );
    assert!(number(&marker, "expires_at") > now_epoch());

    // A level on a membership; `all` puts it in the sparse index of who hears everything.
    let membership = |extra: Value| {
        let mut item = json!({
            "PK": s(&k(&["CH", gid])), "SK": s(&k(&["MEMBER", mid])),
            "GSI1PK": s(&k(&["USER", mid])), "GSI1SK": s(&k(&["CH", wid, gid])),
            "type": s("channel_member"),
            "channel_id": s(gid), "workspace_id": s(wid), "user_id": s(mid),
            "joined_at": s(TIME), "read_count": n(0), "mention_count": n(2),
        });
        for (name, value) in extra.as_object().unwrap() {
            item[name] = value.clone();
        }
        item
    };
    api.set_notification_level(member, gid, "all").await;
    assert_item(
        &stored(&raw, At::ChannelMember(gid, mid)).await,
        membership(json!({
            "notification_level": s("all"),
            "GSI2PK": s(&k(&["NOTIFYALL", gid])), "GSI2SK": s(mid),
        })),
    );
    api.set_notification_level(member, gid, "none").await;
    assert_item(
        &stored(&raw, At::ChannelMember(gid, mid)).await,
        membership(json!({"notification_level": s("none")})),
    );

    // The owner adding the member, as the log holds it.
    let joined = api
        .activity(owner, wid, "", 100)
        .await
        .into_iter()
        .find(|e| e["kind"] == "member.joined" && e["target"]["id"] == mid)
        .expect("the member's join in the log");
    let aid = json_id(&joined, "id");
    let aid = aid.as_str();
    let entry = stored(&raw, At::Activity(wid, aid)).await;
    assert_item(
        &entry,
        json!({
            "PK": s(&k(&["ACT", wid])), "SK": s(aid),
            "GSI1PK": s(&k(&["ACT", wid, oid])), "GSI1SK": s(aid),
            "type": s("activity"), "expires_at": n(EPOCH),
            "id": s(aid), "workspace_id": s(wid), "kind": s("member.joined"),
            "actor_id": s(oid),
            "target": json!({"M": {"type": s("user"), "id": s(mid)}}),
            "channel_id": nul(), "summary": s("added a member as member"), "at": s(TIME),
        }),
    );
    assert_eq!(
        number(&entry, "expires_at"),
        time(&entry, "at").timestamp() + 365 * 24 * 3600
    );
}

// ---- documents ----------------------------------------------------------------------------

/// A binary attribute's bytes, base64 (as [`RawTable`] shows them).
fn binary(item: &Value, name: &str) -> String {
    item[name]["B"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not binary in {item}"))
        .to_owned()
}

#[tokio::test]
async fn document_record_revision_part_and_update_items_are_exact() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let team = api.doc_team(&People::register(&api).await).await;
    let (cid, owner) = (team.doc_id.as_str(), team.owner.id.as_str());
    let doc_pk = k(&["DOC", cid]);

    // A save: the record, a revision and its one snapshot part; no log.
    api.save_document(&team.owner, cid, "hello", 0).await;
    let part = stored(&raw, At::DocumentPart(cid, 1, 0)).await;
    let state = binary(&part, "state");
    assert_eq!(yjs::text(std::slice::from_ref(&state)).await, "hello");
    let state_len = base64::engine::general_purpose::STANDARD
        .decode(&state)
        .unwrap()
        .len();
    assert_item(
        &part,
        json!({
            "PK": s(&doc_pk), "SK": s(&k(&["PART", "00000000000000000001", "0000"])),
            "type": s("document_part"), "channel_id": s(cid), "version": n(1), "part": n(0),
            "state": {"B": state},
        }),
    );
    assert_item(
        &stored(&raw, At::DocumentRevision(cid, 1)).await,
        json!({
            "PK": s(&doc_pk), "SK": s(&k(&["REV", "00000000000000000001"])),
            "type": s("document_revision"), "channel_id": s(cid), "version": n(1),
            "created_at": s(TIME), "updated_by": s(owner), "reason": s("save"), "parts": n(1),
            "state_bytes": n(state_len),
        }),
    );
    let record = |version: u64, by: &str, log_count: u64, log_bytes: usize| {
        json!({
            "PK": s(&doc_pk), "SK": s("META"), "type": s("document"), "channel_id": s(cid),
            "version": n(version), "updated_at": s(TIME), "updated_by": s(by),
            "snapshot_version": n(1), "snapshot_parts": n(1), "snapshot_at": s(TIME),
            "log_count": n(log_count), "log_bytes": n(log_bytes), "revision_count": n(1),
        })
    };
    let meta = stored(&raw, At::Document(cid)).await;
    assert_item(&meta, record(1, owner, 0, 0));
    assert_eq!(text(&meta, "updated_at"), text(&meta, "snapshot_at"));

    // A live update: one log item holding exactly the bytes sent, and the record moved.
    api.join(&team.member, cid).await;
    let member = team.member.id.as_str();
    let mut socket = ws::connect(&api, &team.member).await;
    let update = yjs::edit(12, std::slice::from_ref(&state), 5, " world", 0).await;
    assert_eq!(ws::doc_update_answer(&mut socket, cid, &update).await, None);
    let update_len = base64::engine::general_purpose::STANDARD
        .decode(&update)
        .unwrap()
        .len();
    assert_item(
        &stored(&raw, At::DocumentUpdate(cid, 2)).await,
        json!({
            "PK": s(&doc_pk), "SK": s(&k(&["UPD", "00000000000000000002"])),
            "type": s("document_update"), "channel_id": s(cid), "version": n(2),
            "user_id": s(member), "created_at": s(TIME), "update": {"B": update},
        }),
    );
    let meta = stored(&raw, At::Document(cid)).await;
    assert_item(&meta, record(2, member, 1, update_len));
    assert!(time(&meta, "updated_at") > time(&meta, "snapshot_at"));

    // A refused update changes nothing.
    let refused = ws::doc_update_answer(&mut socket, cid, "//79").await;
    assert!(refused.is_some());
    assert_eq!(stored(&raw, At::Document(cid)).await, meta);
    assert_absent(&raw, At::DocumentUpdate(cid, 3)).await;

    // The partition holds exactly these four items.
    let sort_keys: Vec<String> = raw
        .query(&partition(In::Document(cid)))
        .await
        .iter()
        .map(|item| text(item, "SK").to_owned())
        .collect();
    assert_eq!(
        sort_keys,
        [
            "META".to_owned(),
            k(&["PART", "00000000000000000001", "0000"]),
            k(&["REV", "00000000000000000001"]),
            k(&["UPD", "00000000000000000002"]),
        ]
    );
}
