//! Notifications through the real stream (the local gateway's poller feeds the notifier):
//! who hears of what (mentions, DMs, replies, assignments, level `all`), and who does not
//! (the actor, muted channels, people who can no longer read the channel); levels; the
//! unread counter under reads, read-all, concurrent reads and TTL expiry; replayed and
//! poison records; the `notification.created` push.
//!
//! Absence is checked without waiting a fixed time: the stream is consumed in order, so
//! once a later marker notification has arrived, every earlier record has been handled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::future::join_all;
use huddle_shared::ids::{ChannelId, MessageId, NotificationId, UserId, WorkspaceId};
use huddle_shared::keys;
use huddle_shared::stream::ChangeKind;
use huddle_tests::ws::{connect, next_of};
use huddle_tests::{
    Api, RawTable, Team, TestUser, app_state, count_status, eventually, message_image,
    stream_change, ticket_image, typed,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The text of the marker messages [`settle`] posts (left out by [`received`]).
const MARKER: &str = "(stream marker)";

/// Waits until the stream has carried everything written before: the owner mentions the
/// admin in general, and the admin's notification of it arrives; twice. The notifier
/// handles the records of one batch at once, so the first marker's notification can
/// arrive while an earlier record of its batch is still being handled; the second marker
/// is written after that, so it is read with a later batch, once that one is done.
async fn settle(api: &Api, team: &Team) {
    for _ in 0..2 {
        let content = format!("<@{}> {MARKER}", team.admin.id);
        let marker = api.post_text(&team.owner, &team.general_id, &content).await;
        let id = marker["id"].as_str().unwrap().to_owned();
        let (id, admin) = (id.as_str(), &team.admin);
        eventually("the stream reaching the marker", move || async move {
            api.notifications(admin, "")
                .await
                .iter()
                .any(|n| n["message_id"] == id)
        })
        .await;
    }
}

/// `user`'s notifications, newest first, without the markers of [`settle`].
async fn received(api: &Api, user: &TestUser) -> Vec<Value> {
    api.notifications(user, "")
        .await
        .into_iter()
        .filter(|n| !n["preview"].as_str().unwrap_or_default().contains(MARKER))
        .collect()
}

/// What a notification is about, in short: its kind, the message, task or card, and the
/// actor.
fn gist(n: &Value) -> (String, String, String) {
    let source = ["message_id", "task_id", "card_id"]
        .iter()
        .find_map(|field| n[*field].as_str())
        .unwrap_or_default();
    (
        n["kind"].as_str().unwrap().to_owned(),
        source.to_owned(),
        n["actor_id"].as_str().unwrap().to_owned(),
    )
}

fn gists(notifications: &[Value]) -> Vec<(String, String, String)> {
    notifications.iter().map(gist).collect()
}

/// The expected gist: `(kind, source id, actor)`.
fn expect(kind: &str, source: &Value, actor: &TestUser) -> (String, String, String) {
    (
        kind.to_owned(),
        source["id"].as_str().unwrap().to_owned(),
        actor.id.clone(),
    )
}

fn id_of(body: &Value) -> &str {
    body["id"].as_str().unwrap()
}

/// Waits until `user` has received a notification about `source` (a message, task or
/// card); returns it.
async fn arrives(api: &Api, user: &TestUser, source: &Value) -> Value {
    let id = id_of(source);
    eventually("a notification", move || async move {
        received(api, user).await.iter().any(|n| gist(n).1 == id)
    })
    .await;
    received(api, user)
        .await
        .into_iter()
        .find(|n| gist(n).1 == id)
        .unwrap()
}

/// Replies in a thread as `user`; returns the reply.
async fn reply(api: &Api, user: &TestUser, channel_id: &str, parent: &Value, text: &str) -> Value {
    api.send_message(
        user,
        channel_id,
        json!({"content": text, "parent_id": parent["id"]}),
    )
    .await
}

/// A stream record of the item at `key` being written for the first time, from the item
/// as stored.
async fn insert_of(raw: &RawTable, id: &str, key: &keys::Key) -> huddle_shared::stream::Change {
    let image = raw.image(key).await.expect("the item");
    stream_change(id, ChangeKind::Insert, None, Some(image), false)
}

fn message_key(message: &Value) -> keys::Key {
    keys::message(
        typed(message["channel_id"].as_str().unwrap()),
        typed(id_of(message)),
    )
}

// ---- who is notified -----------------------------------------------------------------

#[tokio::test]
async fn a_mention_notifies_only_the_readers_it_names() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, admin, member, outsider) = (&team.owner, &team.admin, &team.member, &team.outsider);
    // The member reads the public channel (a workspace member) without being in it; the
    // outsider cannot; the author's mention of themselves is no news to them.
    let content = format!(
        "hello <@{}>, <@{}> and <@{}>\nsecond line",
        member.id, outsider.id, owner.id
    );
    let public = api.post_text(owner, &team.public_id, &content).await;
    // Only the member reads the private channel: mentioning others there tells them nothing.
    let secret = format!("<@{}> <@{}> secret plans", admin.id, owner.id);
    api.post_text(member, &team.private_id, &secret).await;
    settle(&api, &team).await;

    let notes = received(&api, member).await;
    assert_eq!(gists(&notes), [expect("mention", &public, owner)]);
    let preview = format!(
        "hello <@{}>, <@{}> and <@{}> second line",
        member.id, outsider.id, owner.id
    );
    assert_eq!(
        notes[0],
        json!({
            "id": notes[0]["id"], "kind": "mention", "workspace_id": team.workspace_id,
            "channel_id": team.public_id, "message_id": public["id"], "task_id": null,
            "card_id": null, "actor_id": owner.id, "preview": preview, "read": false,
            "created_at": public["created_at"],
        })
    );
    assert!(received(&api, owner).await.is_empty());
    assert!(received(&api, admin).await.is_empty());
    assert!(received(&api, outsider).await.is_empty());
    assert_eq!(api.unread_count(member).await, 1);
    assert_eq!(api.unread_count(owner).await, 0);
    assert_eq!(api.unread_count(outsider).await, 0);
    // The admin's unread notifications are the two markers.
    assert_eq!(api.unread_count(admin).await, 2);
}

#[tokio::test]
async fn a_dm_notifies_its_other_members_and_a_mention_wins() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, admin, member) = (&team.owner, &team.admin, &team.member);
    let dm = api
        .open_dm(owner, &team.workspace_id, &[admin, member])
        .await;
    let dm_id = id_of(&dm);
    let hello = api.post_text(owner, dm_id, "hello you two").await;
    let look = format!("<@{}> look at this", owner.id);
    let answer = api.post_text(member, dm_id, &look).await;
    settle(&api, &team).await;

    assert_eq!(
        gists(&received(&api, owner).await),
        [expect("mention", &answer, member)]
    );
    assert_eq!(
        gists(&received(&api, admin).await),
        [expect("dm", &answer, member), expect("dm", &hello, owner)]
    );
    assert_eq!(
        gists(&received(&api, member).await),
        [expect("dm", &hello, owner)]
    );
    assert!(received(&api, &team.outsider).await.is_empty());
}

#[tokio::test]
async fn a_reply_notifies_the_starter_and_the_earlier_repliers() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, admin, member) = (&team.owner, &team.admin, &team.member);
    let public = team.public_id.as_str();
    api.join(admin, public).await;
    api.join(member, public).await;
    let top = api.post_text(owner, public, "a thread starts").await;
    // Each step waits for the last, so "earlier" is unambiguous.
    let first = reply(&api, admin, public, &top, "first reply").await;
    arrives(&api, owner, &first).await;
    let second = reply(&api, member, public, &top, "second reply").await;
    arrives(&api, admin, &second).await;
    let third = reply(&api, owner, public, &top, "the starter answers").await;
    arrives(&api, member, &third).await;
    let text = format!("<@{}> over to you", member.id);
    let fourth = reply(&api, admin, public, &top, &text).await;
    // A top-level message notifies nobody at the default level.
    api.post_text(admin, public, "unrelated news").await;
    // The marker of `settle` is in another channel, whose records may be handled before
    // the fourth reply's: wait for the fourth reply's notifications themselves too.
    arrives(&api, owner, &fourth).await;
    arrives(&api, member, &fourth).await;
    settle(&api, &team).await;

    assert_eq!(
        gists(&received(&api, owner).await),
        [
            expect("reply", &fourth, admin),
            expect("reply", &second, member),
            expect("reply", &first, admin),
        ]
    );
    assert_eq!(
        gists(&received(&api, admin).await),
        [
            expect("reply", &third, owner),
            expect("reply", &second, member)
        ]
    );
    assert_eq!(
        gists(&received(&api, member).await),
        [
            expect("mention", &fourth, admin),
            expect("reply", &third, owner)
        ]
    );
}

#[tokio::test]
async fn people_who_left_or_were_removed_hear_nothing_more() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, admin, member) = (&team.owner, &team.admin, &team.member);
    let private = team.private_id.as_str();
    api.add_channel_member(member, private, admin).await;
    api.add_channel_member(member, private, owner).await;
    let top = api.post_text(owner, private, "private thread").await;
    let first = reply(&api, admin, private, &top, "admin was here").await;
    arrives(&api, owner, &first).await;
    // Left the private channel: no reply of their thread, no mention reaches them.
    api.leave(admin, private).await;
    let second = reply(&api, member, private, &top, "member replies later").await;
    let mention = format!("<@{}> are you still there?", admin.id);
    api.post_text(member, private, &mention).await;

    // Level `all`, then left a public channel: nothing once out.
    let public = team.public_id.as_str();
    api.join(member, public).await;
    api.set_notification_level(member, public, "all").await;
    let listened = api.post_text(owner, public, "while you listen").await;
    arrives(&api, member, &listened).await;
    api.leave(member, public).await;
    api.post_text(owner, public, "after you left").await;

    // Removed from the workspace: neither their DM nor a mention reaches them.
    let dm = api.open_dm(owner, &team.workspace_id, &[member]).await;
    settle(&api, &team).await;
    api.remove_from_workspace(owner, &team.workspace_id, member)
        .await;
    api.post_text(owner, id_of(&dm), "still there?").await;
    let gone = format!("<@{}> gone?", member.id);
    api.post_text(owner, public, &gone).await;
    settle(&api, &team).await;

    assert_eq!(
        gists(&received(&api, owner).await),
        [
            expect("reply", &second, member),
            expect("reply", &first, admin)
        ]
    );
    assert!(received(&api, admin).await.is_empty());
    assert_eq!(
        gists(&received(&api, member).await),
        [expect("message", &listened, owner)]
    );
}

#[tokio::test]
async fn levels_decide_what_reaches_a_member() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, member) = (&team.owner, &team.member);
    let public = team.public_id.as_str();
    api.join(member, public).await;
    let level_of = |channel: &str| {
        let (api, channel) = (&api, channel.to_owned());
        async move { api.get_channel(member, &channel).await["notification_level"].clone() }
    };
    assert_eq!(level_of(public).await, "mentions");
    api.post_text(owner, public, "plain, at mentions").await;
    settle(&api, &team).await;

    api.set_notification_level(member, public, "all").await;
    assert_eq!(level_of(public).await, "all");
    let plain = api.post_text(owner, public, "plain, at all").await;
    let named = format!("<@{}> named, at all", member.id);
    let named = api.post_text(owner, public, &named).await;
    let thread = api.post_text(member, public, "the member's thread").await;
    settle(&api, &team).await;

    api.set_notification_level(member, public, "none").await;
    let muted = format!("<@{}> named, muted", member.id);
    api.post_text(owner, public, &muted).await;
    reply(&api, owner, public, &thread, "a reply, muted").await;
    api.post_text(owner, public, "plain, muted").await;
    settle(&api, &team).await;

    api.set_notification_level(member, public, "mentions").await;
    let answered = reply(&api, owner, public, &thread, "a reply, at mentions").await;
    api.post_text(owner, public, "plain, at mentions again")
        .await;

    // A DM starts at `all`.
    let dm = api.open_dm(owner, &team.workspace_id, &[member]).await;
    let dm_id = id_of(&dm);
    assert_eq!(level_of(dm_id).await, "all");
    let direct = api.post_text(owner, dm_id, "a DM, at all").await;
    settle(&api, &team).await;
    api.set_notification_level(member, dm_id, "mentions").await;
    api.post_text(owner, dm_id, "a DM, at mentions").await;
    let dm_named = format!("<@{}> a DM mention", member.id);
    let dm_named = api.post_text(owner, dm_id, &dm_named).await;
    settle(&api, &team).await;
    api.set_notification_level(member, dm_id, "none").await;
    let dm_muted = format!("<@{}> a DM mention, muted", member.id);
    api.post_text(owner, dm_id, &dm_muted).await;
    settle(&api, &team).await;

    assert_eq!(
        gists(&received(&api, member).await),
        [
            expect("mention", &dm_named, owner),
            expect("dm", &direct, owner),
            expect("reply", &answered, owner),
            expect("mention", &named, owner),
            expect("message", &plain, owner),
        ]
    );
    // The channel list shows each channel's level (the default where none was set).
    let listed = api
        .must(
            Method::GET,
            &format!("/v1/workspaces/{}/channels", team.workspace_id),
            member,
            None,
            StatusCode::OK,
        )
        .await;
    let level_in_list = |id: &str| {
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["notification_level"].clone())
            .unwrap_or_else(|| panic!("{id} is not listed: {listed}"))
    };
    assert_eq!(level_in_list(public), "mentions");
    assert_eq!(level_in_list(dm_id), "none");
    assert_eq!(level_in_list(&team.general_id), "mentions");
    assert_eq!(level_in_list(&team.private_id), "mentions");
    assert_eq!(level_of(dm_id).await, "none");
}

#[tokio::test]
async fn an_assignment_notifies_the_new_assignee_unless_they_assigned_themselves() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, admin, member) = (&team.owner, &team.admin, &team.member);
    let wid = team.workspace_id.as_str();
    let todo = api
        .create_channel(owner, wid, json!({"name": "todo", "kind": "todo"}))
        .await;
    let todo = id_of(&todo);
    api.add_channel_member(owner, todo, admin).await;
    api.add_channel_member(owner, todo, member).await;

    let report = api
        .create_task(
            owner,
            todo,
            json!({"title": "Write the report", "assignee_id": member.id}),
        )
        .await;
    let own = api
        .create_task(
            owner,
            todo,
            json!({"title": "Mine", "assignee_id": owner.id}),
        )
        .await;
    let note = arrives(&api, member, &report).await;
    assert_eq!(
        note,
        json!({
            "id": note["id"], "kind": "assigned", "workspace_id": wid, "channel_id": todo,
            "message_id": null, "task_id": report["id"], "card_id": null,
            "actor_id": owner.id, "preview": "Write the report", "read": false,
            "created_at": note["created_at"],
        })
    );
    // Another change with the same assignee is not a new assignment.
    let report_id = id_of(&report);
    api.patch_task(
        owner,
        todo,
        report_id,
        json!({"title": "Write the full report"}),
    )
    .await;
    api.patch_task(owner, todo, report_id, json!({"assignee_id": admin.id}))
        .await;
    let own_id = id_of(&own);
    api.patch_task(member, todo, own_id, json!({"assignee_id": member.id}))
        .await;
    api.patch_task(member, todo, own_id, json!({"assignee_id": owner.id}))
        .await;

    let board = api
        .create_channel(owner, wid, json!({"name": "board", "kind": "kanban"}))
        .await;
    let board = id_of(&board);
    api.add_channel_member(owner, board, member).await;
    let columns = api.board(owner, board).await;
    let (first, second) = (
        id_of(&columns["columns"][0]).to_owned(),
        id_of(&columns["columns"][1]).to_owned(),
    );
    let card = api
        .create_card(
            owner,
            board,
            &first,
            json!({"title": "Card one", "assignee_id": member.id}),
        )
        .await;
    api.must_post(
        &format!("/v1/channels/{board}/cards/{}/move", id_of(&card)),
        owner,
        json!({"column_id": second}),
        StatusCode::OK,
    )
    .await;
    let mine = api
        .create_card(
            member,
            board,
            &first,
            json!({"title": "Card two", "assignee_id": member.id}),
        )
        .await;
    api.patch_card(
        member,
        board,
        id_of(&mine),
        json!({"assignee_id": owner.id}),
    )
    .await;

    // A muted channel hears of no assignment either.
    settle(&api, &team).await;
    api.set_notification_level(admin, todo, "none").await;
    api.create_task(
        owner,
        todo,
        json!({"title": "Muted", "assignee_id": admin.id}),
    )
    .await;
    settle(&api, &team).await;

    assert_eq!(
        gists(&received(&api, member).await),
        [
            expect("assigned", &card, owner),
            expect("assigned", &report, owner)
        ]
    );
    let admin_notes = received(&api, admin).await;
    assert_eq!(gists(&admin_notes), [expect("assigned", &report, owner)]);
    assert_eq!(admin_notes[0]["preview"], "Write the full report");
    assert_eq!(
        gists(&received(&api, owner).await),
        [
            expect("assigned", &mine, member),
            expect("assigned", &own, member)
        ]
    );
    let card_note = &received(&api, member).await[0];
    assert_eq!(card_note["card_id"], card["id"]);
    assert_eq!(card_note["task_id"], Value::Null);
    assert_eq!(card_note["channel_id"], board);
    assert_eq!(card_note["preview"], "Card one");
}

// ---- replays, poison records, expiry -----------------------------------------------------

#[tokio::test]
async fn a_replayed_record_notifies_nobody_twice() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let state = app_state().await;
    let team = api.fresh_team().await;
    let (owner, admin, member) = (&team.owner, &team.admin, &team.member);
    let named = format!("<@{}> replay me", member.id);
    let mention = api.post_text(owner, &team.public_id, &named).await;
    let dm = api
        .open_dm(owner, &team.workspace_id, &[admin, member])
        .await;
    let direct = api.post_text(owner, id_of(&dm), "a DM to replay").await;
    let todo = api
        .create_channel(
            owner,
            &team.workspace_id,
            json!({"name": "todo", "kind": "todo"}),
        )
        .await;
    let todo = id_of(&todo);
    api.add_channel_member(owner, todo, member).await;
    let task = api
        .create_task(
            owner,
            todo,
            json!({"title": "Replayed", "assignee_id": member.id}),
        )
        .await;
    arrives(&api, member, &task).await;
    arrives(&api, admin, &direct).await;
    // DynamoDB Local can show a transaction's notification before its counter.
    eventually("the member's three notifications counted", || async {
        api.unread_count(member).await == 3
    })
    .await;
    let before = (
        received(&api, member).await,
        received(&api, admin).await,
        api.unread_count(member).await,
        api.unread_count(admin).await,
    );
    assert_eq!(before.0.len(), 3);
    assert_eq!(before.2, 3);

    let task_key = keys::task(typed(todo), typed(id_of(&task)));
    let changes = [
        insert_of(&raw, "replayed-mention", &message_key(&mention)).await,
        insert_of(&raw, "replayed-dm", &message_key(&direct)).await,
        insert_of(&raw, "replayed-task", &task_key).await,
    ];
    for _ in 0..2 {
        let failed = huddle_notifier::consume(&state, &changes).await;
        assert!(failed.is_empty(), "{failed:?}");
        let after = (
            received(&api, member).await,
            received(&api, admin).await,
            api.unread_count(member).await,
            api.unread_count(admin).await,
        );
        assert_eq!(after, before);
    }
}

#[tokio::test]
async fn a_replayed_reply_notifies_nobody_who_replied_after_it() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let state = app_state().await;
    let team = api.fresh_team().await;
    let (owner, admin, member) = (&team.owner, &team.admin, &team.member);
    let public = team.public_id.as_str();
    api.join(admin, public).await;
    api.join(member, public).await;
    let top = api.post_text(owner, public, "a thread").await;
    let first = reply(&api, admin, public, &top, "early reply").await;
    arrives(&api, owner, &first).await;
    let later = reply(&api, member, public, &top, "later reply").await;
    arrives(&api, admin, &later).await;
    settle(&api, &team).await;
    assert!(received(&api, member).await.is_empty());

    // The stream delivers the first reply's record again (a retried batch): the member,
    // who replied after it, was not a replier when it was written.
    let change = insert_of(&raw, "replayed-reply", &message_key(&first)).await;
    assert!(huddle_notifier::consume(&state, &[change]).await.is_empty());
    assert_eq!(
        gists(&received(&api, member).await),
        [],
        "a replayed reply notified a later replier"
    );
    assert_eq!(api.unread_count(member).await, 0);
}

#[tokio::test]
async fn a_poison_record_is_reported_alone_and_the_rest_of_the_batch_is_handled() {
    let api = Api::new();
    let state = app_state().await;
    let team = api.fresh_team().await;
    let (channel, workspace): (ChannelId, WorkspaceId) =
        (typed(&team.public_id), typed(&team.workspace_id));
    let (owner, member): (UserId, UserId) = (typed(&team.owner.id), typed(&team.member.id));
    let good_id = MessageId::generate();
    let mut good = message_image(
        channel,
        good_id,
        workspace,
        owner,
        json!(format!("<@{member}> next to poison")),
    );
    good.insert(
        "mentions".into(),
        serde_dynamo::to_attribute_value(vec![member.to_string()]).unwrap(),
    );
    let poison = message_image(channel, MessageId::generate(), workspace, owner, json!(7));
    let changes = [
        stream_change("poison", ChangeKind::Insert, None, Some(poison), false),
        stream_change("good", ChangeKind::Insert, None, Some(good), false),
        stream_change(
            "ticket",
            ChangeKind::Remove,
            Some(ticket_image()),
            None,
            true,
        ),
    ];
    assert_eq!(huddle_notifier::consume(&state, &changes).await, ["poison"]);
    let notes = received(&api, &team.member).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["message_id"], good_id.to_string());
    assert_eq!(notes[0]["kind"], "mention");
}

#[tokio::test]
async fn an_expired_unread_notification_gives_its_count_back_once() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let state = app_state().await;
    let team = api.fresh_team().await;
    let (owner, member) = (&team.owner, &team.member);
    let first = format!("<@{}> will expire unread", member.id);
    let first = api.post_text(owner, &team.public_id, &first).await;
    let second = format!("<@{}> will expire read", member.id);
    let second = api.post_text(owner, &team.public_id, &second).await;
    let unread = arrives(&api, member, &first).await;
    let read = arrives(&api, member, &second).await;
    api.read_notification(member, id_of(&read)).await;
    assert_eq!(api.unread_count(member).await, 1);

    let user: UserId = typed(&member.id);
    let expired = |note: &Value, id: &str| {
        let key = keys::notification(user, typed::<NotificationId>(id_of(note)));
        let (raw, id) = (&raw, id.to_owned());
        async move {
            let image = raw.image(&key).await.expect("the notification");
            stream_change(&id, ChangeKind::Remove, Some(image), None, true)
        }
    };
    let unread_gone = expired(&unread, "ttl-unread").await;
    let read_gone = expired(&read, "ttl-read").await;
    for _ in 0..2 {
        let failed = huddle_notifier::consume(&state, std::slice::from_ref(&unread_gone)).await;
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(api.unread_count(member).await, 0);
    }
    // A read notification expiring changes nothing.
    let failed = huddle_notifier::consume(&state, &[read_gone]).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(api.unread_count(member).await, 0);
}

// ---- reading ---------------------------------------------------------------------------

#[tokio::test]
async fn reading_one_or_all_keeps_the_count_exact() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, member) = (&team.owner, &team.member);
    let mut messages = Vec::new();
    for n in 1..=3 {
        let text = format!("<@{}> number {n}", member.id);
        messages.push(api.post_text(owner, &team.public_id, &text).await);
    }
    arrives(&api, member, &messages[2]).await;
    let notes = received(&api, member).await;
    let sources: Vec<&str> = notes
        .iter()
        .map(|n| n["message_id"].as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = messages.iter().rev().map(id_of).collect();
    assert_eq!(sources, newest_first);
    assert_eq!(api.unread_count(member).await, 3);

    let middle = id_of(&notes[1]);
    api.read_notification(member, middle).await;
    assert_eq!(api.unread_count(member).await, 2);
    // Reading it again is fine and counts nothing.
    api.read_notification(member, middle).await;
    assert_eq!(api.unread_count(member).await, 2);
    let reads: Vec<bool> = received(&api, member)
        .await
        .iter()
        .map(|n| n["read"].as_bool().unwrap())
        .collect();
    assert_eq!(reads, [false, true, false]);
    let unread: Vec<String> = api
        .notifications(member, "unread_only=true")
        .await
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(unread, [id_of(&notes[0]), id_of(&notes[2])]);

    // Someone else's notification, an unknown one and a malformed id.
    let path = |id: &str| format!("/v1/notifications/{id}/read");
    let elsewhere = api.post(&path(middle), owner.token(), json!({})).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "{:?}",
        elsewhere.body
    );
    let unknown = NotificationId::generate().to_string();
    let unknown = api.post(&path(&unknown), member.token(), json!({})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = api
        .post(&path("not-an-id"), member.token(), json!({}))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let anonymous = api.post(&path(middle), None, json!({})).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.unread_count(member).await, 2);

    api.read_all_notifications(member).await;
    assert_eq!(api.unread_count(member).await, 0);
    assert!(
        api.notifications(member, "unread_only=true")
            .await
            .is_empty()
    );
    assert!(
        received(&api, member)
            .await
            .iter()
            .all(|n| n["read"] == true)
    );
    api.read_all_notifications(member).await;
    assert_eq!(api.unread_count(member).await, 0);
    // The counter goes on from there.
    let text = format!("<@{}> number 4", member.id);
    let fourth = api.post_text(owner, &team.public_id, &text).await;
    arrives(&api, member, &fourth).await;
    assert_eq!(api.unread_count(member).await, 1);
}

#[tokio::test]
async fn concurrent_reads_count_each_notification_once() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, member) = (&team.owner, &team.member);
    let mut messages = Vec::new();
    for n in 1..=4 {
        let text = format!("<@{}> concurrent {n}", member.id);
        messages.push(api.post_text(owner, &team.public_id, &text).await);
    }
    arrives(&api, member, &messages[3]).await;
    assert_eq!(api.unread_count(member).await, 4);
    let notes = received(&api, member).await;
    let path = |n: &Value| format!("/v1/notifications/{}/read", id_of(n));

    // Ten reads of the same notification at once: it counts off once.
    let same = path(&notes[0]);
    let replies = join_all((0..10).map(|_| api.post(&same, member.token(), json!({})))).await;
    assert_eq!(count_status(&replies, StatusCode::NO_CONTENT), 10);
    assert_eq!(api.unread_count(member).await, 3);

    // Single reads racing read-all: each of the rest counts off once.
    let (one, two) = (path(&notes[1]), path(&notes[2]));
    let racing = [
        api.post(&one, member.token(), json!({})),
        api.post("/v1/notifications/read-all", member.token(), json!({})),
        api.post(&two, member.token(), json!({})),
        api.post("/v1/notifications/read-all", member.token(), json!({})),
        api.post(&one, member.token(), json!({})),
    ];
    let replies = join_all(racing).await;
    assert_eq!(count_status(&replies, StatusCode::NO_CONTENT), 5);
    assert_eq!(api.unread_count(member).await, 0);
    assert!(
        api.notifications(member, "unread_only=true")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_list_filters_by_workspace_and_pages_newest_first() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, member) = (&team.owner, &team.member);
    let other = api.workspace_with(owner, &[member]).await;
    let other_id = id_of(&other);
    let here = format!("<@{}> in the team", member.id);
    let here = api.post_text(owner, &team.public_id, &here).await;
    let there = format!("<@{}> in the other workspace", member.id);
    let general = other["general_channel_id"].as_str().unwrap();
    let there = api.post_text(owner, general, &there).await;
    arrives(&api, member, &there).await;
    arrives(&api, member, &here).await;

    let sources = |notes: Vec<Value>| -> Vec<String> {
        notes
            .iter()
            .map(|n| n["message_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let query = format!("workspace_id={other_id}");
    assert_eq!(
        sources(api.notifications(member, &query).await),
        [id_of(&there)]
    );
    let query = format!("workspace_id={}", team.workspace_id);
    assert_eq!(
        sources(api.notifications(member, &query).await),
        [id_of(&here)]
    );
    // One at a time, newest first.
    let walked = api.walk("/v1/notifications", member.token(), 1).await;
    assert_eq!(sources(walked), [id_of(&there), id_of(&here)]);

    for bad in [
        "unread_only=yes",
        "unread_only=1",
        "workspace_id=not-a-workspace",
        "limit=0",
        "limit=101",
        "cursor=not-a-cursor",
    ] {
        let reply = api
            .get(&format!("/v1/notifications?{bad}"), member.token())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {:?}",
            reply.body
        );
    }
    for path in ["/v1/notifications", "/v1/notifications/unread-count"] {
        assert_eq!(api.get(path, None).await.status, StatusCode::UNAUTHORIZED);
    }
    let read_all = api
        .post("/v1/notifications/read-all", None, json!({}))
        .await;
    assert_eq!(read_all.status, StatusCode::UNAUTHORIZED);
}

// ---- levels: the route ---------------------------------------------------------------------

#[tokio::test]
async fn setting_a_level_is_for_channel_members_and_checks_the_level() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, admin, member, outsider) = (&team.owner, &team.admin, &team.member, &team.outsider);
    let path = |channel: &str| format!("/v1/channels/{channel}/notification-level");
    let put = |user: Option<&TestUser>, channel: &str, body: Value| {
        api.put(&path(channel), user.and_then(TestUser::token), body)
    };
    for body in [
        json!({"level": "loud"}),
        json!({"level": null}),
        json!({"level": "All"}),
        json!({}),
        json!({"level": "all", "extra": true}),
        json!("all"),
    ] {
        let reply = put(Some(owner), &team.public_id, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            reply.body
        );
        assert_eq!(reply.error_code(), "invalid_request");
    }
    let all = || json!({"level": "all"});
    // A workspace member outside a public channel sees it but has no level there.
    let outside = put(Some(member), &team.public_id, all()).await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN, "{:?}", outside.body);
    assert_eq!(
        api.get_channel(member, &team.public_id).await["notification_level"],
        "mentions"
    );
    for (user, channel, expected) in [
        (Some(outsider), &team.public_id, StatusCode::NOT_FOUND),
        (Some(admin), &team.private_id, StatusCode::NOT_FOUND),
        (None, &team.public_id, StatusCode::UNAUTHORIZED),
    ] {
        let reply = put(user, channel, all()).await;
        assert_eq!(reply.status, expected, "{:?}", reply.body);
    }
    let unknown = ChannelId::generate().to_string();
    assert_eq!(
        put(Some(owner), &unknown, all()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put(Some(owner), "not-a-channel", all()).await.status,
        StatusCode::BAD_REQUEST
    );

    api.set_notification_level(member, &team.private_id, "none")
        .await;
    assert_eq!(
        api.get_channel(member, &team.private_id).await["notification_level"],
        "none"
    );
    // Someone else's level is their own.
    api.set_notification_level(owner, &team.general_id, "all")
        .await;
    assert_eq!(
        api.get_channel(owner, &team.general_id).await["notification_level"],
        "all"
    );
    assert_eq!(
        api.get_channel(member, &team.general_id).await["notification_level"],
        "mentions"
    );
}

// ---- the push -----------------------------------------------------------------------------

#[tokio::test]
async fn notification_created_reaches_every_socket_of_the_recipient_only() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, member) = (&team.owner, &team.member);
    // Sockets need no subscription for their user's events.
    let mut first = connect(&api, member).await;
    let mut second = connect(&api, member).await;
    let mut owners = connect(&api, owner).await;
    let text = format!("<@{}> ping your sockets", member.id);
    let message = api.post_text(owner, &team.public_id, &text).await;
    let note = arrives(&api, member, &message).await;
    for socket in [&mut first, &mut second] {
        let frame = next_of(socket, "notification.created").await;
        assert_eq!(frame["data"], note);
        assert_eq!(frame["channel_id"], team.public_id);
    }
    // The owner's own message pushed them nothing: their first notification is the next
    // one meant for them.
    let back = format!("<@{}> back to you", owner.id);
    let back = api.post_text(member, &team.general_id, &back).await;
    let frame = next_of(&mut owners, "notification.created").await;
    assert_eq!(frame["data"]["message_id"], back["id"]);
    assert_eq!(frame["data"]["kind"], "mention");
}
