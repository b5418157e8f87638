//! Messages against the real local stack: sending (idempotent), cursor walks, threads,
//! edits and history, soft deletes, reactions, pins, mentions and the unread counters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::StreamExt;
use huddle_tests::{Api, TestUser, count_status};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn messages_path(channel: &str) -> String {
    format!("/v1/channels/{channel}/messages")
}

#[tokio::test]
async fn sending_validates_and_checks_membership() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let general = messages_path(&team.general_id);
    let message = api
        .send_message(&team.member, &team.general_id, json!({"content": "hello"}))
        .await;
    assert_eq!(message["content"], "hello");
    assert_eq!(message["author_id"], team.member.id.as_str());
    assert_eq!(message["channel_id"], team.general_id.as_str());
    assert_eq!(message["reply_count"], 0);
    assert_eq!(message["reactions"], json!([]));
    assert_eq!(message["attachments"], json!([]));
    assert_eq!(message["mentions"], json!([]));
    assert_eq!(message["pinned"], false);
    assert_eq!(message["deleted"], false);
    assert_eq!(message["edited_at"], Value::Null);
    assert_eq!(message["parent_id"], Value::Null);

    let exact = "x".repeat(4000);
    api.send_message(&team.member, &team.general_id, json!({"content": exact}))
        .await;
    for body in [
        json!({"content": ""}),
        json!({"content": "  \n "}),
        json!({"content": "x".repeat(4001)}),
        json!({"content": 3}),
        json!({}),
        json!({"content": "x", "client_id": ""}),
        json!({"content": "x", "client_id": "c".repeat(65)}),
        json!({"content": "x", "attachment_ids": ["01J00000000000000000000000"]}),
        json!({"content": "x", "parent_id": "nope"}),
    ] {
        let reply = api.post(&general, team.member.token(), body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            reply.body
        );
    }
    let anonymous = api.post(&general, None, json!({"content": "x"})).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let outsider = api
        .post(&general, team.outsider.token(), json!({"content": "x"}))
        .await;
    assert_eq!(outsider.status, StatusCode::NOT_FOUND);
    // A workspace member may read a public channel but must join to post.
    let public = messages_path(&team.public_id);
    assert_eq!(
        api.post(&public, team.member.token(), json!({"content": "x"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get(&public, team.member.token()).await.status,
        StatusCode::OK
    );
    let private = messages_path(&team.private_id);
    assert_eq!(
        api.get(&private, team.admin.token()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post(&private, team.admin.token(), json!({"content": "x"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_retried_send_returns_the_first_message() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let body = json!({"content": "once", "client_id": "retry-1"});
    let replies = futures::future::join_all((0..10).map(|_| {
        api.post(
            &messages_path(&team.general_id),
            team.member.token(),
            body.clone(),
        )
    }))
    .await;
    assert!(
        replies.iter().all(|r| r.status == StatusCode::CREATED),
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    let ids: HashSet<_> = replies.iter().map(|r| r.body["id"].clone()).collect();
    assert_eq!(ids.len(), 1);
    let listed = api
        .walk(&messages_path(&team.general_id), team.member.token(), 100)
        .await;
    assert_eq!(listed.len(), 1);
    // The same client_id from another user is another message.
    let other = api.send_message(&team.admin, &team.general_id, body).await;
    assert!(!ids.contains(&other["id"]));
    let channel = api.get_channel(&team.owner, &team.general_id).await;
    assert_eq!(channel["unread_count"], 2);
}

#[tokio::test]
async fn walking_250_messages_either_way_yields_each_once_in_order() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let sent: Vec<String> = futures::stream::iter(0..250)
        .map(|i| {
            let api = api.clone();
            let user = team.member.clone();
            let channel = team.general_id.clone();
            async move {
                api.send_message(&user, &channel, json!({"content": format!("m{i}")}))
                    .await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut ascending = sent.clone();
    ascending.sort();

    // Newest first, while more messages arrive: none of the new ones, no repeats.
    let path = messages_path(&team.general_id);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=30&cursor={c}"),
            None => format!("{path}?limit=30"),
        };
        let page = api.get(&url, team.member.token()).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned()),
        );
        api.send_message(
            &team.admin,
            &team.general_id,
            json!({"content": "interrupting"}),
        )
        .await;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut descending = ascending.clone();
    descending.reverse();
    assert_eq!(seen, descending);

    // Oldest first with `after`, from before the first message.
    let forward = api
        .walk(
            &format!("{path}?after=00000000000000000000000000"),
            team.member.token(),
            40,
        )
        .await;
    let forward_ids: Vec<String> = forward
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(&forward_ids[..250], &ascending[..]);
    assert!(forward_ids[250..].iter().all(|id| !ascending.contains(id)));

    // `before` starts older than a given message.
    let before = api
        .get(
            &format!("{path}?before={}&limit=5", ascending[100]),
            team.member.token(),
        )
        .await;
    let ids: Vec<&str> = before.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        descending[150..155]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );

    for bad in [
        "before=nope",
        "after=nope",
        &format!("before={0}&after={0}", ascending[0]),
        "cursor=bad",
        "limit=0",
    ] {
        let reply = api.get(&format!("{path}?{bad}"), team.member.token()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn threads_keep_replies_out_of_the_channel_and_count_them_exactly() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let parent = api
        .send_message(&team.member, &team.general_id, json!({"content": "thread"}))
        .await;
    let parent_id = parent["id"].as_str().unwrap().to_owned();
    let replies = futures::future::join_all((0..20).map(|i| {
        let user = if i % 2 == 0 { &team.admin } else { &team.owner };
        api.post(
            &messages_path(&team.general_id),
            user.token(),
            json!({"content": format!("r{i}"), "parent_id": parent_id}),
        )
    }))
    .await;
    assert!(replies.iter().all(|r| r.status == StatusCode::CREATED));
    let parent_now = api
        .get(
            &format!("{}/{parent_id}", messages_path(&team.general_id)),
            team.member.token(),
        )
        .await;
    assert_eq!(parent_now.body["reply_count"], 20);
    assert!(parent_now.body["last_reply_at"].is_string());

    let top = api
        .walk(&messages_path(&team.general_id), team.member.token(), 50)
        .await;
    assert_eq!(top.len(), 1);
    let thread = api
        .walk(
            &format!("{}/{parent_id}/replies", messages_path(&team.general_id)),
            team.member.token(),
            7,
        )
        .await;
    assert_eq!(thread.len(), 20);
    let ids: Vec<&str> = thread.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "oldest first");
    assert!(thread.iter().all(|m| m["parent_id"] == parent_id.as_str()));

    let nested = api
        .post(
            &messages_path(&team.general_id),
            team.admin.token(),
            json!({"content": "x", "parent_id": ids[0]}),
        )
        .await;
    assert_eq!(nested.status, StatusCode::BAD_REQUEST);
    let unknown = api
        .post(
            &messages_path(&team.general_id),
            team.admin.token(),
            json!({"content": "x", "parent_id": "01J00000000000000000000000"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    // Replies do not count as unread channel messages.
    let channel = api.get_channel(&team.owner, &team.general_id).await;
    assert_eq!(channel["unread_count"], 1);
}

#[tokio::test]
async fn edits_keep_history_and_deletes_are_soft() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let base = messages_path(&team.general_id);
    let message = api
        .send_message(&team.member, &team.general_id, json!({"content": "v1"}))
        .await;
    let path = format!("{base}/{}", message["id"].as_str().unwrap());

    for content in ["v2", "v3"] {
        let edited = api
            .patch(&path, team.member.token(), json!({"content": content}))
            .await;
        assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
        assert_eq!(edited.body["content"], content);
        assert!(edited.body["edited_at"].is_string());
    }
    let history = api
        .get(&format!("{path}/history"), team.admin.token())
        .await;
    assert_eq!(history.status, StatusCode::OK);
    let versions: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["content"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v1", "v2"]);

    assert_eq!(
        api.patch(&path, team.admin.token(), json!({"content": "hijack"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.patch(&path, team.member.token(), json!({"content": ""}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let other = api
        .send_message(&team.owner, &team.general_id, json!({"content": "owner's"}))
        .await;
    let other_path = format!("{base}/{}", other["id"].as_str().unwrap());
    assert_eq!(
        api.delete(&other_path, team.member.token()).await.status,
        StatusCode::FORBIDDEN
    );
    api.must_delete(&other_path, &team.admin).await;

    api.must_delete(&path, &team.member).await;
    api.must_delete(&path, &team.member).await;
    let deleted = api.get(&path, team.member.token()).await;
    assert_eq!(deleted.body["deleted"], true);
    assert_eq!(deleted.body["content"], "");
    let history = api
        .get(&format!("{path}/history"), team.member.token())
        .await;
    assert_eq!(history.body["items"], json!([]));
    assert_eq!(
        api.patch(&path, team.member.token(), json!({"content": "back"}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    let listed = api.walk(&base, team.member.token(), 10).await;
    assert!(
        listed
            .iter()
            .any(|m| m["id"] == message["id"] && m["deleted"] == true)
    );
    let missing = api
        .get(
            &format!("{base}/01J00000000000000000000000"),
            team.member.token(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn fifty_concurrent_reactions_count_exactly() {
    let api = Api::new();
    let owner = api.register_user().await;
    let workspace = api.create_workspace(&owner, "Reactions").await;
    let wid = workspace["id"].as_str().unwrap();
    let general = workspace["general_channel_id"].as_str().unwrap();
    let reactors: Vec<TestUser> = futures::stream::iter(0..50)
        .map(|_| api.register_user())
        .buffer_unordered(8)
        .collect()
        .await;
    for reactor in &reactors {
        api.add_to_workspace(&owner, wid, reactor, "member").await;
    }
    let message = api
        .send_message(&owner, general, json!({"content": "react to me"}))
        .await;
    let path = format!(
        "{}/{}",
        messages_path(general),
        message["id"].as_str().unwrap()
    );
    let thumbs = format!("{path}/reactions/thumbsup");
    let replies = futures::future::join_all(
        reactors
            .iter()
            .map(|r| api.put(&thumbs, r.token(), json!({}))),
    )
    .await;
    assert!(replies.iter().all(|r| r.status == StatusCode::NO_CONTENT));
    // Idempotent: again changes nothing.
    api.must_put(&thumbs, &reactors[0], json!({})).await;
    let heart = format!("{path}/reactions/{}", "%E2%9D%A4%EF%B8%8F");
    api.must_put(&heart, &reactors[1], json!({})).await;

    let seen_by_reactor = api.get(&path, reactors[0].token()).await;
    let reactions = seen_by_reactor.body["reactions"].as_array().unwrap();
    let thumbs_summary = reactions.iter().find(|r| r["emoji"] == "thumbsup").unwrap();
    assert_eq!(thumbs_summary["count"], 50);
    assert_eq!(thumbs_summary["me"], true);
    let heart_summary = reactions.iter().find(|r| r["emoji"] == "❤️").unwrap();
    assert_eq!(
        (heart_summary["count"].clone(), heart_summary["me"].clone()),
        (json!(1), json!(false))
    );
    let seen_by_owner = api.get(&path, owner.token()).await;
    assert!(
        seen_by_owner.body["reactions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["me"] == false)
    );

    api.must_delete(&thumbs, &reactors[0]).await;
    api.must_delete(&thumbs, &reactors[0]).await;
    let after = api.get(&path, reactors[0].token()).await;
    let thumbs_after = after.body["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["emoji"] == "thumbsup")
        .unwrap()
        .clone();
    assert_eq!(
        (thumbs_after["count"].clone(), thumbs_after["me"].clone()),
        (json!(49), json!(false))
    );

    for bad in ["Thumbs%20Up", "%3Cscript%3E", &"a".repeat(33)] {
        let reply = api
            .put(&format!("{path}/reactions/{bad}"), owner.token(), json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn pins_are_listed_in_pin_order() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let base = messages_path(&team.general_id);
    let first = api
        .send_message(&team.member, &team.general_id, json!({"content": "first"}))
        .await;
    let second = api
        .send_message(&team.member, &team.general_id, json!({"content": "second"}))
        .await;
    let pins = format!("/v1/channels/{}/pins", team.general_id);
    for message in [&second, &first, &second] {
        let reply = api
            .put(
                &format!("{pins}/{}", message["id"].as_str().unwrap()),
                team.admin.token(),
                json!({}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
    }
    let listed = api.walk(&pins, team.member.token(), 1).await;
    let ids: Vec<&Value> = listed.iter().map(|m| &m["id"]).collect();
    assert_eq!(ids, [&second["id"], &first["id"]]);
    assert!(listed.iter().all(|m| m["pinned"] == true));

    let unpin = api
        .delete(
            &format!("{pins}/{}", second["id"].as_str().unwrap()),
            team.member.token(),
        )
        .await;
    assert_eq!(unpin.status, StatusCode::NO_CONTENT);
    let listed = api.walk(&pins, team.member.token(), 10).await;
    assert_eq!(listed.len(), 1);
    let unpinned = api
        .get(
            &format!("{base}/{}", second["id"].as_str().unwrap()),
            team.member.token(),
        )
        .await;
    assert_eq!(unpinned.body["pinned"], false);

    // Deleting a pinned message unpins it; only channel members pin.
    api.delete(
        &format!("{base}/{}", first["id"].as_str().unwrap()),
        team.member.token(),
    )
    .await;
    assert_eq!(api.walk(&pins, team.member.token(), 10).await.len(), 0);
    let public_message = api
        .send_message(&team.owner, &team.public_id, json!({"content": "pin me"}))
        .await;
    let pin_public = format!(
        "/v1/channels/{}/pins/{}",
        team.public_id,
        public_message["id"].as_str().unwrap()
    );
    assert_eq!(
        api.put(&pin_public, team.member.token(), json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.put(&pin_public, team.outsider.token(), json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn mentions_and_unread_counts_follow_the_counters() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let channel_path = format!("/v1/channels/{}", team.general_id);
    let content = format!(
        "hey <@{}> and <@{}> and <@{}>",
        team.member.id, team.outsider.id, team.owner.id
    );
    let message = api
        .send_message(&team.admin, &team.general_id, json!({"content": content}))
        .await;
    let mentions: HashSet<&str> = message["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(
        mentions,
        HashSet::from([team.member.id.as_str(), team.owner.id.as_str()])
    );
    api.send_message(&team.admin, &team.general_id, json!({"content": "plain"}))
        .await;
    let last = api
        .send_message(
            &team.owner,
            &team.general_id,
            json!({"content": "from the owner"}),
        )
        .await;

    let member_view = api.get(&channel_path, team.member.token()).await;
    assert_eq!(member_view.body["unread_count"], 3);
    assert_eq!(member_view.body["mention_count"], 1);
    let admin_view = api.get(&channel_path, team.admin.token()).await;
    assert_eq!(
        admin_view.body["unread_count"], 1,
        "own messages are never unread"
    );
    assert_eq!(admin_view.body["mention_count"], 0);
    let listed = api
        .walk(
            &format!("/v1/workspaces/{}/channels", team.workspace_id),
            team.member.token(),
            10,
        )
        .await;
    let general = listed
        .iter()
        .find(|c| c["id"] == team.general_id.as_str())
        .unwrap();
    assert_eq!(
        (
            general["unread_count"].clone(),
            general["mention_count"].clone()
        ),
        (json!(3), json!(1))
    );
    assert!(general["last_message_at"].is_string());

    // Reading an older message moves the marker but not the counts; the latest resets both.
    let read = format!("{channel_path}/read");
    api.must_put(&read, &team.member, json!({"message_id": message["id"]}))
        .await;
    let partial = api.get(&channel_path, team.member.token()).await;
    assert_eq!(partial.body["last_read_message_id"], message["id"]);
    assert_eq!(partial.body["unread_count"], 3);
    api.must_put(&read, &team.member, json!({"message_id": last["id"]}))
        .await;
    let caught_up = api.get(&channel_path, team.member.token()).await;
    assert_eq!(
        (
            caught_up.body["unread_count"].clone(),
            caught_up.body["mention_count"].clone()
        ),
        (json!(0), json!(0))
    );
    // Never backwards.
    api.put(
        &read,
        team.member.token(),
        json!({"message_id": message["id"]}),
    )
    .await;
    let still = api.get(&channel_path, team.member.token()).await;
    assert_eq!(still.body["last_read_message_id"], last["id"]);
    // A marker past the end is clamped to the latest message.
    api.put(
        &read,
        team.member.token(),
        json!({"message_id": "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"}),
    )
    .await;
    let clamped = api.get(&channel_path, team.member.token()).await;
    assert_eq!(clamped.body["last_read_message_id"], last["id"]);
    api.send_message(&team.owner, &team.general_id, json!({"content": "new"}))
        .await;
    let one_more = api.get(&channel_path, team.member.token()).await;
    assert_eq!(one_more.body["unread_count"], 1);
}

/// The message item's `reaction_kinds` counter, read from the table.
async fn reaction_kinds_counter(channel: &str, message: &str) -> Option<u64> {
    let state = huddle_tests::app_state().await;
    let key =
        huddle_shared::keys::message(huddle_tests::typed(channel), huddle_tests::typed(message));
    let item = state
        .store
        .client()
        .get_item()
        .table_name(state.store.table())
        .key(huddle_shared::keys::PK, AttributeValue::S(key.pk))
        .key(huddle_shared::keys::SK, AttributeValue::S(key.sk))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item.get("reaction_kinds")
        .map(|value| value.as_n().unwrap().parse().unwrap())
}

/// The emoji kinds a message shows, with their counts.
async fn reaction_counts(api: &Api, user: &TestUser, path: &str) -> Vec<(String, u64)> {
    let reply = api.get(path, user.token()).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["emoji"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_message_takes_at_most_fifty_emoji_kinds_under_concurrency() {
    let api = Api::new();
    let owner = api.register_user().await;
    let other = api.register_user().await;
    let workspace = api.create_workspace(&owner, "Emoji").await;
    let wid = workspace["id"].as_str().unwrap();
    let general = workspace["general_channel_id"].as_str().unwrap();
    api.add_to_workspace(&owner, wid, &other, "member").await;
    let message = api
        .send_message(&owner, general, json!({"content": "react"}))
        .await;
    let mid = message["id"].as_str().unwrap();
    let path = format!("{}/{mid}", messages_path(general));
    let reaction = |emoji: &str| format!("{path}/reactions/{emoji}");

    // 120 new kinds at once: exactly 50 go in, the rest are refused with 409.
    let replies = futures::future::join_all(
        (0..120).map(|i| api.put(&reaction(&format!("e{i}")), owner.token(), json!({}))),
    )
    .await;
    let added = count_status(&replies, StatusCode::NO_CONTENT);
    let refused: Vec<&huddle_tests::Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .collect();
    assert_eq!((added, refused.len()), (50, 70), "{:?}", {
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    });
    assert!(refused.iter().all(|r| r.error_code() == "conflict"));
    let kinds = reaction_counts(&api, &owner, &path).await;
    assert_eq!(kinds.len(), 50);
    assert!(kinds.iter().all(|(_, count)| *count == 1));
    assert_eq!(reaction_kinds_counter(general, mid).await, Some(50));

    // Full: a 51st kind is refused; joining a kind that is there is not.
    let (present, _) = kinds[0].clone();
    let absent = (0..120)
        .map(|i| format!("e{i}"))
        .find(|emoji| kinds.iter().all(|(kind, _)| kind != emoji))
        .unwrap();
    let fifty_first = api.put(&reaction(&absent), other.token(), json!({})).await;
    assert_eq!(fifty_first.status, StatusCode::CONFLICT);
    assert_eq!(fifty_first.error_code(), "conflict");
    api.must_put(&reaction(&present), &other, json!({})).await;
    // One of two users leaving keeps the kind (and the count of kinds).
    api.must_delete(&reaction(&present), &owner).await;
    assert_eq!(reaction_kinds_counter(general, mid).await, Some(50));
    assert_eq!(
        api.put(&reaction(&absent), other.token(), json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );

    // The last user leaving frees the slot, once.
    api.must_delete(&reaction(&present), &other).await;
    api.must_delete(&reaction(&present), &other).await;
    assert_eq!(reaction_kinds_counter(general, mid).await, Some(49));
    api.must_put(&reaction(&absent), &other, json!({})).await;
    assert_eq!(reaction_kinds_counter(general, mid).await, Some(50));
    assert_eq!(
        api.put(&reaction(&present), owner.token(), json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );

    // Removals and additions at once: the counter stays the number of kinds shown, and the
    // limit holds.
    let kinds = reaction_counts(&api, &owner, &path).await;
    let removals = kinds.iter().take(20).map(|(emoji, _)| {
        let user = if *emoji == absent { &other } else { &owner };
        api.delete(&reaction(emoji), user.token())
    });
    let additions = (0..40).map(|i| api.put(&reaction(&format!("n{i}")), other.token(), json!({})));
    let (removed, added) = tokio::join!(
        futures::future::join_all(removals),
        futures::future::join_all(additions)
    );
    assert!(removed.iter().all(|r| r.status == StatusCode::NO_CONTENT));
    assert!(
        added
            .iter()
            .all(|r| r.status == StatusCode::NO_CONTENT || r.status == StatusCode::CONFLICT)
    );
    let kinds = reaction_counts(&api, &owner, &path).await;
    assert!(kinds.len() <= 50, "{}", kinds.len());
    let added = count_status(&added, StatusCode::NO_CONTENT);
    assert_eq!(kinds.len(), 30 + added);
    assert_eq!(
        reaction_kinds_counter(general, mid).await,
        Some(kinds.len() as u64)
    );
}
