//! Realtime against the real local stack with real WebSocket clients: tickets, subscribe
//! checks, stream-driven broadcasts, relays (typing, signal, presence), the management API,
//! clean-up of connections that are gone, the end of a channel's events for users who lose
//! access to it, subscription caps and the typing and presence throttles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use huddle_shared::auth::secrets;
use huddle_shared::ids::{ChannelId, MessageId, UserId, WorkspaceId};
use huddle_shared::realtime::Connection;
use huddle_shared::realtime::{
    AUDIENCE_FIRST_PAGE, CONNECTION_SUBSCRIPTIONS_MAX, broadcast_changes,
};
use huddle_shared::realtime::{PostOutcome, Poster};
use huddle_shared::stream::{Change, ChangeKind};
use huddle_tests::ws::{
    Socket, WAIT, connect, connect_subscribed, frames_until, next_frame, next_of, send, subscribe,
    ticket, ws_url,
};
use huddle_tests::{Api, Team, TestUser, app_state, base_url};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// The HTTP status a refused upgrade answered with.
async fn refused_status(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("the socket was accepted"),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("unexpected error: {other}"),
    }
}

fn is_type(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |frame| frame["type"] == kind
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

/// More subscribers than the audience's first page: each page is checked and posted to
/// while the next is read, and every socket hears the message exactly once.
#[tokio::test]
async fn a_message_reaches_every_page_of_a_large_audience() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let state = app_state().await;
    let workspace: WorkspaceId = team.workspace_id.parse().unwrap();
    let general: ChannelId = team.general_id.parse().unwrap();
    let owner: UserId = team.owner.id.parse().unwrap();
    // A first page's worth of subscriptions of connections long gone (as a missed
    // `$disconnect` leaves them), whose ids sort before every gateway id (`!` before any
    // base64 character): the real sockets are read on the second page. (The gone ones
    // answer 410.)
    let run = format!("!{}", ulid::Ulid::new());
    let first_page = usize::try_from(AUDIENCE_FIRST_PAGE).unwrap();
    futures::stream::iter(0..first_page)
        .for_each_concurrent(16, |index| {
            let (state, run) = (&state, &run);
            async move {
                let id = format!("{run}-{index:04}");
                subscribed_record(state, &id, owner, workspace, general).await;
            }
        })
        .await;
    // Each user may hold 10 sockets: three members give 30.
    let mut sockets = Vec::new();
    for user in [&team.owner, &team.admin, &team.member] {
        for _ in 0..10 {
            sockets.push(connect_subscribed(&api, user, &[&team.general_id]).await);
        }
    }
    let message = api
        .post_text(&team.member, &team.general_id, "to a crowd")
        .await;
    let heard = futures::future::join_all(sockets.iter_mut().map(|socket| {
        let id = message["id"].clone();
        async move {
            let frames = frames_until(socket, |f| f["data"]["id"] == id).await;
            frames
                .iter()
                .filter(|f| f["type"] == "message.created" && f["data"]["id"] == id)
                .count()
        }
    }))
    .await;
    assert_eq!(heard, vec![1; 30]);
}

#[tokio::test]
async fn a_message_reaches_subscribers_only() {
    let api = Api::new();
    let team = api.fresh_team().await;
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

    let message = api
        .post_text(&team.owner, &team.general_id, "hello, subscribers")
        .await;
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
    let public = api
        .post_text(&team.owner, &team.public_id, "public news")
        .await;
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
    let quiet = api
        .post_text(&team.owner, &team.general_id, "nobody listens")
        .await;
    subscribe(&mut member, &[&team.public_id]).await;
    let marker = api.post_text(&team.owner, &team.public_id, "marker").await;
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
    let team = api.fresh_team().await;
    let mut member = connect(&api, &team.member).await;
    subscribe(&mut member, &[&team.general_id]).await;
    let message = api.post_text(&team.owner, &team.general_id, "v1").await;
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

    api.join(&team.member, &team.public_id).await;
    subscribe(&mut member, &[&team.public_id]).await;
    api.join(&team.admin, &team.public_id).await;
    let admin_id = team.admin.id.clone();
    frames_until(&mut member, |f| {
        f["type"] == "member.joined" && f["data"]["user_id"] == admin_id.as_str()
    })
    .await;
}

#[tokio::test]
async fn typing_and_presence_are_relayed_to_others_and_signals_to_one_user() {
    let api = Api::new();
    let team = api.fresh_team().await;
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
    api.join(&team.member, voice_id).await;
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
    let team = api.fresh_team().await;
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
    let team = api.fresh_team().await;
    let state = app_state().await;
    let ghost = format!("ghost{}=", ulid::Ulid::new());
    let owner: UserId = team.owner.id.parse().unwrap();
    let general: ChannelId = team.general_id.parse().unwrap();
    let workspace: WorkspaceId = team.workspace_id.parse().unwrap();
    subscribed_record(&state, &ghost, owner, workspace, general).await;

    api.post_text(&team.member, &team.general_id, "anyone there?")
        .await;
    // The subscriptions are listed through GSI1, which follows the table a moment later
    // (in AWS too): both are polled, as long as a frame is waited for.
    let deadline = tokio::time::Instant::now() + huddle_tests::ws::WAIT;
    while tokio::time::Instant::now() < deadline {
        let gone = state.store.get_connection(&ghost).await.unwrap().is_none()
            && state
                .store
                .list_connection_subscriptions(&ghost)
                .await
                .unwrap()
                .is_empty();
        if gone {
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
            .is_empty(),
        "the gone connection's subscriptions were kept"
    );
}

#[tokio::test]
async fn a_poison_record_does_not_block_the_broadcast_batch() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let state = app_state().await;
    let mut socket = connect(&api, &team.owner).await;
    subscribe(&mut socket, &[&team.general_id]).await;
    let connection = connection_id_of(&team.owner).await;
    let (channel, user): (ChannelId, UserId) = (
        team.general_id.parse().unwrap(),
        team.owner.id.parse().unwrap(),
    );
    let workspace: WorkspaceId = team.workspace_id.parse().unwrap();
    let message = MessageId::generate();
    let good = message_change(
        "good",
        channel,
        message,
        workspace,
        user,
        json!("still delivered"),
    );
    let poison = message_change(
        "poison",
        channel,
        message,
        workspace,
        user,
        json!(["not", "text"]),
    );
    let recorder = Recorder::default();
    let failed = broadcast_changes(&state, &recorder, &[poison, good]).await;
    assert_eq!(failed, ["poison"]);
    let posted = recorder.frames();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].0, connection);
    assert_eq!(posted[0].1["type"], "message.created");
    assert_eq!(posted[0].1["data"]["content"], "still delivered");
}

/// Records what would be posted, to check delivery without sockets.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(String, Value)>>);

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

impl Recorder {
    fn frames(&self) -> Vec<(String, Value)> {
        self.0.lock().unwrap().clone()
    }

    /// The connections a frame of `kind` went to, sorted.
    fn targets_of(&self, kind: &str) -> Vec<String> {
        self.targets_where(|frame| frame["type"] == kind)
    }

    /// The connections a message with this content went to, sorted.
    fn heard(&self, content: &str) -> Vec<String> {
        self.targets_where(|frame| frame["data"]["content"] == content)
    }

    fn targets_where(&self, wanted: impl Fn(&Value) -> bool) -> Vec<String> {
        let mut targets: Vec<String> = self
            .frames()
            .into_iter()
            .filter(|(_, frame)| wanted(frame))
            .map(|(connection, _)| connection)
            .collect();
        targets.sort();
        targets
    }
}

/// A stream record of a new top-level message (never written to the table).
fn message_change(
    id: &str,
    channel: ChannelId,
    message: MessageId,
    workspace: WorkspaceId,
    author: UserId,
    content: Value,
) -> Change {
    Change {
        id: id.into(),
        kind: ChangeKind::Insert,
        old: None,
        new: Some(huddle_tests::message_image(
            channel, message, workspace, author, content,
        )),
        by_ttl: false,
        at: chrono::Utc::now(),
    }
}

/// A connection record with no socket behind it, subscribed to `channel` (written straight
/// to the table).
async fn subscribed_record(
    state: &huddle_shared::AppState,
    connection_id: &str,
    user_id: UserId,
    workspace: WorkspaceId,
    channel: ChannelId,
) -> Connection {
    let connection = Connection {
        connection_id: connection_id.to_owned(),
        user_id,
        connected_at: chrono::Utc::now(),
        expires_at: chrono::Utc::now().timestamp() + 3600,
        channels: Vec::new(),
    };
    state.store.put_connection(&connection).await.unwrap();
    subscribe_directly(state, &connection, &[(workspace, channel)]).await;
    connection
}

/// Subscribes `connection` to `channels` straight in the table (no frame, no access
/// check), as a subscription left behind by a race would be.
async fn subscribe_directly(
    state: &huddle_shared::AppState,
    connection: &Connection,
    channels: &[(WorkspaceId, ChannelId)],
) {
    assert_eq!(
        state
            .store
            .subscribe(connection, channels, 100)
            .await
            .unwrap(),
        huddle_shared::realtime::SubscribeOutcome::Subscribed
    );
}

/// The id of a user's one open connection.
async fn connection_id_of(user: &TestUser) -> String {
    let state = app_state().await;
    let connections = state
        .store
        .list_user_connections(user.id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(connections.len(), 1, "{connections:?}");
    connections[0].connection_id.clone()
}

/// The channels a socket is subscribed to, as its connection reports them (an empty
/// unsubscribe answers `subscribed` with the current set).
async fn subscriptions_of(socket: &mut Socket) -> Vec<String> {
    send(socket, json!({"action": "unsubscribe", "channel_ids": []})).await;
    let reply = answer_of(socket, "subscribed").await;
    reply["data"]["channel_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

/// The next frame of `kind`, skipping any number of events.
async fn answer_of(socket: &mut Socket, kind: &str) -> Value {
    for _ in 0..1000 {
        let frame = next_frame(socket).await;
        if frame["type"] == kind {
            return frame;
        }
    }
    panic!("no {kind} frame");
}

/// A team whose owner made a private channel `secret` with the admin and the member in
/// it, and one earlier message in `secret` and in `general` (to edit, react to and pin).
struct Secret {
    team: Team,
    secret_id: String,
    secret_message: String,
    general_message: String,
}

async fn secret_team(api: &Api) -> Secret {
    let team = api.fresh_team().await;
    let secret = api
        .create_channel(
            &team.owner,
            &team.workspace_id,
            json!({"name": "secret", "kind": "chat", "private": true}),
        )
        .await;
    let secret_id = secret["id"].as_str().unwrap().to_owned();
    for user in [&team.admin, &team.member] {
        api.add_channel_member(&team.owner, &secret_id, user).await;
    }
    let secret_message = api
        .post_text(&team.owner, &secret_id, "earlier secret")
        .await;
    let general_message = api
        .post_text(&team.owner, &team.general_id, "earlier news")
        .await;
    Secret {
        secret_message: secret_message["id"].as_str().unwrap().to_owned(),
        general_message: general_message["id"].as_str().unwrap().to_owned(),
        secret_id,
        team,
    }
}

/// Produces one event of each kind in `channel` as `author` (typing, a message, an edit, a
/// reaction and a pin of `earlier`, then a marker message), checks that `witness` (still
/// subscribed) hears every one of them, and returns what each of `cut_off` heard of the
/// channel meanwhile. Every event was posted before the witness heard the marker (the
/// broadcaster finishes each record before the next, and the author's typing is relayed
/// before its pong), so a ping's pong on each cut-off socket comes after anything they
/// could have been sent.
async fn events_heard(
    api: &Api,
    author: &TestUser,
    channel: &str,
    earlier: &str,
    witness: &mut Socket,
    cut_off: &mut [&mut Socket],
) -> Vec<Vec<Value>> {
    let mut typist = connect(api, author).await;
    send(
        &mut typist,
        json!({"action": "typing", "channel_id": channel}),
    )
    .await;
    send(&mut typist, json!({"action": "ping"})).await;
    let typed = frames_until(&mut typist, is_type("pong")).await;
    assert!(!typed.iter().any(|f| f["type"] == "error"), "{typed:?}");

    let posted = api.post_text(author, channel, "after the end").await;
    let path = format!("/v1/channels/{channel}/messages/{earlier}");
    let edited = api
        .patch(
            &path,
            author.token(),
            json!({"content": "edited after the end"}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    api.react(author, channel, earlier, "eyes").await;
    api.pin(author, channel, earlier).await;
    let marker = api.post_text(author, channel, "marker").await;
    let marker_id = marker["id"].clone();

    let heard = frames_until(witness, |f| {
        f["type"] == "message.created" && f["data"]["id"] == marker_id
    })
    .await;
    let kinds: Vec<&str> = heard
        .iter()
        .filter(|f| f["channel_id"] == channel)
        .filter_map(|f| f["type"].as_str())
        .collect();
    for kind in [
        "typing",
        "message.created",
        "message.updated",
        "reaction.added",
        "pin.added",
    ] {
        assert!(
            kinds.contains(&kind),
            "the witness missed {kind}: {heard:?}"
        );
    }
    assert!(
        heard.iter().any(|f| f["data"]["id"] == posted["id"]),
        "{heard:?}"
    );

    // What the cut-off sockets must not hear: exactly the events produced above (earlier
    // events of the channel may still arrive late, from before the access ended).
    let (posted_id, marker_id) = (posted["id"].clone(), marker["id"].clone());
    let produced = |f: &Value| {
        f["channel_id"] == channel
            && match f["type"].as_str().unwrap_or_default() {
                "typing" | "message.updated" | "reaction.added" | "pin.added" => true,
                "message.created" => f["data"]["id"] == posted_id || f["data"]["id"] == marker_id,
                _ => false,
            }
    };
    let mut result = Vec::new();
    for socket in cut_off.iter_mut() {
        send(socket, json!({"action": "ping"})).await;
        let frames = frames_until(socket, is_type("pong")).await;
        result.push(frames.into_iter().filter(|f| produced(f)).collect());
    }
    result
}

fn assert_heard_nothing(heard: Vec<Vec<Value>>, what: &str) {
    for frames in heard {
        assert!(frames.is_empty(), "{what}: {frames:?}");
    }
}

#[tokio::test]
async fn leaving_a_private_channel_ends_its_events_and_rejoining_restores_them() {
    let api = Api::new();
    let Secret {
        team,
        secret_id,
        secret_message,
        ..
    } = secret_team(&api).await;
    let mut bob = connect_subscribed(&api, &team.member, &[&secret_id, &team.general_id]).await;
    let mut bob_again = connect_subscribed(&api, &team.member, &[&secret_id]).await;
    let mut witness = connect_subscribed(&api, &team.admin, &[&secret_id]).await;

    api.leave(&team.member, &secret_id).await;
    // Ended on every connection before the leave answered; other channels stay.
    assert_eq!(subscriptions_of(&mut bob).await, [team.general_id.as_str()]);
    assert!(subscriptions_of(&mut bob_again).await.is_empty());
    let heard = events_heard(
        &api,
        &team.owner,
        &secret_id,
        &secret_message,
        &mut witness,
        &mut [&mut bob, &mut bob_again],
    )
    .await;
    assert_heard_nothing(heard, "after leaving");
    // Nor can they subscribe again.
    assert_eq!(subscribe(&mut bob, &[&secret_id]).await["type"], "error");

    // Added back, they may subscribe again and hear the channel.
    api.add_channel_member(&team.owner, &secret_id, &team.member)
        .await;
    assert_eq!(
        subscribe(&mut bob, &[&secret_id]).await["type"],
        "subscribed"
    );
    let back = api.post_text(&team.owner, &secret_id, "welcome back").await;
    let back_id = back["id"].clone();
    frames_until(&mut bob, |f| f["data"]["id"] == back_id).await;
}

#[tokio::test]
async fn removal_from_a_private_channel_ends_its_events() {
    let api = Api::new();
    let Secret {
        team,
        secret_id,
        secret_message,
        ..
    } = secret_team(&api).await;
    let mut bob = connect_subscribed(&api, &team.member, &[&secret_id, &team.general_id]).await;
    let mut witness = connect_subscribed(&api, &team.admin, &[&secret_id]).await;

    api.remove_channel_member(&team.admin, &secret_id, &team.member)
        .await;
    assert_eq!(subscriptions_of(&mut bob).await, [team.general_id.as_str()]);
    let heard = events_heard(
        &api,
        &team.owner,
        &secret_id,
        &secret_message,
        &mut witness,
        &mut [&mut bob],
    )
    .await;
    assert_heard_nothing(heard, "after removal from the channel");
    // Typing into it is refused like any unreadable channel.
    send(
        &mut bob,
        json!({"action": "typing", "channel_id": secret_id}),
    )
    .await;
    assert_eq!(
        next_of(&mut bob, "error").await["data"]["code"],
        "not_found"
    );
}

/// Leaving the workspace, or being removed from it, ends every subscription to its
/// channels: private ones, `general`, and public ones the user never joined.
async fn check_workspace_exit(removed_by_admin: bool) {
    let api = Api::new();
    let Secret {
        team,
        secret_id,
        secret_message,
        general_message,
    } = secret_team(&api).await;
    let mut bob = connect(&api, &team.member).await;
    let mut bob_again = connect(&api, &team.member).await;
    let mut witness = connect(&api, &team.admin).await;
    let all = [
        secret_id.as_str(),
        team.general_id.as_str(),
        team.public_id.as_str(),
    ];
    assert_eq!(subscribe(&mut bob, &all).await["type"], "subscribed");
    assert_eq!(subscribe(&mut bob_again, &all).await["type"], "subscribed");
    subscribe(&mut witness, &all).await;

    let by = if removed_by_admin {
        &team.admin
    } else {
        &team.member
    };
    api.remove_from_workspace(by, &team.workspace_id, &team.member)
        .await;
    assert!(subscriptions_of(&mut bob).await.is_empty());
    assert!(subscriptions_of(&mut bob_again).await.is_empty());
    for (channel, earlier) in [
        (secret_id.as_str(), secret_message.as_str()),
        (team.general_id.as_str(), general_message.as_str()),
    ] {
        let heard = events_heard(
            &api,
            &team.owner,
            channel,
            earlier,
            &mut witness,
            &mut [&mut bob, &mut bob_again],
        )
        .await;
        assert_heard_nothing(heard, channel);
    }
    let public = api
        .post_text(&team.owner, &team.public_id, "public news")
        .await;
    let public_id = public["id"].clone();
    frames_until(&mut witness, |f| f["data"]["id"] == public_id).await;
    for socket in [&mut bob, &mut bob_again] {
        send(socket, json!({"action": "ping"})).await;
        let frames = frames_until(socket, is_type("pong")).await;
        assert!(
            !frames.iter().any(|f| f["data"]["id"] == public_id),
            "{frames:?}"
        );
    }
    assert_eq!(
        subscribe(&mut bob, &[&team.general_id]).await["type"],
        "error"
    );

    // Back in the workspace, they may subscribe again.
    api.add_to_workspace(&team.owner, &team.workspace_id, &team.member, "member")
        .await;
    assert_eq!(
        subscribe(&mut bob, &[&team.general_id]).await["type"],
        "subscribed"
    );
    let back = api
        .post_text(&team.owner, &team.general_id, "welcome back")
        .await;
    let back_id = back["id"].clone();
    frames_until(&mut bob, |f| f["data"]["id"] == back_id).await;
}

#[tokio::test]
async fn leaving_the_workspace_ends_its_channels_events() {
    check_workspace_exit(false).await;
}

#[tokio::test]
async fn removal_from_the_workspace_ends_its_channels_events() {
    check_workspace_exit(true).await;
}

#[tokio::test]
async fn a_deleted_channel_tells_its_subscribers_and_then_says_nothing() {
    let api = Api::new();
    let Secret {
        team,
        secret_id,
        secret_message,
        ..
    } = secret_team(&api).await;
    let mut bob = connect_subscribed(&api, &team.member, &[&secret_id, &team.general_id]).await;
    let bob_connection = connection_id_of(&team.member).await;

    api.delete_channel(&team.owner, &secret_id).await;
    let told = next_of(&mut bob, "channel.deleted").await;
    assert_eq!(told["channel_id"], secret_id.as_str());
    // Then the subscription ends.
    let secret: ChannelId = secret_id.parse().unwrap();
    wait_until_unsubscribed(&bob_connection, secret).await;
    assert_eq!(subscriptions_of(&mut bob).await, [team.general_id.as_str()]);

    // A record of the channel still in the stream (written before the delete) reaches
    // nobody, not even a subscription left behind: the broadcaster finds no channel.
    late_record_reaches_nobody(&team, &bob_connection, &secret_id, &secret_message).await;
    send(
        &mut bob,
        json!({"action": "typing", "channel_id": secret_id}),
    )
    .await;
    assert_eq!(
        next_of(&mut bob, "error").await["data"]["code"],
        "not_found"
    );
}

#[tokio::test]
async fn a_deleted_workspace_tells_its_subscribers_and_then_says_nothing() {
    let api = Api::new();
    let Secret {
        team,
        secret_id,
        general_message,
        ..
    } = secret_team(&api).await;
    let mut bob = connect_subscribed(&api, &team.member, &[&secret_id, &team.general_id]).await;

    api.delete_workspace(&team.owner, &team.workspace_id).await;
    let mut told: Vec<String> = Vec::new();
    while told.len() < 2 {
        let frame = next_of(&mut bob, "channel.deleted").await;
        told.push(frame["channel_id"].as_str().unwrap().to_owned());
    }
    told.sort();
    let mut expected = vec![secret_id.clone(), team.general_id.clone()];
    expected.sort();
    assert_eq!(told, expected);

    // Then the subscriptions end. A record still in the stream reaches nobody, not even a
    // subscription left behind.
    let bob_connection = connection_id_of(&team.member).await;
    for channel in [&secret_id, &team.general_id] {
        wait_until_unsubscribed(&bob_connection, channel.parse().unwrap()).await;
    }
    late_record_reaches_nobody(&team, &bob_connection, &team.general_id, &general_message).await;
}

/// After `channel` (of `team`) was deleted: subscribes `connection` to it again, as a
/// subscription left behind would be, and checks that a stream record of `message` in it
/// (written before the delete) reaches nobody.
async fn late_record_reaches_nobody(team: &Team, connection: &str, channel: &str, message: &str) {
    let state = app_state().await;
    let workspace: WorkspaceId = team.workspace_id.parse().unwrap();
    let channel: ChannelId = channel.parse().unwrap();
    let connection = state
        .store
        .get_connection(connection)
        .await
        .unwrap()
        .unwrap();
    subscribe_directly(&state, &connection, &[(workspace, channel)]).await;
    let recorder = Recorder::default();
    let late = message_change(
        "late",
        channel,
        message.parse().unwrap(),
        workspace,
        team.owner.id.parse().unwrap(),
        json!("too late"),
    );
    assert!(
        broadcast_changes(&state, &recorder, &[late])
            .await
            .is_empty()
    );
    assert!(recorder.frames().is_empty(), "{:?}", recorder.frames());
}

#[tokio::test]
async fn the_broadcaster_posts_only_to_subscribers_who_may_still_read() {
    // Subscriptions written straight to the table (as a subscribe racing a removal could
    // leave them) are checked at delivery: a private channel's events go to its members,
    // a public channel's to workspace members, and the others' subscriptions end.
    let api = Api::new();
    let team = api.fresh_team().await;
    let state = app_state().await;
    let mut sockets = Vec::new();
    let mut ids = Vec::new();
    for user in [&team.member, &team.admin, &team.outsider] {
        sockets.push(connect(&api, user).await);
        let connection = connection_id_of(user).await;
        ids.push(
            state
                .store
                .get_connection(&connection)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let workspace: WorkspaceId = team.workspace_id.parse().unwrap();
    let private: ChannelId = team.private_id.parse().unwrap();
    let general: ChannelId = team.general_id.parse().unwrap();
    for connection in &ids {
        subscribe_directly(
            &state,
            connection,
            &[(workspace, private), (workspace, general)],
        )
        .await;
    }
    let (member, admin, outsider) = (&ids[0], &ids[1], &ids[2]);
    let author: UserId = team.member.id.parse().unwrap();

    let recorder = Recorder::default();
    let changes = [
        message_change(
            "1",
            private,
            MessageId::generate(),
            workspace,
            author,
            json!("private"),
        ),
        message_change(
            "2",
            general,
            MessageId::generate(),
            workspace,
            author,
            json!("general"),
        ),
    ];
    assert!(
        broadcast_changes(&state, &recorder, &changes)
            .await
            .is_empty()
    );
    assert_eq!(recorder.heard("private"), [member.connection_id.as_str()]);
    let mut readers = vec![member.connection_id.clone(), admin.connection_id.clone()];
    readers.sort();
    assert_eq!(recorder.heard("general"), readers);
    assert_eq!(recorder.targets_of("message.created").len(), 3);

    // The refused subscriptions are gone, from the items and from the connections' sets.
    let mut both = vec![private, general];
    both.sort();
    assert_eq!(channel_set(&state, member).await, both);
    assert_eq!(channel_set(&state, admin).await, [general]);
    assert!(channel_set(&state, outsider).await.is_empty());
    let subscribed: Vec<ChannelId> = state
        .store
        .list_connection_subscriptions(&outsider.connection_id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.channel_id)
        .collect();
    assert!(subscribed.is_empty(), "{subscribed:?}");
}

/// An audience larger than its first page, with several connections per user and a
/// subscription left to a user who may not read (as a subscribe racing a removal could leave
/// it) on both pages: each user is checked once per delivery (one batch read for the first
/// page; the second page's users all have their verdicts), the readers' every connection
/// hears the message, and the refused user's subscriptions end on both pages.
#[tokio::test]
async fn an_audience_checks_each_user_once_however_many_pages_hold_them() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let state = app_state().await;
    let workspace: WorkspaceId = team.workspace_id.parse().unwrap();
    let general: ChannelId = team.general_id.parse().unwrap();
    let users: Vec<UserId> = [&team.member, &team.admin, &team.outsider]
        .iter()
        .map(|user| user.id.parse().unwrap())
        .collect();
    let (_socket, listening) = quiet_general(&api, &team).await;
    // Ids sorted as the pages read them, after the real socket's (`~` sorts after every
    // character of a gateway's id): the first page holds every user, the second the
    // member's, the admin's and the outsider's again.
    let run = format!("~{}", ulid::Ulid::new());
    let count = usize::try_from(AUDIENCE_FIRST_PAGE).unwrap() + 5;
    let connections: Vec<Connection> = futures::stream::iter(0..count)
        .map(|index| {
            let (state, run, user) = (&state, &run, users[index % 3]);
            async move {
                let id = format!("{run}-{index:04}");
                subscribed_record(state, &id, user, workspace, general).await
            }
        })
        .buffered(16)
        .collect()
        .await;
    let recorder = Recorder::default();
    let change = message_change(
        "1",
        general,
        MessageId::generate(),
        workspace,
        users[0],
        json!("to every device"),
    );
    let (failed, tally) =
        huddle_shared::calls::counted(broadcast_changes(&state, &recorder, &[change])).await;
    assert!(failed.is_empty(), "{failed:?}");

    let heard = recorder.targets_of("message.created");
    let mut readers: Vec<String> = connections
        .iter()
        .filter(|c| c.user_id != users[2])
        .map(|c| c.connection_id.clone())
        .chain([listening])
        .collect();
    readers.sort();
    assert_eq!(heard, readers);
    let count = |operation: &str| tally.operations.iter().filter(|o| *o == operation).count();
    assert_eq!(count("Query"), 2, "{:?}", tally.operations);
    assert_eq!(count("BatchGetItem"), 1, "{:?}", tally.operations);
    for connection in connections.iter().filter(|c| c.user_id == users[2]) {
        assert!(
            channel_set(&state, connection).await.is_empty(),
            "{}",
            connection.connection_id
        );
    }
}

/// A channel's next delivery reads the access of the users its last delivery admitted beside
/// its first page of subscribers (one round trip before the first posts, not two), and still
/// reads it anew each time: a user removed between two deliveries, with a subscription left
/// behind (as a subscribe racing the removal could leave it), hears nothing of the next one.
#[tokio::test]
async fn a_steady_audience_has_its_access_read_beside_its_first_page_and_anew_each_time() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let state = app_state().await;
    let workspace: WorkspaceId = team.workspace_id.parse().unwrap();
    let general: ChannelId = team.general_id.parse().unwrap();
    let member: UserId = team.member.id.parse().unwrap();
    let admin: UserId = team.admin.id.parse().unwrap();
    let (mut socket, listening) = quiet_general(&api, &team).await;
    let run = format!("~{}", ulid::Ulid::new());
    let mut connections = Vec::new();
    for (index, user) in [member, admin, member, admin].into_iter().enumerate() {
        let id = format!("{run}-{index}");
        connections.push(subscribed_record(&state, &id, user, workspace, general).await);
    }
    let recorder = Recorder::default();
    let deliver = |id: &'static str, content: &'static str| {
        let change = message_change(
            id,
            general,
            MessageId::generate(),
            workspace,
            member,
            json!(content),
        );
        let (state, recorder) = (&state, &recorder);
        async move {
            let (failed, tally) =
                huddle_shared::calls::counted(broadcast_changes(state, recorder, &[change])).await;
            assert!(failed.is_empty(), "{failed:?}");
            tally
        }
    };
    let count = |tally: &huddle_shared::calls::Tally, operation: &str| {
        tally.operations.iter().filter(|o| *o == operation).count()
    };
    let mut everyone: Vec<String> = connections
        .iter()
        .map(|c| c.connection_id.clone())
        .chain([listening.clone()])
        .collect();
    everyone.sort();

    // The first delivery meets its users on the page, then reads their access.
    let first = deliver("1", "first").await;
    assert_eq!(recorder.heard("first"), everyone);
    assert_eq!(count(&first, "Query"), 1, "{:?}", first.operations);
    assert_eq!(count(&first, "BatchGetItem"), 1, "{:?}", first.operations);
    assert_eq!(first.dynamodb_sequential, 2, "{first:?}");

    // The next reads the same users' access beside the page: one round trip in a row.
    let second = deliver("2", "second").await;
    assert_eq!(recorder.heard("second"), everyone);
    assert_eq!(count(&second, "Query"), 1, "{:?}", second.operations);
    assert_eq!(count(&second, "BatchGetItem"), 1, "{:?}", second.operations);
    assert_eq!(second.dynamodb_sequential, 1, "{second:?}");

    // The admin is removed from the workspace (their subscriptions end). Once the gateway
    // has told general (its posts to the records above, which have no socket, delete
    // them), a subscription of the admin's is written again, and one of the member's.
    api.remove_from_workspace(&team.owner, &team.workspace_id, &team.admin)
        .await;
    frames_until(&mut socket, |f| {
        f["type"] == "member.left" && f["data"]["user_id"] == team.admin.id.as_str()
    })
    .await;
    let left_behind =
        subscribed_record(&state, &format!("{run}-late"), admin, workspace, general).await;
    let still =
        subscribed_record(&state, &format!("{run}-still"), member, workspace, general).await;
    deliver("3", "third").await;
    let heard_third = recorder.heard("third");
    for reader in [&listening, &still.connection_id] {
        assert!(heard_third.contains(reader), "{reader} in {heard_third:?}");
    }
    let admins = connections.iter().filter(|c| c.user_id == admin);
    for refused in admins.chain([&left_behind]) {
        let id = &refused.connection_id;
        assert!(!heard_third.contains(id), "{id} in {heard_third:?}");
    }
    assert!(channel_set(&state, &left_behind).await.is_empty());
}

/// Subscribes the member's real socket to the team's general channel and waits until it has
/// heard a message sent after the team's first events: the gateway's own broadcaster posts
/// those to general's subscribers and deletes the connections that have no socket (410), so
/// subscriptions written straight to the table after this are left alone. Hands back the
/// socket (keep it open) and its connection id.
async fn quiet_general(api: &Api, team: &Team) -> (Socket, String) {
    let mut socket = connect_subscribed(api, &team.member, &[&team.general_id]).await;
    let drained = api
        .post_text(&team.owner, &team.general_id, "drained")
        .await;
    frames_until(&mut socket, |f| f["data"]["id"] == drained["id"]).await;
    (socket, connection_id_of(&team.member).await)
}

/// Waits until a connection's item no longer lists `channel` (ended by the broadcaster).
async fn wait_until_unsubscribed(connection_id: &str, channel: ChannelId) {
    let state = app_state().await;
    let deadline = tokio::time::Instant::now() + huddle_tests::ws::WAIT;
    while tokio::time::Instant::now() < deadline {
        let connection = state.store.get_connection(connection_id).await.unwrap();
        if !connection.unwrap().channels.contains(&channel) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the subscription to {channel} was kept");
}

/// The channels a connection's item lists, sorted.
async fn channel_set(state: &huddle_shared::AppState, connection: &Connection) -> Vec<ChannelId> {
    let mut channels = state
        .store
        .get_connection(&connection.connection_id)
        .await
        .unwrap()
        .unwrap()
        .channels;
    channels.sort();
    channels
}

/// `count` public channels in a workspace, created by `owner`.
async fn many_channels(
    api: &Api,
    owner: &TestUser,
    workspace_id: &str,
    count: usize,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for batch in (0..count).collect::<Vec<_>>().chunks(10) {
        let created = futures::future::join_all(batch.iter().map(|i| {
            api.create_channel(
                owner,
                workspace_id,
                json!({"name": format!("room-{i}"), "kind": "chat"}),
            )
        }))
        .await;
        ids.extend(
            created
                .into_iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
    }
    ids
}

#[tokio::test]
async fn a_connection_subscribes_to_at_most_the_cap_over_all_its_frames() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let channels = many_channels(&api, &team.owner, &team.workspace_id, 130).await;
    let refs: Vec<&str> = channels.iter().map(String::as_str).collect();
    let mut socket = connect(&api, &team.member).await;
    assert_eq!(CONNECTION_SUBSCRIPTIONS_MAX, 100);

    assert_eq!(
        subscribe(&mut socket, &refs[0..50]).await["type"],
        "subscribed"
    );
    let second = subscribe(&mut socket, &refs[50..100]).await;
    assert_eq!(second["type"], "subscribed");
    assert_eq!(second["data"]["channel_ids"].as_array().unwrap().len(), 100);
    // One more is refused, and a frame that adds any is refused whole.
    let over = subscribe(&mut socket, &refs[100..101]).await;
    assert_eq!(over["type"], "error");
    assert_eq!(over["data"]["code"], "conflict");
    let mixed = subscribe(&mut socket, &[refs[0], refs[1], refs[120]]).await;
    assert_eq!(mixed["type"], "error");
    assert_eq!(subscriptions_of(&mut socket).await.len(), 100);
    // SubscribeOutcome again to channels it has is no growth; unsubscribing makes room.
    assert_eq!(
        subscribe(&mut socket, &refs[0..50]).await["type"],
        "subscribed"
    );
    send(
        &mut socket,
        json!({"action": "unsubscribe", "channel_ids": &refs[0..10]}),
    )
    .await;
    let left = answer_of(&mut socket, "subscribed").await;
    assert_eq!(left["data"]["channel_ids"].as_array().unwrap().len(), 90);
    assert_eq!(
        subscribe(&mut socket, &refs[100..110]).await["type"],
        "subscribed"
    );
    assert_eq!(
        subscribe(&mut socket, &refs[110..111]).await["type"],
        "error"
    );

    // Concurrent frames on one connection never pass the cap either: frames arrive
    // concurrently on API Gateway, so they are replayed here on the same connection.
    let mut other = connect(&api, &team.admin).await;
    send(&mut other, json!({"action": "ping"})).await;
    next_of(&mut other, "pong").await;
    let connection = connection_id_of(&team.admin).await;
    let state = app_state().await;
    let recorder = Recorder::default();
    let frames: Vec<String> = [&refs[0..45], &refs[45..90], &refs[85..130]]
        .iter()
        .map(|ids| json!({"action": "subscribe", "channel_ids": ids}).to_string())
        .collect();
    let handled =
        futures::future::join_all(frames.iter().map(|frame| {
            huddle_shared::realtime::handle_frame(&state, &recorder, &connection, frame)
        }))
        .await;
    assert!(handled.iter().all(Result::is_ok), "{handled:?}");
    let replies: Vec<String> = recorder
        .frames()
        .into_iter()
        .map(|(_, frame)| frame["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(replies.contains(&"error".to_owned()), "{replies:?}");
    assert!(replies.contains(&"subscribed".to_owned()), "{replies:?}");
    let set = state
        .store
        .get_connection(&connection)
        .await
        .unwrap()
        .unwrap()
        .channels;
    assert!(set.len() <= CONNECTION_SUBSCRIPTIONS_MAX, "{}", set.len());
    let items = state
        .store
        .list_connection_subscriptions(&connection)
        .await
        .unwrap();
    assert_eq!(items.len(), set.len());
}

#[tokio::test]
async fn typing_and_presence_are_throttled_per_connection() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let mut member = connect_subscribed(&api, &team.member, &[&team.general_id]).await;
    let mut admin = connect_subscribed(&api, &team.admin, &[&team.general_id]).await;

    let typing = json!({"action": "typing", "channel_id": team.general_id});
    send(&mut member, typing.clone()).await;
    send(&mut member, typing.clone()).await;
    send(&mut member, json!({"action": "ping"})).await;
    let replies = frames_until(&mut member, is_type("pong")).await;
    let errors: Vec<&Value> = replies.iter().filter(|f| f["type"] == "error").collect();
    assert_eq!(errors.len(), 1, "{replies:?}");
    assert_eq!(errors[0]["data"]["code"], "rate_limited");

    // Another connection of the same user has its own allowance.
    let mut member_again = connect(&api, &team.member).await;
    send(&mut member_again, typing.clone()).await;
    send(&mut member_again, json!({"action": "ping"})).await;
    let replies = frames_until(&mut member_again, is_type("pong")).await;
    assert!(!replies.iter().any(|f| f["type"] == "error"), "{replies:?}");

    send(&mut member, json!({"action": "presence", "status": "away"})).await;
    send(&mut member, json!({"action": "presence", "status": "dnd"})).await;
    send(&mut member, json!({"action": "ping"})).await;
    let replies = frames_until(&mut member, is_type("pong")).await;
    let errors: Vec<&Value> = replies.iter().filter(|f| f["type"] == "error").collect();
    assert_eq!(errors.len(), 1, "{replies:?}");
    assert_eq!(errors[0]["data"]["code"], "rate_limited");

    // Everything relayed was relayed before the pongs: the admin heard two typing frames
    // (one per connection) and one presence, the first.
    send(&mut admin, json!({"action": "ping"})).await;
    let heard = frames_until(&mut admin, is_type("pong")).await;
    let typing_count = heard.iter().filter(|f| f["type"] == "typing").count();
    assert_eq!(typing_count, 2, "{heard:?}");
    let presences: Vec<&Value> = heard.iter().filter(|f| f["type"] == "presence").collect();
    assert_eq!(presences.len(), 1, "{heard:?}");
    assert_eq!(presences[0]["data"]["status"], "away");
    let online = api
        .get(
            &format!("/v1/workspaces/{}/presence", team.workspace_id),
            team.admin.token(),
        )
        .await;
    let status = online.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == team.member.id.as_str())
        .map(|p| p["status"].clone());
    assert_eq!(status, Some(json!("away")));

    // Once the interval has passed, typing is relayed again.
    tokio::time::sleep(Duration::from_millis(
        u64::try_from(huddle_shared::realtime::TYPING_INTERVAL_MS).unwrap() + 200,
    ))
    .await;
    send(&mut member, typing).await;
    let relayed = next_of(&mut admin, "typing").await;
    assert_eq!(relayed["data"]["user_id"], team.member.id.as_str());
}
