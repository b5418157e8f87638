//! Realtime against the real local stack with real WebSocket clients: tickets, subscribe
//! checks, stream-driven broadcasts, relays (typing, signal, presence), the management API,
//! and clean-up of connections that are gone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use huddle_shared::auth::secrets;
use huddle_shared::ids::{ChannelId, UserId};
use huddle_shared::realtime::{Connection, Subscription};
use huddle_tests::{Api, People, Team, TestUser, app_state, base_url};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(15);

fn ws_url(ticket: &str) -> String {
    format!(
        "{}/ws?ticket={ticket}",
        base_url().replacen("http://", "ws://", 1)
    )
}

async fn ticket(api: &Api, user: &TestUser) -> String {
    let reply = api
        .post("/v1/auth/ws-ticket", user.token(), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    reply.body["ticket"].as_str().unwrap().to_owned()
}

async fn connect(api: &Api, user: &TestUser) -> Socket {
    let ticket = ticket(api, user).await;
    tokio_tungstenite::connect_async(ws_url(&ticket))
        .await
        .expect("websocket connect")
        .0
}

/// The HTTP status a refused upgrade answered with.
async fn refused_status(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("the socket was accepted"),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("unexpected error: {other}"),
    }
}

async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The next text frame, as JSON (raw text as a JSON string if it is not JSON).
async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("no frame in time")
            .expect("socket closed")
            .expect("socket error");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap_or(Value::String(text.to_string()));
        }
    }
}

/// The next frame of `kind`, skipping others.
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    for _ in 0..50 {
        let frame = next_frame(socket).await;
        if frame["type"] == kind {
            return frame;
        }
    }
    panic!("no {kind} frame");
}

/// Every frame up to and including the first that `done` accepts. Events from before a
/// subscription may still arrive (the stream is asynchronous), so checks look at kinds and
/// ids, never at positions alone.
async fn frames_until(socket: &mut Socket, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    for _ in 0..200 {
        let frame = next_frame(socket).await;
        let finished = done(&frame);
        seen.push(frame);
        if finished {
            return seen;
        }
    }
    panic!("the awaited frame never came: {seen:?}");
}

fn is_type(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |frame| frame["type"] == kind
}

async fn subscribe(socket: &mut Socket, channels: &[&str]) -> Value {
    send(
        socket,
        json!({"action": "subscribe", "channel_ids": channels}),
    )
    .await;
    next_frame(socket).await
}

async fn post_message(api: &Api, user: &TestUser, channel: &str, content: &str) -> Value {
    let reply = api
        .post(
            &format!("/v1/channels/{channel}/messages"),
            user.token(),
            json!({"content": content}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body
}

async fn team(api: &Api) -> Team {
    api.team(&People::register(api).await).await
}

#[tokio::test]
async fn tickets_open_one_socket_each() {
    let api = Api::new();
    let user = api.register_user().await;
    let ticket = ticket(&api, &user).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&ticket))
        .await
        .unwrap();
    send(&mut socket, json!({"action": "ping"})).await;
    next_of(&mut socket, "pong").await;

    assert_eq!(refused_status(&ws_url(&ticket)).await, 401, "a used ticket");
    assert_eq!(refused_status(&ws_url("not-a-ticket")).await, 401);
    let no_ticket = format!("{}/ws", base_url().replacen("http://", "ws://", 1));
    assert_eq!(refused_status(&no_ticket).await, 401);

    let state = app_state().await;
    let expired = secrets::generate().unwrap();
    let past = chrono::Utc::now().timestamp() - 1;
    state
        .store
        .put_ws_ticket(&secrets::digest(&expired), user.id.parse().unwrap(), past)
        .await
        .unwrap();
    assert_eq!(
        refused_status(&ws_url(&expired)).await,
        401,
        "an expired ticket"
    );
}

#[tokio::test]
async fn a_message_reaches_subscribers_only() {
    let api = Api::new();
    let team = team(&api).await;
    let mut member = connect(&api, &team.member).await;
    let mut admin = connect(&api, &team.admin).await;
    let mut outsider = connect(&api, &team.outsider).await;

    let subscribed = subscribe(&mut member, &[&team.general_id]).await;
    assert_eq!(subscribed["type"], "subscribed");
    assert_eq!(subscribed["data"]["channel_ids"], json!([team.general_id]));
    // The admin listens to the public channel only; the outsider may not listen at all.
    assert_eq!(
        subscribe(&mut admin, &[&team.public_id]).await["type"],
        "subscribed"
    );
    let refused = subscribe(&mut outsider, &[&team.general_id]).await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["data"]["code"], "not_found");
    // All or nothing: one unreadable channel subscribes none of them.
    let mixed = subscribe(&mut admin, &[&team.general_id, &team.private_id]).await;
    assert_eq!(mixed["type"], "error");

    let message = post_message(&api, &team.owner, &team.general_id, "hello, subscribers").await;
    let created = frames_until(&mut member, |f| f["data"]["id"] == message["id"])
        .await
        .pop()
        .unwrap();
    assert_eq!(created["type"], "message.created");
    assert_eq!(created["channel_id"], team.general_id.as_str());
    assert_eq!(created["data"]["content"], "hello, subscribers");
    assert!(created["at"].is_string());

    // The admin hears the public channel's message and nothing of general's (records are
    // delivered in order, so general's message would have come first).
    let public = post_message(&api, &team.owner, &team.public_id, "public news").await;
    let public_id = public["id"].clone();
    let admin_frames = frames_until(&mut admin, |f| f["data"]["id"] == public_id).await;
    assert!(
        !admin_frames
            .iter()
            .any(|f| f["data"]["id"] == message["id"]),
        "{admin_frames:?}"
    );

    // The outsider got nothing but the error.
    send(&mut outsider, json!({"action": "ping"})).await;
    let outsider_frames = frames_until(&mut outsider, is_type("pong")).await;
    assert!(
        !outsider_frames
            .iter()
            .any(|f| f["type"] == "message.created"),
        "{outsider_frames:?}"
    );

    // Unsubscribed sockets hear no more; a later event the member does hear proves the
    // quiet one was skipped, not late.
    send(
        &mut member,
        json!({"action": "unsubscribe", "channel_ids": [team.general_id]}),
    )
    .await;
    let unsubscribed = frames_until(&mut member, is_type("subscribed")).await;
    assert_eq!(
        unsubscribed.last().unwrap()["data"]["channel_ids"],
        json!([])
    );
    let quiet = post_message(&api, &team.owner, &team.general_id, "nobody listens").await;
    subscribe(&mut member, &[&team.public_id]).await;
    let marker = post_message(&api, &team.owner, &team.public_id, "marker").await;
    let marker_id = marker["id"].clone();
    let member_frames = frames_until(&mut member, |f| f["data"]["id"] == marker_id).await;
    assert!(
        !member_frames.iter().any(|f| f["data"]["id"] == quiet["id"]),
        "{member_frames:?}"
    );
}

#[tokio::test]
async fn edits_reactions_pins_and_deletes_are_broadcast() {
    let api = Api::new();
    let team = team(&api).await;
    let mut member = connect(&api, &team.member).await;
    subscribe(&mut member, &[&team.general_id]).await;
    let message = post_message(&api, &team.owner, &team.general_id, "v1").await;
    let id = message["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/channels/{}/messages/{id}", team.general_id);
    let about = |kind: &'static str| {
        let id = id.clone();
        move |f: &Value| {
            f["type"] == kind
                && (f["data"]["id"] == id.as_str() || f["data"]["message_id"] == id.as_str())
        }
    };
    frames_until(&mut member, about("message.created")).await;

    api.patch(&path, team.owner.token(), json!({"content": "v2"}))
        .await;
    let updated = frames_until(&mut member, about("message.updated"))
        .await
        .pop()
        .unwrap();
    assert_eq!(updated["data"]["content"], "v2");

    api.put(
        &format!("{path}/reactions/thumbsup"),
        team.admin.token(),
        json!({}),
    )
    .await;
    let reaction = frames_until(&mut member, about("reaction.added"))
        .await
        .pop()
        .unwrap();
    assert_eq!(reaction["data"]["emoji"], "thumbsup");
    assert_eq!(reaction["data"]["user_id"], team.admin.id.as_str());
    assert_eq!(reaction["data"]["count"], 1);
    api.delete(&format!("{path}/reactions/thumbsup"), team.admin.token())
        .await;
    let removed = frames_until(&mut member, about("reaction.removed"))
        .await
        .pop()
        .unwrap();
    assert_eq!(removed["data"]["count"], 0);

    api.put(
        &format!("/v1/channels/{}/pins/{id}", team.general_id),
        team.admin.token(),
        json!({}),
    )
    .await;
    frames_until(&mut member, about("pin.added")).await;

    api.delete(&path, team.owner.token()).await;
    frames_until(&mut member, about("message.deleted")).await;

    let joined = api
        .post(
            &format!("/v1/channels/{}/join", team.public_id),
            team.member.token(),
            json!({}),
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK);
    subscribe(&mut member, &[&team.public_id]).await;
    api.post(
        &format!("/v1/channels/{}/join", team.public_id),
        team.admin.token(),
        json!({}),
    )
    .await;
    let admin_id = team.admin.id.clone();
    frames_until(&mut member, |f| {
        f["type"] == "member.joined" && f["data"]["user_id"] == admin_id.as_str()
    })
    .await;
}

#[tokio::test]
async fn typing_and_presence_are_relayed_to_others_and_signals_to_one_user() {
    let api = Api::new();
    let team = team(&api).await;
    let mut member = connect(&api, &team.member).await;
    let mut admin = connect(&api, &team.admin).await;
    subscribe(&mut member, &[&team.general_id]).await;
    subscribe(&mut admin, &[&team.general_id]).await;

    send(
        &mut member,
        json!({"action": "typing", "channel_id": team.general_id}),
    )
    .await;
    let typing = next_of(&mut admin, "typing").await;
    assert_eq!(typing["data"]["user_id"], team.member.id.as_str());
    assert_eq!(typing["channel_id"], team.general_id.as_str());
    send(&mut member, json!({"action": "ping"})).await;
    let own = frames_until(&mut member, is_type("pong")).await;
    assert!(
        !own.iter().any(|f| f["type"] == "typing"),
        "no echo of one's own typing"
    );

    send(&mut member, json!({"action": "presence", "status": "away"})).await;
    let presence = next_of(&mut admin, "presence").await;
    assert_eq!(presence["data"]["status"], "away");
    assert_eq!(presence["data"]["user_id"], team.member.id.as_str());

    // Signalling: voice channels only, between members, to the target's sockets only.
    let voice = api
        .create_channel(
            &team.owner,
            &team.workspace_id,
            json!({"name": "huddle-room", "kind": "voice"}),
        )
        .await;
    let voice_id = voice["id"].as_str().unwrap();
    api.post(
        &format!("/v1/channels/{voice_id}/join"),
        team.member.token(),
        json!({}),
    )
    .await;
    let mut owner = connect(&api, &team.owner).await;
    let offer = json!({"sdp": "v=0 ..."});
    send(
        &mut member,
        json!({"action": "signal", "channel_id": voice_id, "to_user_id": team.owner.id, "kind": "offer", "payload": offer}),
    )
    .await;
    let signal = next_of(&mut owner, "signal").await;
    assert_eq!(signal["data"]["from_user_id"], team.member.id.as_str());
    assert_eq!(signal["data"]["kind"], "offer");
    assert_eq!(signal["data"]["payload"], offer);

    let secret = api
        .create_channel(
            &team.admin,
            &team.workspace_id,
            json!({"name": "secret", "kind": "chat", "private": true}),
        )
        .await;
    let secret_id = secret["id"].as_str().unwrap();
    let bad_frames = [
        (
            json!({"action": "signal", "channel_id": voice_id, "to_user_id": team.admin.id, "kind": "offer", "payload": {}}),
            "target not in the channel",
        ),
        (
            json!({"action": "signal", "channel_id": team.general_id, "to_user_id": team.owner.id, "kind": "ice", "payload": {}}),
            "not a voice channel",
        ),
        (
            json!({"action": "signal", "channel_id": voice_id, "to_user_id": team.owner.id, "kind": "hello", "payload": {}}),
            "bad kind",
        ),
        (json!({"action": "dance"}), "unknown action"),
        (
            json!({"action": "typing", "channel_id": secret_id}),
            "unreadable channel",
        ),
        (
            json!({"action": "subscribe", "channel_ids": []}),
            "empty subscribe",
        ),
        (
            json!({"action": "unsubscribe", "channel_ids": vec![team.general_id.clone(); 51]}),
            "too many to unsubscribe",
        ),
    ];
    for (frame, reason) in bad_frames {
        send(&mut member, frame).await;
        send(&mut member, json!({"action": "ping"})).await;
        let replies = frames_until(&mut member, is_type("pong")).await;
        let errors = replies.iter().filter(|f| f["type"] == "error").count();
        assert_eq!(errors, 1, "{reason}: {replies:?}");
    }
    member.send(Message::Text("not json".into())).await.unwrap();
    next_of(&mut member, "error").await;
}

#[tokio::test]
async fn presence_lists_connected_members() {
    let api = Api::new();
    let team = team(&api).await;
    let path = format!("/v1/workspaces/{}/presence", team.workspace_id);
    let online = |reply: &huddle_tests::Reply| -> Vec<(String, String)> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["user_id"].as_str().unwrap().to_owned(),
                    p["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert!(online(&api.get(&path, team.member.token()).await).is_empty());
    let mut owner = connect(&api, &team.owner).await;
    assert_eq!(
        online(&api.get(&path, team.member.token()).await),
        [(team.owner.id.clone(), "online".to_owned())]
    );
    send(&mut owner, json!({"action": "presence", "status": "dnd"})).await;
    send(&mut owner, json!({"action": "ping"})).await;
    next_of(&mut owner, "pong").await;
    assert_eq!(
        online(&api.get(&path, team.member.token()).await),
        [(team.owner.id.clone(), "dnd".to_owned())]
    );
    owner.close(None).await.unwrap();
    for _ in 0..100 {
        if online(&api.get(&path, team.member.token()).await).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(online(&api.get(&path, team.member.token()).await).is_empty());
    assert_eq!(
        api.get(&path, team.outsider.token()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_management_api_posts_gets_and_closes_by_connection_id() {
    let api = Api::new();
    let user = api.register_user().await;
    let mut socket = connect(&api, &user).await;
    let state = app_state().await;
    let connections = state
        .store
        .list_user_connections(user.id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(connections.len(), 1);
    let id = &connections[0].connection_id;
    let encoded: String = id
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let path = format!("/@connections/{encoded}");

    let posted = api
        .send(api.request(reqwest::Method::POST, &path).body("raw hello"))
        .await;
    assert_eq!(posted.status, StatusCode::OK);
    frames_until(&mut socket, |f| *f == json!("raw hello")).await;
    assert_eq!(api.get(&path, None).await.status, StatusCode::OK);
    assert_eq!(api.delete(&path, None).await.status, StatusCode::NO_CONTENT);
    let closed = tokio::time::timeout(WAIT, async {
        while let Some(Ok(message)) = socket.next().await {
            if matches!(message, Message::Close(_)) {
                return true;
            }
        }
        true
    })
    .await;
    assert_eq!(closed, Ok(true));

    let unknown = api
        .send(
            api.request(reqwest::Method::POST, "/@connections/bm9wZQ%3D%3D")
                .body("x"),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::GONE);
    assert_eq!(
        api.get("/@connections/bm9wZQ%3D%3D", None).await.status,
        StatusCode::GONE
    );
}

#[tokio::test]
async fn a_gone_connection_is_deleted_by_the_next_broadcast() {
    let api = Api::new();
    let team = team(&api).await;
    let state = app_state().await;
    let ghost = format!("ghost{}=", ulid::Ulid::new());
    let owner: UserId = team.owner.id.parse().unwrap();
    let general: ChannelId = team.general_id.parse().unwrap();
    let expires_at = chrono::Utc::now().timestamp() + 3600;
    state
        .store
        .put_connection(&Connection {
            connection_id: ghost.clone(),
            user_id: owner,
            connected_at: chrono::Utc::now(),
            expires_at,
        })
        .await
        .unwrap();
    state
        .store
        .put_subscriptions(&[Subscription {
            connection_id: ghost.clone(),
            channel_id: general,
            user_id: owner,
            expires_at,
        }])
        .await
        .unwrap();

    post_message(&api, &team.member, &team.general_id, "anyone there?").await;
    for _ in 0..100 {
        if state.store.get_connection(&ghost).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        state.store.get_connection(&ghost).await.unwrap().is_none(),
        "the gone connection was kept"
    );
    assert!(
        state
            .store
            .list_connection_subscriptions(&ghost)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_poison_record_does_not_block_the_broadcast_batch() {
    use huddle_shared::realtime::broadcast_changes;
    use huddle_shared::realtime::{PostOutcome, Poster};
    use huddle_shared::stream::{Change, ChangeKind};
    use std::sync::Mutex;

    /// Records what would be posted, to check delivery without sockets.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, Value)>>);
    impl Poster for Recorder {
        async fn post(&self, connection_id: &str, payload: Vec<u8>) -> PostOutcome {
            let frame = serde_json::from_slice(&payload).unwrap();
            self.0
                .lock()
                .unwrap()
                .push((connection_id.to_owned(), frame));
            PostOutcome::Delivered
        }
    }

    let state = app_state().await;
    let (channel, user) = (ChannelId::generate(), UserId::generate());
    let connection = format!("rec{}=", ulid::Ulid::new());
    state
        .store
        .put_subscriptions(&[Subscription {
            connection_id: connection.clone(),
            channel_id: channel,
            user_id: user,
            expires_at: chrono::Utc::now().timestamp() + 60,
        }])
        .await
        .unwrap();
    let message = huddle_shared::ids::MessageId::generate();
    let workspace = huddle_shared::ids::WorkspaceId::generate();
    let good = Change {
        id: "good".into(),
        kind: ChangeKind::Insert,
        old: None,
        new: Some(huddle_tests::message_image(
            channel,
            message,
            workspace,
            user,
            json!("still delivered"),
        )),
        by_ttl: false,
    };
    let poison = Change {
        id: "poison".into(),
        kind: ChangeKind::Insert,
        old: None,
        new: Some(huddle_tests::message_image(
            channel,
            message,
            workspace,
            user,
            json!(["not", "text"]),
        )),
        by_ttl: false,
    };
    let recorder = Recorder::default();
    let failed = broadcast_changes(&state, &recorder, &[poison, good]).await;
    assert_eq!(failed, ["poison"]);
    let posted = recorder.0.lock().unwrap().clone();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].0, connection);
    assert_eq!(posted[0].1["type"], "message.created");
    assert_eq!(posted[0].1["data"]["content"], "still delivered");
}
