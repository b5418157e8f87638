//! Search against the real local stack: messages reach the index through the table's
//! stream (the gateway's poller feeding the indexer), and results respect who may read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::StreamExt;
use huddle_shared::ids::WorkspaceId;
use huddle_shared::keys;
use huddle_shared::search::SEARCH_CHANNELS_MAX;
use huddle_tests::{Api, People, Team, TestUser, cursor_reveals, forged_cursors, typed};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn send(api: &Api, user: &TestUser, channel: &str, content: &str) -> String {
    api.post_text(user, channel, content).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn search_path(team: &Team, query: &str) -> String {
    format!("/v1/workspaces/{}/search?{query}", team.workspace_id)
}

/// Searches until the result ids equal `expected` (the index follows the stream).
async fn search_until(api: &Api, user: &TestUser, path: &str, expected: &[&str]) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..100 {
        let reply = api.get(path, user.token()).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
        last = reply.body["items"].as_array().unwrap().clone();
        let ids: Vec<&str> = last.iter().map(|m| m["id"].as_str().unwrap()).collect();
        if ids == expected {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{path}: expected {expected:?}, last saw {last:?}");
}

#[tokio::test]
async fn search_finds_messages_with_every_term_newest_first() {
    let api = Api::new();
    let team = api.team(&People::register(&api).await).await;
    let first = send(
        &api,
        &team.member,
        &team.general_id,
        "The Rocket launch is on Friday",
    )
    .await;
    let second = send(
        &api,
        &team.admin,
        &team.general_id,
        "rocket fuel arrived; LAUNCH pad ready",
    )
    .await;
    let _other = send(&api, &team.admin, &team.general_id, "only the rocket here").await;

    let both = search_until(
        &api,
        &team.member,
        &search_path(&team, "q=rocket%20launch"),
        &[&second, &first],
    )
    .await;
    assert!(both.iter().all(|m| m["deleted"] == false));
    search_until(
        &api,
        &team.member,
        &search_path(&team, "q=FRIDAY"),
        &[&first],
    )
    .await;
    search_until(
        &api,
        &team.member,
        &search_path(&team, "q=nothing%20matches"),
        &[],
    )
    .await;
}

#[tokio::test]
async fn search_only_returns_what_the_caller_may_read() {
    let api = Api::new();
    let team = api.team(&People::register(&api).await).await;
    let public = send(&api, &team.owner, &team.public_id, "zebra crossing public").await;
    let private = send(
        &api,
        &team.member,
        &team.private_id,
        "zebra crossing private",
    )
    .await;

    search_until(
        &api,
        &team.member,
        &search_path(&team, "q=zebra"),
        &[&private, &public],
    )
    .await;
    search_until(
        &api,
        &team.admin,
        &search_path(&team, "q=zebra"),
        &[&public],
    )
    .await;
    search_until(
        &api,
        &team.member,
        &search_path(&team, &format!("q=zebra&channel_id={}", team.public_id)),
        &[&public],
    )
    .await;
    let hidden = api
        .get(
            &search_path(&team, &format!("q=zebra&channel_id={}", team.private_id)),
            team.admin.token(),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.get(&search_path(&team, "q=zebra"), team.outsider.token())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get(&search_path(&team, "q=zebra"), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    for bad in [
        "q=",
        "",
        "q=%20%2C",
        "q=a%20b%20c%20d%20e%20f%20g%20h%20i",
        "q=x&channel_id=nope",
        "q=x&cursor=nope",
        "q=x&limit=0",
    ] {
        let reply = api.get(&search_path(&team, bad), team.member.token()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn edits_and_deletes_update_the_index() {
    let api = Api::new();
    let team = api.team(&People::register(&api).await).await;
    let id = send(&api, &team.member, &team.general_id, "walrus tusk").await;
    search_until(&api, &team.member, &search_path(&team, "q=walrus"), &[&id]).await;

    let path = format!("/v1/channels/{}/messages/{id}", team.general_id);
    let edited = api
        .patch(
            &path,
            team.member.token(),
            json!({"content": "narwhal tusk"}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    search_until(&api, &team.member, &search_path(&team, "q=narwhal"), &[&id]).await;
    search_until(&api, &team.member, &search_path(&team, "q=walrus"), &[]).await;
    search_until(&api, &team.member, &search_path(&team, "q=tusk"), &[&id]).await;

    api.must_delete(&path, &team.member).await;
    search_until(&api, &team.member, &search_path(&team, "q=tusk"), &[]).await;
}

#[tokio::test]
async fn search_results_page_without_repeats() {
    let api = Api::new();
    let team = api.team(&People::register(&api).await).await;
    let mut sent = Vec::new();
    for i in 0..12 {
        sent.push(
            send(
                &api,
                &team.member,
                &team.general_id,
                &format!("pelican number {i}"),
            )
            .await,
        );
    }
    sent.reverse();
    let expected: Vec<&str> = sent.iter().map(String::as_str).collect();
    // Wait until the whole set is indexed, then walk it in pages of 5.
    let path = search_path(&team, "q=pelican&limit=100");
    search_until(&api, &team.member, &path, &expected).await;
    let walked = api
        .walk(&search_path(&team, "q=pelican"), team.member.token(), 5)
        .await;
    let ids: Vec<&str> = walked.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn a_poison_record_is_reported_alone_and_does_not_block_the_batch() {
    use huddle_shared::ids::{ChannelId, MessageId, UserId, WorkspaceId};
    use huddle_shared::search::index_changes;
    use huddle_shared::stream::{Change, ChangeKind};
    use huddle_tests::{message_image, ticket_image};

    let state = huddle_tests::app_state().await;
    let (workspace, channel, message) = (
        WorkspaceId::generate(),
        ChannelId::generate(),
        MessageId::generate(),
    );
    let change = |id: &str, kind, old, new, by_ttl| Change {
        id: id.into(),
        kind,
        old,
        new,
        by_ttl,
        at: chrono::Utc::now(),
    };
    let author = UserId::generate();
    let good = change(
        "good",
        ChangeKind::Insert,
        None,
        Some(message_image(
            channel,
            message,
            workspace,
            author,
            json!("capybara"),
        )),
        false,
    );
    let poison_image = message_image(channel, MessageId::generate(), workspace, author, json!(7));
    let poison = change(
        "poison",
        ChangeKind::Insert,
        None,
        Some(poison_image),
        false,
    );
    let other_entity = change(
        "ticket",
        ChangeKind::Remove,
        Some(ticket_image()),
        None,
        true,
    );
    let failed = index_changes(&state, &[poison, good, other_entity]).await;
    assert_eq!(failed, ["poison"]);
    let postings = state
        .store
        .list_postings(workspace, "capybara", None, 10)
        .await
        .unwrap();
    assert_eq!(postings.items.len(), 1);
    assert_eq!(postings.items[0].message_id, message);
}

#[tokio::test]
async fn a_deleted_channel_takes_its_messages_out_of_search() {
    let api = Api::new();
    let team = api.team(&People::register(&api).await).await;
    let id = send(&api, &team.owner, &team.public_id, "ephemeral okapi").await;
    search_until(&api, &team.owner, &search_path(&team, "q=okapi"), &[&id]).await;
    let deleted = api
        .delete(
            &format!("/v1/channels/{}", team.public_id),
            team.owner.token(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    // The clean-up removes the channel's messages; their removal removes their postings.
    let state = huddle_tests::app_state().await;
    let channel = team.public_id.parse().unwrap();
    let message = id.parse().unwrap();
    for _ in 0..150 {
        if state
            .store
            .get_message(channel, message)
            .await
            .unwrap()
            .is_none()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        state
            .store
            .get_message(channel, message)
            .await
            .unwrap()
            .is_none()
    );
    let workspace = team.workspace_id.parse().unwrap();
    for _ in 0..150 {
        if state
            .store
            .list_postings(workspace, "okapi", None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the deleted channel's postings remain");
}

/// Waits until `term` has `count` postings in the workspace (the index follows the stream).
async fn await_postings(workspace: &str, term: &str, count: usize) {
    let state = huddle_tests::app_state().await;
    let workspace: WorkspaceId = workspace.parse().unwrap();
    let mut found = 0;
    for _ in 0..300 {
        found = state
            .store
            .list_postings(workspace, term, None, 1000)
            .await
            .unwrap()
            .items
            .len();
        if found == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{term}: {found} postings, expected {count}");
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_cursors_are_sealed_and_continue_only_their_own_search() {
    let api = Api::new();
    let team = api.team(&People::register(&api).await).await;
    let mut sent = Vec::new();
    for channel in [&team.general_id, &team.private_id].repeat(3) {
        sent.push(send(&api, &team.member, channel, "heron by the lake").await);
    }
    await_postings(&team.workspace_id, "heron", sent.len()).await;

    // The admin sees the three in general, one page at a time; no cursor shows an id.
    let path = search_path(&team, "q=heron");
    let first = api.page(&path, team.admin.token(), 1, None).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    for id in &sent {
        assert!(!cursor_reveals(&cursor).contains(id.as_str()), "shows {id}");
    }
    let walked = api.walk(&path, team.admin.token(), 1).await;
    assert_eq!(walked.len(), 3);
    assert!(
        walked
            .iter()
            .all(|m| m["channel_id"] == team.general_id.as_str())
    );

    let partition = keys::search_term(typed(&team.workspace_id), "heron");
    let mut forged = forged_cursors(&partition, &cursor);
    // What cursors used to be: a bare message id.
    forged.extend(sent.iter().cloned());
    for bad in &forged {
        let reply = api.page(&path, team.admin.token(), 1, Some(bad)).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {:?}",
            reply.body
        );
        assert_eq!(reply.error_code(), "invalid_request");
    }
    // Another search's cursor, or a list's, is refused too; and a search cursor is no
    // list cursor.
    let messages = format!("/v1/channels/{}/messages", team.general_id);
    let list_cursor = api.page(&messages, team.admin.token(), 1, None).await.body["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, cursor) in [
        (search_path(&team, "q=heron%20lake"), &cursor),
        (search_path(&team, "q=lake"), &cursor),
        (
            search_path(&team, &format!("q=heron&channel_id={}", team.general_id)),
            &cursor,
        ),
        (path.clone(), &list_cursor),
        (messages.clone(), &cursor),
    ] {
        let reply = api.page(&path, team.admin.token(), 1, Some(cursor)).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {:?}",
            reply.body
        );
    }
}

#[tokio::test]
async fn a_search_checks_a_bounded_number_of_channels_per_page() {
    let api = Api::new();
    let team = api.team(&People::register(&api).await).await;
    // More channels with a match than one request checks; every sixth is private (the
    // member cannot read those), the rest public.
    let count = SEARCH_CHANNELS_MAX + 30;
    let channels: Vec<(String, bool)> = futures::stream::iter(0..count)
        .map(|i| {
            let (api, owner, wid) = (api.clone(), team.owner.clone(), team.workspace_id.clone());
            async move {
                let private = i % 6 == 5;
                let channel = api
                    .create_channel(
                        &owner,
                        &wid,
                        json!({"name": format!("wide-{i}"), "kind": "chat", "private": private}),
                    )
                    .await;
                (channel["id"].as_str().unwrap().to_owned(), private)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut messages: Vec<(String, bool)> = futures::stream::iter(channels)
        .map(|(channel, private)| {
            let (api, owner) = (api.clone(), team.owner.clone());
            async move { (send(&api, &owner, &channel, "wombat burrow").await, private) }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    messages.sort_by(|a, b| b.0.cmp(&a.0));
    await_postings(&team.workspace_id, "wombat", count).await;

    // One match per channel, newest first: the first page decides the newest
    // SEARCH_CHANNELS_MAX matches (their channels are all it checks) and shows the
    // readable ones among them, a short page with a cursor; the next page the rest.
    let readable = |slice: &[(String, bool)]| -> Vec<String> {
        slice
            .iter()
            .filter(|(_, private)| !private)
            .map(|(id, _)| id.clone())
            .collect()
    };
    let path = search_path(&team, "q=wombat");
    let first = api.page(&path, team.member.token(), 100, None).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let first_ids = ids(first.body["items"].as_array().unwrap());
    assert_eq!(first_ids, readable(&messages[..SEARCH_CHANNELS_MAX]));
    assert!(first_ids.len() < 100);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = api
        .page(&path, team.member.token(), 100, Some(cursor))
        .await;
    assert_eq!(
        ids(second.body["items"].as_array().unwrap()),
        readable(&messages[SEARCH_CHANNELS_MAX..])
    );
    assert_eq!(second.body["next_cursor"], Value::Null);

    // The owner reads every channel: full pages up to the bound, then the rest.
    let all: Vec<String> = messages.iter().map(|(id, _)| id.clone()).collect();
    let walked = api.walk(&path, team.owner.token(), 100).await;
    assert_eq!(ids(&walked), all);
}
