//! Documents on the real local stack with real WebSocket clients, checked against the
//! reference Yjs implementation (JavaScript `yjs`, see `huddle_tests::yjs`): concurrent
//! editors converge, saves merge with live edits, stale saves are refused, revisions and
//! restore, both sync paths, refused updates store nothing, access, compaction racing
//! updates, and the clean-up after a channel delete.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use huddle_shared::documents::{LoggedUpdate, NewRevision, RevisionReason, StoredDocument};
use huddle_shared::keys;
use huddle_tests::ws::{self, Socket, doc_sync, doc_update_answer, next_of, send_doc_update};
use huddle_tests::{Api, DocTeam, RawTable, app_state, eventually, typed, yjs};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn document_path(channel_id: &str) -> String {
    format!("/v1/channels/{channel_id}/document")
}

/// A team whose public doc channel the member has joined too.
async fn doc_team(api: &Api) -> DocTeam {
    let team = api.fresh_doc_team().await;
    api.join(&team.member, &team.doc_id).await;
    team
}

/// A socket as `user`, subscribed to `channel_id`, with the document synced from nothing:
/// returns the socket and the update that brought it up to date.
async fn editor(api: &Api, user: &huddle_tests::TestUser, channel_id: &str) -> (Socket, String) {
    let mut socket = ws::connect_subscribed(api, user, &[channel_id]).await;
    let answer = doc_sync(&mut socket, channel_id, "").await;
    assert_eq!(answer["type"], "doc.sync", "{answer}");
    assert_eq!(answer["channel_id"], channel_id);
    let update = answer["data"]["update"].as_str().unwrap().to_owned();
    (socket, update)
}

/// The `doc.update` frames a socket receives next (`count` of them), with their senders.
async fn received_updates(socket: &mut Socket, count: usize) -> Vec<(String, String)> {
    let mut updates = Vec::new();
    while updates.len() < count {
        let frame = ws::next_of_or_error(socket, "doc.update").await;
        assert_eq!(frame["type"], "doc.update", "{frame}");
        updates.push((
            frame["data"]["update"].as_str().unwrap().to_owned(),
            frame["data"]["user_id"].as_str().unwrap().to_owned(),
        ));
    }
    updates
}

async fn send_all(socket: &mut Socket, channel_id: &str, updates: &[String]) {
    for update in updates {
        send_doc_update(socket, channel_id, update).await;
    }
}

fn version(document: &Value) -> u64 {
    document["version"].as_u64().unwrap()
}

#[tokio::test]
async fn two_editors_converge_after_interleaved_concurrent_inserts_at_one_position() {
    let api = Api::new();
    let team = doc_team(&api).await;
    let channel = team.doc_id.as_str();
    api.save_document(&team.owner, channel, "start end", 0)
        .await;
    let (mut alice, base_a) = editor(&api, &team.owner, channel).await;
    let (mut bob, base_b) = editor(&api, &team.member, channel).await;
    assert_eq!(yjs::text(std::slice::from_ref(&base_a)).await, "start end");

    // Each editor inserts three times at offset 6 (the same position), each edit building on
    // its own earlier ones only: every edit of one is concurrent with every edit of the
    // other. The frames go out interleaved, from both sockets at once.
    let mut mine_a = vec![base_a.clone()];
    let mut mine_b = vec![base_b.clone()];
    let mut sent_a = Vec::new();
    let mut sent_b = Vec::new();
    for round in 0..3 {
        let a = yjs::edit(1001, &mine_a, 6, &format!("A{round} "), 0).await;
        let b = yjs::edit(2002, &mine_b, 6, &format!("B{round} "), 0).await;
        mine_a.push(a.clone());
        mine_b.push(b.clone());
        sent_a.push(a);
        sent_b.push(b);
    }
    tokio::join!(
        send_all(&mut alice, channel, &sent_a),
        send_all(&mut bob, channel, &sent_b)
    );

    // Each hears exactly the other's three updates (never its own echoed), in the order
    // the server stored them.
    let (heard_a, heard_b) = tokio::join!(
        received_updates(&mut alice, 3),
        received_updates(&mut bob, 3)
    );
    assert!(heard_a.iter().all(|(_, user)| *user == team.member.id));
    assert!(heard_b.iter().all(|(_, user)| *user == team.owner.id));
    let heard_a: Vec<String> = heard_a.into_iter().map(|(update, _)| update).collect();
    let heard_b: Vec<String> = heard_b.into_iter().map(|(update, _)| update).collect();
    assert_eq!(heard_a, sent_b);
    assert_eq!(heard_b, sent_a);

    // The same updates in different orders: each editor's own view, the reverse, and the
    // server's.
    let view_a = yjs::text(&[mine_a.clone(), heard_a.clone()].concat()).await;
    let view_b = yjs::text(&[mine_b.clone(), heard_b.clone()].concat()).await;
    let mut reversed = [vec![base_a.clone()], sent_b.clone(), sent_a.clone()].concat();
    reversed[1..].reverse();
    let view_reversed = yjs::text(&reversed).await;
    assert_eq!(view_a, view_b);
    assert_eq!(view_a, view_reversed);
    for token in ["A0 ", "A1 ", "A2 ", "B0 ", "B1 ", "B2 "] {
        assert_eq!(view_a.matches(token).count(), 1, "{token} in {view_a:?}");
    }
    assert!(
        view_a.starts_with("start ") && view_a.ends_with("end"),
        "{view_a:?}"
    );
    // Each editor's own inserts stay in their order (later ones before earlier ones).
    let position = |token: &str| view_a.find(token).unwrap();
    assert!(position("A2 ") < position("A1 ") && position("A1 ") < position("A0 "));
    assert!(position("B2 ") < position("B1 ") && position("B1 ") < position("B0 "));

    eventually("the server to hold all six updates", || async {
        version(&api.get_document(&team.owner, channel).await) == 7
    })
    .await;
    let document = api.get_document(&team.member, channel).await;
    assert_eq!(document["content"], view_a);
    assert!(document["updated_by"].as_str().is_some());

    // A late joiner syncing from an empty state vector gets the full text.
    let (_carol, full) = editor(&api, &team.owner, channel).await;
    assert_eq!(yjs::text(&[full]).await, view_a);
}

#[tokio::test]
async fn a_save_and_a_live_edit_elsewhere_both_survive() {
    let api = Api::new();
    let team = doc_team(&api).await;
    let channel = team.doc_id.as_str();
    api.save_document(&team.owner, channel, "line one\nline two\n", 0)
        .await;
    let (mut live, base) = editor(&api, &team.member, channel).await;
    // The live edit is made on version 1, before the save it is concurrent with.
    let edit = yjs::edit(4242, std::slice::from_ref(&base), 0, "EDITED ", 0).await;
    let saved = api
        .save_document(&team.owner, channel, "line one\nline two\nline three\n", 1)
        .await;
    assert_eq!(version(&saved), 2);
    assert_eq!(saved["content"], "line one\nline two\nline three\n");
    // The save reaches the subscribed editor as `document.updated` (through the stream).
    // (The first save's event may come first: it follows the stream.)
    let mut updated = next_of(&mut live, "document.updated").await;
    if updated["data"]["version"] == 1 {
        updated = next_of(&mut live, "document.updated").await;
    }
    assert_eq!(updated["channel_id"], channel);
    assert_eq!(updated["data"]["version"], 2);
    assert_eq!(updated["data"]["updated_by"], team.owner.id.as_str());
    // The editor catches up from its state vector, then its edit goes in.
    let (_, vector, _) = yjs::merged(std::slice::from_ref(&base)).await;
    let answer = doc_sync(&mut live, channel, &vector).await;
    let catch_up = answer["data"]["update"].as_str().unwrap().to_owned();
    assert_eq!(
        yjs::text(&[base.clone(), catch_up.clone()]).await,
        "line one\nline two\nline three\n"
    );
    assert_eq!(doc_update_answer(&mut live, channel, &edit).await, None);
    let document = api.get_document(&team.owner, channel).await;
    assert_eq!(
        document["content"],
        "EDITED line one\nline two\nline three\n"
    );
    assert_eq!(version(&document), 3);
    assert_eq!(document["updated_by"], team.member.id.as_str());
    assert_eq!(
        yjs::text(&[base, catch_up, edit]).await,
        "EDITED line one\nline two\nline three\n"
    );
}

#[tokio::test]
async fn a_stale_base_version_is_refused_with_the_current_document() {
    let api = Api::new();
    let team = doc_team(&api).await;
    let channel = team.doc_id.as_str();
    let empty = api.get_document(&team.member, channel).await;
    assert_eq!(empty["content"], "");
    assert_eq!(version(&empty), 0);
    api.save_document(&team.owner, channel, "first", 0).await;
    let stale = api
        .put(
            &document_path(channel),
            team.member.token(),
            json!({"content": "mine", "base_version": 0}),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert_eq!(stale.error_code(), "conflict");
    assert_eq!(stale.body["current"]["content"], "first");
    assert_eq!(stale.body["current"]["version"], 1);
    assert_eq!(stale.body["current"]["updated_by"], team.owner.id.as_str());
    let after = api.get_document(&team.owner, channel).await;
    assert_eq!(
        (after["content"].as_str(), version(&after)),
        (Some("first"), 1)
    );
    // A save that changes nothing makes no version; too much text is 413.
    let same = api.save_document(&team.owner, channel, "first", 1).await;
    assert_eq!(version(&same), 1);
    let huge = "x".repeat(256 * 1024 + 1);
    let refused = api
        .put(
            &document_path(channel),
            team.owner.token(),
            json!({"content": huge, "base_version": 1}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(version(&api.get_document(&team.owner, channel).await), 1);
}

#[tokio::test]
async fn revisions_are_listed_read_and_restored_as_new_versions() {
    let api = Api::new();
    let team = doc_team(&api).await;
    let channel = team.doc_id.as_str();
    api.save_document(&team.owner, channel, "first draft", 0)
        .await;
    api.save_document(&team.member, channel, "second draft", 1)
        .await;
    let revisions = format!("/v1/channels/{channel}/document/revisions");
    let listed = api.walk(&revisions, team.owner.token(), 1).await;
    let versions: Vec<u64> = listed
        .iter()
        .map(|r| r["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [2, 1]);
    assert_eq!(listed[0]["updated_by"], team.member.id.as_str());
    assert_eq!(listed[1]["updated_by"], team.owner.id.as_str());
    assert!(listed[0]["created_at"].as_str().is_some());
    let first = api
        .must(
            Method::GET,
            &format!("{revisions}/1"),
            &team.member,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(first["content"], "first draft");
    assert_eq!(first["version"], 1);
    let restored = api
        .must_post(
            &format!("{revisions}/1/restore"),
            &team.member,
            json!({}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(restored["content"], "first draft");
    assert_eq!(version(&restored), 3);
    let listed = api.walk(&revisions, team.owner.token(), 50).await;
    let versions: Vec<u64> = listed
        .iter()
        .map(|r| r["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [3, 2, 1]);
    assert_eq!(
        api.get_document(&team.owner, channel).await["content"],
        "first draft"
    );
    // Missing revisions are 404; a version that is not a number is 400.
    for (path, status) in [
        (format!("{revisions}/99"), StatusCode::NOT_FOUND),
        (format!("{revisions}/x"), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(
            api.get(&path, team.owner.token()).await.status,
            status,
            "{path}"
        );
    }
    let missing = api
        .post(
            &format!("{revisions}/99/restore"),
            team.owner.token(),
            json!({}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(version(&api.get_document(&team.owner, channel).await), 3);
}

#[tokio::test]
async fn socket_sync_answers_what_fits_and_says_fetch_for_the_rest() {
    let api = Api::new();
    let team = doc_team(&api).await;
    let channel = team.doc_id.as_str();
    api.save_document(&team.owner, channel, "small", 0).await;
    let mut socket = ws::connect(&api, &team.member).await;
    let small = doc_sync(&mut socket, channel, "").await;
    let update = small["data"]["update"].as_str().unwrap().to_owned();
    let (text, vector, _) = yjs::merged(std::slice::from_ref(&update)).await;
    assert_eq!(text, "small");
    // Already up to date (by the server's state vector or the client's): nothing is added.
    let server_vector = small["data"]["state_vector"].as_str().unwrap().to_owned();
    let nothing = doc_sync(&mut socket, channel, &server_vector).await["data"]["update"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(yjs::text(&[nothing]).await, "");
    let again = doc_sync(&mut socket, channel, &vector).await;
    let nothing = again["data"]["update"].as_str().unwrap().to_owned();
    assert_eq!(yjs::text(&[update.clone(), nothing]).await, "small");

    // 150 KB of text: its update is more than a WebSocket answer carries.
    let big: String = (0..150 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    api.save_document(&team.owner, channel, &big, 1).await;
    let fetch = doc_sync(&mut socket, channel, "").await;
    assert_eq!(fetch["type"], "doc.sync");
    assert_eq!(fetch["data"], json!({"fetch": true}));
    // The HTTP route answers any size.
    let full = api.sync_document(&team.member, channel, "").await;
    let full_update = full["update"].as_str().unwrap().to_owned();
    let (text, _, _) = yjs::merged(std::slice::from_ref(&full_update)).await;
    assert!(text == big, "the HTTP sync's text differs");
    assert!(full["state_vector"].as_str().is_some());
    // After a small live edit, a client holding the big state gets only the difference,
    // and that fits the socket again.
    let (_, full_vector, _) = yjs::merged(std::slice::from_ref(&full_update)).await;
    let edit = yjs::edit(31, std::slice::from_ref(&full_update), 0, "!", 0).await;
    let mut owner = ws::connect(&api, &team.owner).await;
    assert_eq!(doc_update_answer(&mut owner, channel, &edit).await, None);
    let delta = doc_sync(&mut socket, channel, &full_vector).await;
    assert!(delta["data"]["fetch"].is_null(), "{}", delta["data"]);
    let delta_update = delta["data"]["update"].as_str().unwrap().to_owned();
    assert!(delta_update.len() < 1024);
    let text = yjs::text(&[full_update, delta_update]).await;
    assert!(text == format!("!{big}"), "the delta's text differs");
    // A state vector that is not base64 is refused.
    let bad = doc_sync(&mut socket, channel, "***").await;
    assert_eq!(bad["type"], "error");
    assert_eq!(bad["data"]["code"], "invalid_request");
    let bad_http = api
        .post(
            &format!("/v1/channels/{channel}/document/sync"),
            team.member.token(),
            json!({"state_vector": "***"}),
        )
        .await;
    assert_eq!(bad_http.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_dangling_and_oversized_updates_are_refused_and_store_nothing() {
    let api = Api::new();
    let team = doc_team(&api).await;
    let channel = team.doc_id.as_str();
    let near_limit = "y".repeat(256 * 1024 - 10);
    api.save_document(&team.owner, channel, &near_limit, 0)
        .await;
    // Too large for a socket's sync answer: the editor loads over HTTP.
    let mut socket = ws::connect_subscribed(&api, &team.member, &[channel]).await;
    let base = api.sync_document(&team.member, channel, "").await["update"]
        .as_str()
        .unwrap()
        .to_owned();
    let raw = RawTable::new().await;
    let log = keys::document_updates(typed(channel));
    let garbage = STANDARD.encode([0xffu8, 0xff, 0xff, 0x01, 0x02]);
    // An update that builds on a change the server never saw.
    let unseen = yjs::edit(77, std::slice::from_ref(&base), 0, "unseen", 0).await;
    let dangling = yjs::edit(77, &[base.clone(), unseen], 0, "dangling", 0).await;
    let pushes_over = yjs::edit(78, std::slice::from_ref(&base), 0, "0123456789ab", 0).await;
    // (More than a 32 KiB WebSocket frame: sent in fragments, as API Gateway requires.)
    let too_big = STANDARD.encode(vec![0u8; 64 * 1024 + 1]);
    for (name, update, code) in [
        ("not base64", "@@@".to_owned(), "invalid_request"),
        ("not a Yjs update", garbage, "invalid_request"),
        ("dangling", dangling, "invalid_request"),
        ("over the document limit", pushes_over, "too_large"),
        ("over the update limit", too_big, "too_large"),
    ] {
        let error = doc_update_answer(&mut socket, channel, &update)
            .await
            .unwrap_or_else(|| panic!("{name}: stored"));
        assert_eq!(error["data"]["code"], code, "{name}: {error}");
        let document = api.get_document(&team.owner, channel).await;
        assert_eq!(version(&document), 1, "{name}");
        assert!(
            document["content"] == near_limit.as_str(),
            "{name}: the content changed"
        );
        assert!(
            raw.query(&log).await.is_empty(),
            "{name}: a log item was stored"
        );
    }
    // A frame without its fields is refused as a bad frame.
    ws::send(
        &mut socket,
        json!({"action": "doc.update", "channel_id": channel}),
    )
    .await;
    let bad = ws::next_of(&mut socket, "error").await;
    assert_eq!(bad["data"]["code"], "invalid_request");
    // Deleting is always within the limit.
    let shorten = yjs::edit(79, std::slice::from_ref(&base), 0, "", 5).await;
    assert_eq!(
        doc_update_answer(&mut socket, channel, &shorten).await,
        None
    );
    assert_eq!(raw.query(&log).await.len(), 1);
}

#[tokio::test]
async fn frames_check_membership_visibility_and_kind() {
    let api = Api::new();
    let team = api.fresh_doc_team().await;
    let update = yjs::edit(5, &[], 0, "hi", 0).await;
    let awareness = STANDARD.encode(b"{\"cursor\":1}");
    // (who, channel, action, expected: None = accepted)
    let cases: Vec<(&huddle_tests::TestUser, &str, &str, Option<&str>)> = vec![
        (&team.outsider, &team.doc_id, "doc.sync", Some("not_found")),
        (
            &team.outsider,
            &team.doc_id,
            "doc.update",
            Some("not_found"),
        ),
        (
            &team.outsider,
            &team.doc_id,
            "doc.awareness",
            Some("not_found"),
        ),
        // A workspace member who has not joined the public doc channel reads but may not write.
        (&team.member, &team.doc_id, "doc.sync", None),
        (&team.member, &team.doc_id, "doc.update", Some("forbidden")),
        (
            &team.member,
            &team.doc_id,
            "doc.awareness",
            Some("forbidden"),
        ),
        // A private doc channel does not exist for non-members.
        (
            &team.owner,
            &team.private_doc_id,
            "doc.sync",
            Some("not_found"),
        ),
        (
            &team.owner,
            &team.private_doc_id,
            "doc.update",
            Some("not_found"),
        ),
        // The wrong kind of channel.
        (&team.owner, &team.public_id, "doc.sync", Some("conflict")),
        (&team.owner, &team.public_id, "doc.update", Some("conflict")),
        (
            &team.owner,
            &team.public_id,
            "doc.awareness",
            Some("conflict"),
        ),
    ];
    for (user, channel, action, expected) in cases {
        let mut socket = ws::connect(&api, user).await;
        let field = if action == "doc.sync" {
            "state_vector"
        } else {
            "update"
        };
        let value = match action {
            "doc.sync" => String::new(),
            "doc.update" => update.clone(),
            _ => awareness.clone(),
        };
        let mut frame = json!({"action": action, "channel_id": channel});
        frame[field] = Value::String(value);
        ws::send(&mut socket, frame).await;
        ws::send(&mut socket, json!({"action": "ping"})).await;
        // Skip events of the team's setup (`channel.created` reaches new sockets).
        let mut answer = ws::next_frame(&mut socket).await;
        while !["error", "pong", action].contains(&answer["type"].as_str().unwrap_or_default()) {
            answer = ws::next_frame(&mut socket).await;
        }
        match expected {
            Some(code) => {
                assert_eq!(answer["type"], "error", "{action} {answer}");
                assert_eq!(answer["data"]["code"], code, "{action} {answer}");
            }
            None => assert_eq!(answer["type"], action, "{answer}"),
        }
    }
    // Nothing was stored anywhere.
    for channel in [&team.doc_id, &team.private_doc_id, &team.public_id] {
        let raw = RawTable::new().await;
        assert!(
            raw.query(&keys::document_partition(typed(channel)))
                .await
                .is_empty()
        );
    }
    // Awareness of a member reaches the others and is never stored.
    let mut owner = ws::connect_subscribed(&api, &team.owner, &[team.doc_id.as_str()]).await;
    api.join(&team.member, &team.doc_id).await;
    let mut member = ws::connect_subscribed(&api, &team.member, &[team.doc_id.as_str()]).await;
    ws::send(
        &mut member,
        json!({"action": "doc.awareness", "channel_id": team.doc_id, "update": awareness}),
    )
    .await;
    let relayed = next_of(&mut owner, "doc.awareness").await;
    assert_eq!(relayed["data"]["update"], awareness);
    assert_eq!(relayed["data"]["user_id"], team.member.id.as_str());
    let raw = RawTable::new().await;
    assert!(
        raw.query(&keys::document_partition(typed(&team.doc_id)))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn compaction_under_concurrent_updates_loses_nothing() {
    let api = Api::new();
    let team = doc_team(&api).await;
    let channel = team.doc_id.as_str();
    api.join(&team.admin, channel).await;
    api.save_document(&team.owner, channel, "|", 0).await;
    let writers = [&team.owner, &team.admin, &team.member, &team.owner];
    const EACH: usize = 12;
    // Four sockets each send 12 inserts (made beforehand, each on the writer's own earlier
    // ones), all at once: the log passes its compaction threshold (32 updates) while the
    // others keep appending.
    let runs = writers.iter().enumerate().map(|(w, user)| {
        let api = api.clone();
        let channel = channel.to_owned();
        async move {
            let (socket, base) = editor(&api, user, &channel).await;
            let mut mine = vec![base];
            for i in 0..EACH {
                let update = yjs::edit(100 + w as u32, &mine, 0, &format!("<{w}.{i}>"), 0).await;
                mine.push(update);
            }
            (w, socket, mine)
        }
    });
    let ready = futures::future::join_all(runs).await;
    let runs = ready.into_iter().map(|(w, mut socket, mine)| {
        let channel = channel.to_owned();
        async move {
            for (i, update) in mine[1..].iter().enumerate() {
                let error = doc_update_answer(&mut socket, &channel, update).await;
                assert_eq!(error, None, "writer {w}, update {i}");
            }
        }
    });
    futures::future::join_all(runs).await;
    let document = api.get_document(&team.owner, channel).await;
    assert_eq!(version(&document), 1 + 4 * EACH as u64);
    let content = document["content"].as_str().unwrap();
    for w in 0..4 {
        for i in 0..EACH {
            assert_eq!(
                content.matches(&format!("<{w}.{i}>")).count(),
                1,
                "<{w}.{i}> in {content}"
            );
        }
    }
    // Compaction ran: the snapshot moved past the save, and the log holds exactly what lies
    // above it.
    let raw = RawTable::new().await;
    let meta = raw.item(&keys::document(typed(channel))).await.unwrap();
    let number = |name: &str| meta[name]["N"].as_str().unwrap().parse::<u64>().unwrap();
    assert!(number("snapshot_version") > 1, "{meta}");
    let log = raw.query(&keys::document_updates(typed(channel))).await;
    assert_eq!(
        log.len() as u64,
        number("version") - number("snapshot_version")
    );
    assert_eq!(number("log_count"), log.len() as u64);
}

#[tokio::test]
async fn a_compaction_keeps_an_update_stored_after_it_read_the_log() {
    let api = Api::new();
    let team = doc_team(&api).await;
    let channel = team.doc_id.as_str();
    let state = app_state().await;
    let channel_id = typed(channel);
    api.save_document(&team.owner, channel, "base", 0).await;
    let (mut socket, base) = editor(&api, &team.member, channel).await;
    let first = yjs::edit(9, std::slice::from_ref(&base), 4, " one", 0).await;
    let second = yjs::edit(9, &[base.clone(), first.clone()], 8, " two", 0).await;
    assert_eq!(doc_update_answer(&mut socket, channel, &first).await, None);
    assert_eq!(doc_update_answer(&mut socket, channel, &second).await, None);
    // A compactor reads the document (version 3: the save's snapshot and two updates)...
    let read: StoredDocument = state.store.load_document(channel_id, None).await.unwrap();
    assert_eq!(
        (read.version(), read.snapshot_version(), read.log.len()),
        (3, 1, 2)
    );
    // ... an update is stored meanwhile ...
    let third = yjs::edit(
        9,
        &[base.clone(), first.clone(), second.clone()],
        12,
        " three",
        0,
    )
    .await;
    assert_eq!(doc_update_answer(&mut socket, channel, &third).await, None);
    // ... and the compaction of what it read commits, merging only that.
    let (_, _, merged_state) = yjs::merged(&[base.clone(), first, second]).await;
    let merged_state = STANDARD.decode(merged_state).unwrap();
    let merged: Vec<LoggedUpdate> = read.log.clone();
    let revision = NewRevision {
        version: 3,
        state: &merged_state,
        by: typed(&team.member.id),
        at: chrono::Utc::now(),
        reason: RevisionReason::Compaction,
    };
    let outcome = state
        .store
        .compact_document(channel_id, 1, &revision, &merged)
        .await
        .unwrap();
    assert_eq!(outcome, huddle_shared::documents::CompactOutcome::Compacted);
    let document = api.get_document(&team.owner, channel).await;
    assert_eq!(document["content"], "base one two three");
    assert_eq!(version(&document), 4);
    let after = state.store.load_document(channel_id, None).await.unwrap();
    assert_eq!((after.snapshot_version(), after.log.len()), (3, 1));
    // The same compaction again lost its race (the snapshot moved): nothing is written.
    let again = state
        .store
        .compact_document(channel_id, 1, &revision, &merged)
        .await
        .unwrap();
    assert_eq!(again, huddle_shared::documents::CompactOutcome::Raced);
    assert_eq!(
        api.get_document(&team.owner, channel).await["content"],
        "base one two three"
    );
}

#[tokio::test]
async fn deleting_the_channel_removes_its_document() {
    let api = Api::new();
    let team = doc_team(&api).await;
    let channel = team.doc_id.as_str();
    api.save_document(&team.owner, channel, "doomed", 0).await;
    let (mut socket, base) = editor(&api, &team.member, channel).await;
    let edit = yjs::edit(3, &[base], 6, "!", 0).await;
    assert_eq!(doc_update_answer(&mut socket, channel, &edit).await, None);
    let raw = RawTable::new().await;
    let partition = keys::document_partition(typed(channel));
    assert!(raw.query(&partition).await.len() >= 4);
    api.delete_channel(&team.owner, channel).await;
    eventually("the document to be deleted with its channel", || async {
        raw.query(&partition).await.is_empty()
    })
    .await;
}

#[tokio::test]
async fn document_routes_refuse_who_may_not_see_or_change() {
    let api = Api::new();
    let team = api.fresh_doc_team().await;
    api.save_document(&team.member, &team.private_doc_id, "private", 0)
        .await;
    let revisions = format!("/v1/channels/{}/document/revisions", team.private_doc_id);
    for path in [
        document_path(&team.private_doc_id),
        revisions.clone(),
        format!("{revisions}/1"),
    ] {
        for user in [&team.owner, &team.outsider] {
            let reply = api.get(&path, user.token()).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(api.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
    }
    let restore = api
        .post(
            &format!("{revisions}/1/restore"),
            team.owner.token(),
            json!({}),
        )
        .await;
    assert_eq!(restore.status, StatusCode::NOT_FOUND);
    let sync = api
        .post(
            &format!("/v1/channels/{}/document/sync", team.private_doc_id),
            team.owner.token(),
            json!({"state_vector": ""}),
        )
        .await;
    assert_eq!(sync.status, StatusCode::NOT_FOUND);
    // A reader of the public doc channel who has not joined may read but not save.
    let save = api
        .put(
            &document_path(&team.doc_id),
            team.member.token(),
            json!({"content": "x", "base_version": 0}),
        )
        .await;
    assert_eq!(save.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api.get_document(&team.member, &team.doc_id).await["version"],
        0
    );
    // The wrong kind of channel is a conflict.
    let chat = api
        .get(&document_path(&team.public_id), team.owner.token())
        .await;
    assert_eq!(chat.status, StatusCode::CONFLICT);
    // Malformed bodies are 400.
    let malformed = api
        .put(
            &document_path(&team.doc_id),
            team.owner.token(),
            json!({"content": 5, "base_version": 0}),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
}
