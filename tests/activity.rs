//! The workspace activity log through the real stream: each kind with its actor and
//! target, what is not activity (DMs, deleting one's own message, clean-up after a deleted
//! channel), who may read it, the actor filter, paging, newest first, and a record
//! delivered twice writing one entry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::keys;
use huddle_shared::stream::ChangeKind;
use huddle_tests::uploads::upload_file;
use huddle_tests::{Api, People, RawTable, TestUser, app_state, eventually, stream_change, typed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// An entry in short: kind, actor, target type and target id.
type Gist = (String, String, String, String);

fn gist(entry: &Value) -> Gist {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    (
        text(&entry["kind"]),
        text(&entry["actor_id"]),
        text(&entry["target"]["type"]),
        text(&entry["target"]["id"]),
    )
}

fn entry(kind: &str, actor: &TestUser, target: &str, id: &str) -> Gist {
    (kind.into(), actor.id.clone(), target.into(), id.into())
}

fn id_of(body: &Value) -> &str {
    body["id"].as_str().unwrap()
}

/// The log's entries about `targets`, newest first.
async fn about(api: &Api, reader: &TestUser, workspace_id: &str, targets: &[&str]) -> Vec<Value> {
    api.activity(reader, workspace_id, "", 100)
        .await
        .into_iter()
        .filter(|e| targets.iter().any(|t| e["target"]["id"] == *t))
        .collect()
}

/// Waits until the log holds `last` (written after everything the test checks, so every
/// earlier record has been handled by then).
async fn logged(api: &Api, reader: &TestUser, workspace_id: &str, last: &Gist) {
    eventually("the entry reaching the log", move || async move {
        api.activity(reader, workspace_id, "", 100)
            .await
            .iter()
            .any(|e| gist(e) == *last)
    })
    .await;
}

fn sorted(mut gists: Vec<Gist>) -> Vec<Gist> {
    gists.sort();
    gists
}

#[tokio::test]
async fn membership_and_invites_are_logged_with_who_acted() {
    let api = Api::new();
    let people = People::register(&api).await;
    let (owner, admin, member, outsider) = (
        &people.owner,
        &people.admin,
        &people.member,
        &people.outsider,
    );
    let workspace = api.create_workspace(owner, "Logged").await;
    let wid = id_of(&workspace);
    let general = workspace["general_channel_id"].as_str().unwrap();
    api.add_to_workspace(owner, wid, admin, "admin").await;
    api.add_to_workspace(admin, wid, member, "member").await;
    let invite = api.create_invite(admin, wid, json!({})).await;
    let code = invite["code"].as_str().unwrap();
    api.accept_invite(outsider, code).await;
    api.must(
        Method::PATCH,
        &format!("/v1/workspaces/{wid}/members/{}", member.id),
        owner,
        Some(json!({"role": "admin"})),
        StatusCode::OK,
    )
    .await;
    api.remove_from_workspace(member, wid, member).await;
    api.remove_from_workspace(admin, wid, outsider).await;
    let revoked = api.create_invite(owner, wid, json!({})).await;
    let revoked = revoked["code"].as_str().unwrap();
    api.must_delete(&format!("/v1/workspaces/{wid}/invites/{revoked}"), owner)
        .await;

    let expected = vec![
        entry("member.joined", owner, "user", &owner.id),
        entry("channel.created", owner, "channel", general),
        entry("member.joined", owner, "user", &admin.id),
        entry("member.joined", admin, "user", &member.id),
        entry("invite.created", admin, "invite", code),
        entry("member.joined", outsider, "user", &outsider.id),
        entry("invite.accepted", outsider, "invite", code),
        entry("member.role_changed", owner, "user", &member.id),
        entry("member.left", member, "user", &member.id),
        entry("member.removed", admin, "user", &outsider.id),
        entry("invite.created", owner, "invite", revoked),
        entry("invite.revoked", owner, "invite", revoked),
    ];
    logged(&api, owner, wid, expected.last().unwrap()).await;
    let log = api.activity(owner, wid, "", 100).await;
    assert_eq!(
        sorted(log.iter().map(gist).collect()),
        sorted(expected.clone())
    );
    for e in &log {
        let channel = if e["kind"] == "channel.created" {
            json!(general)
        } else {
            Value::Null
        };
        assert_eq!(e["channel_id"], channel, "{e}");
        assert!(!e["summary"].as_str().unwrap().is_empty(), "{e}");
        assert!(
            e["at"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<chrono::Utc>>()
                .is_ok()
        );
        let mut fields: Vec<&String> = e.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "actor_id",
                "at",
                "channel_id",
                "id",
                "kind",
                "summary",
                "target"
            ]
        );
    }
}

#[tokio::test]
async fn the_log_is_newest_first() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, admin) = (&team.owner, &team.admin);
    let wid = team.workspace_id.as_str();
    // One action after another, each answered before the next is sent.
    let mut expected = Vec::new();
    for name in ["first", "second", "third", "fourth", "fifth", "sixth"] {
        let channel = api
            .create_channel(admin, wid, json!({"name": name, "kind": "chat"}))
            .await;
        expected.push(entry("channel.created", admin, "channel", id_of(&channel)));
    }
    let invite = api.create_invite(owner, wid, json!({})).await;
    expected.push(entry(
        "invite.created",
        owner,
        "invite",
        invite["code"].as_str().unwrap(),
    ));
    logged(&api, owner, wid, expected.last().unwrap()).await;
    let log = api.activity(owner, wid, "", 100).await;
    let times: Vec<&str> = log.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut newest_first = times.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, newest_first);
    let latest: Vec<Gist> = log.iter().take(expected.len()).map(gist).collect();
    expected.reverse();
    assert_eq!(
        latest, expected,
        "entries are not in the order their actions happened"
    );
}

#[tokio::test]
async fn channels_messages_and_files_are_logged_but_dms_and_own_messages_are_not() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, admin, member) = (&team.owner, &team.admin, &team.member);
    let wid = team.workspace_id.as_str();
    let general = team.general_id.as_str();
    let ops = api
        .create_channel(admin, wid, json!({"name": "ops", "kind": "chat"}))
        .await;
    let ops = id_of(&ops);
    let ops_path = format!("/v1/channels/{ops}");
    for (by, body) in [
        (owner, json!({"topic": "operations"})),
        (admin, json!({"name": "operations"})),
    ] {
        api.must(Method::PATCH, &ops_path, by, Some(body), StatusCode::OK)
            .await;
    }
    let dm = api.open_dm(member, wid, &[owner]).await;
    let dm = id_of(&dm);
    api.post_text(member, dm, "in a DM").await;

    let theirs = api
        .post_text(member, general, "an admin deletes this")
        .await;
    let mine = api.post_text(owner, general, "I delete this myself").await;
    for (by, message) in [(admin, &theirs), (owner, &mine)] {
        let path = format!("/v1/channels/{general}/messages/{}", id_of(message));
        api.must_delete(&path, by).await;
    }
    let removed = upload_file(&api, member, general, "removed.txt", b"an admin removes it").await;
    let withdrawn = upload_file(&api, member, general, "withdrawn.txt", b"withdrawn").await;
    for (by, file) in [(admin, &removed), (member, &withdrawn)] {
        api.must_delete(&format!("/v1/files/{}", id_of(file)), by)
            .await;
    }
    api.delete_channel(admin, ops).await;

    let (theirs, mine) = (id_of(&theirs), id_of(&mine));
    let (removed, withdrawn) = (id_of(&removed), id_of(&withdrawn));
    let expected = vec![
        entry("channel.deleted", admin, "channel", ops),
        entry("file.deleted", member, "file", withdrawn),
        entry("file.deleted", admin, "file", removed),
        entry("message.deleted", admin, "message", theirs),
        entry("channel.updated", admin, "channel", ops),
        entry("channel.updated", owner, "channel", ops),
        entry("channel.created", admin, "channel", ops),
    ];
    logged(&api, owner, wid, &expected[0]).await;
    let log = about(
        &api,
        owner,
        wid,
        &[ops, dm, theirs, mine, removed, withdrawn],
    )
    .await;
    assert_eq!(
        sorted(log.iter().map(gist).collect()),
        sorted(expected.clone())
    );
    for e in &log {
        let channel = match e["target"]["type"].as_str().unwrap() {
            "channel" => ops,
            _ => general,
        };
        assert_eq!(e["channel_id"], channel, "{e}");
    }
}

#[tokio::test]
async fn tasks_cards_and_columns_are_logged_but_card_counts_are_not() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, member) = (&team.owner, &team.member);
    let wid = team.workspace_id.as_str();
    let todo = api
        .create_channel(owner, wid, json!({"name": "todo", "kind": "todo"}))
        .await;
    let todo = id_of(&todo);
    api.add_channel_member(owner, todo, member).await;
    let task = api
        .create_task(member, todo, json!({"title": "Plan"}))
        .await;
    let task = id_of(&task);
    api.patch_task(owner, todo, task, json!({"title": "Plan more"}))
        .await;
    api.must_post(
        &format!("/v1/channels/{todo}/tasks/{task}/complete"),
        member,
        json!({}),
        StatusCode::OK,
    )
    .await;
    api.must_delete(&format!("/v1/channels/{todo}/tasks/{task}"), owner)
        .await;

    let board = api
        .create_channel(owner, wid, json!({"name": "board", "kind": "kanban"}))
        .await;
    let board = id_of(&board);
    api.add_channel_member(owner, board, member).await;
    let first = api.board(owner, board).await["columns"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let column = api
        .must_post(
            &format!("/v1/channels/{board}/columns"),
            owner,
            json!({"name": "Review"}),
            StatusCode::CREATED,
        )
        .await;
    let column = id_of(&column);
    let card = api
        .create_card(member, board, column, json!({"title": "Card"}))
        .await;
    let card = id_of(&card);
    api.patch_card(owner, board, card, json!({"title": "Card, renamed"}))
        .await;
    api.must_post(
        &format!("/v1/channels/{board}/cards/{card}/move"),
        member,
        json!({"column_id": first}),
        StatusCode::OK,
    )
    .await;
    api.must(
        Method::PATCH,
        &format!("/v1/channels/{board}/columns/{column}"),
        owner,
        Some(json!({"name": "Reviewing"})),
        StatusCode::OK,
    )
    .await;
    api.must_delete(&format!("/v1/channels/{board}/cards/{card}"), owner)
        .await;
    api.must_delete(&format!("/v1/channels/{board}/columns/{column}"), owner)
        .await;

    let expected = vec![
        entry("column.deleted", owner, "column", column),
        entry("card.deleted", owner, "card", card),
        entry("column.updated", owner, "column", column),
        entry("card.updated", member, "card", card),
        entry("card.updated", owner, "card", card),
        entry("card.created", member, "card", card),
        entry("column.created", owner, "column", column),
        // The board's first columns come with the channel, made by its creator.
        entry("column.created", owner, "column", &first),
        entry("task.deleted", owner, "task", task),
        entry("task.updated", member, "task", task),
        entry("task.updated", owner, "task", task),
        entry("task.created", member, "task", task),
    ];
    logged(&api, owner, wid, &expected[0]).await;
    let log = about(&api, owner, wid, &[task, column, card, first.as_str()]).await;
    assert_eq!(
        sorted(log.iter().map(gist).collect()),
        sorted(expected.clone())
    );
    for e in &log {
        let channel = if e["target"]["type"] == "task" {
            todo
        } else {
            board
        };
        assert_eq!(e["channel_id"], channel, "{e}");
    }
}

#[tokio::test]
async fn clean_up_after_a_deleted_channel_is_not_activity() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let team = api.fresh_team().await;
    let owner = &team.owner;
    let wid = team.workspace_id.as_str();
    let todo = api
        .create_channel(owner, wid, json!({"name": "todo", "kind": "todo"}))
        .await;
    let todo = id_of(&todo);
    let task = api
        .create_task(owner, todo, json!({"title": "Doomed"}))
        .await;
    let task = id_of(&task);
    api.delete_channel(owner, todo).await;
    let key = keys::task(typed(todo), typed(task));
    let (raw, key) = (&raw, &key);
    eventually("the clean-up removing the task", move || async move {
        raw.item(key).await.is_none()
    })
    .await;
    // Logged after the clean-up's records.
    let invite = api.create_invite(owner, wid, json!({})).await;
    let code = invite["code"].as_str().unwrap();
    logged(
        &api,
        owner,
        wid,
        &entry("invite.created", owner, "invite", code),
    )
    .await;

    let log = about(&api, owner, wid, &[todo, task]).await;
    assert_eq!(
        sorted(log.iter().map(gist).collect()),
        sorted(vec![
            entry("channel.created", owner, "channel", todo),
            entry("task.created", owner, "task", task),
            entry("channel.deleted", owner, "channel", todo),
        ])
    );
}

#[tokio::test]
async fn only_admins_read_the_log() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let path = format!("/v1/workspaces/{}/activity", team.workspace_id);
    for (user, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(&team.outsider), StatusCode::NOT_FOUND),
        (Some(&team.member), StatusCode::FORBIDDEN),
        (Some(&team.admin), StatusCode::OK),
        (Some(&team.owner), StatusCode::OK),
    ] {
        let reply = api.get(&path, user.and_then(TestUser::token)).await;
        assert_eq!(reply.status, expected, "{user:?}: {:?}", reply.body);
    }
    let unknown = huddle_shared::ids::WorkspaceId::generate();
    let reply = api
        .get(
            &format!("/v1/workspaces/{unknown}/activity"),
            team.owner.token(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    for bad in [
        "actor_id=someone",
        "limit=0",
        "limit=101",
        "cursor=not-a-cursor",
    ] {
        let reply = api.get(&format!("{path}?{bad}"), team.owner.token()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {:?}",
            reply.body
        );
    }
}

#[tokio::test]
async fn the_log_filters_by_actor_and_pages() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let (owner, admin) = (&team.owner, &team.admin);
    let wid = team.workspace_id.as_str();
    for name in ["alpha", "beta", "gamma"] {
        api.create_channel(admin, wid, json!({"name": name, "kind": "chat"}))
            .await;
    }
    let invite = api.create_invite(admin, wid, json!({})).await;
    let last = entry(
        "invite.created",
        admin,
        "invite",
        invite["code"].as_str().unwrap(),
    );
    logged(&api, owner, wid, &last).await;

    let whole = api.activity(owner, wid, "", 100).await;
    let ids = |entries: &[Value]| -> Vec<String> {
        entries
            .iter()
            .map(|e| id_of(e).to_owned())
            .collect::<Vec<_>>()
    };
    let mut descending = ids(&whole);
    descending.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids(&whole), descending);
    assert_eq!(ids(&api.activity(admin, wid, "", 2).await), ids(&whole));

    let query = format!("actor_id={}", admin.id);
    let by_admin = api.activity(owner, wid, &query, 1).await;
    let expected: Vec<Value> = whole
        .iter()
        .filter(|e| e["actor_id"] == admin.id.as_str())
        .cloned()
        .collect();
    assert_eq!(by_admin, expected);
    // The admin's three channels, the invite, and the channels' default member joins
    // are not theirs: exactly the four.
    assert_eq!(by_admin.len(), 4, "{by_admin:#?}");
    let query = format!("actor_id={}", team.outsider.id);
    assert!(api.activity(owner, wid, &query, 10).await.is_empty());
}

#[tokio::test]
async fn a_record_delivered_twice_writes_one_entry() {
    let api = Api::new();
    let raw = RawTable::new().await;
    let state = app_state().await;
    let team = api.fresh_team().await;
    let (owner, admin) = (&team.owner, &team.admin);
    let wid = team.workspace_id.as_str();
    let channel = api
        .create_channel(admin, wid, json!({"name": "twice", "kind": "chat"}))
        .await;
    let cid = id_of(&channel);
    let created = entry("channel.created", admin, "channel", cid);
    logged(&api, owner, wid, &created).await;
    let (api, created) = (&api, &created);
    let count = move || async move {
        about(api, owner, wid, &[cid])
            .await
            .iter()
            .filter(|e| gist(e) == *created)
            .count()
    };
    assert_eq!(count().await, 1);

    let image = raw.image(&keys::channel(typed(cid))).await.unwrap();
    let record = stream_change("redelivered", ChangeKind::Insert, None, Some(image), false);
    for _ in 0..2 {
        let failed = huddle_notifier::consume(&state, std::slice::from_ref(&record)).await;
        assert!(failed.is_empty(), "{failed:?}");
        // The real record's entry and this record's, once.
        assert_eq!(count().await, 2);
    }
}

/// Restoring a document's revision is logged with who restored it; saves are not.
#[tokio::test]
async fn a_document_restore_is_logged() {
    let api = Api::new();
    let team = api.doc_team(&People::register(&api).await).await;
    let (owner, doc) = (&team.team.owner, team.doc_id.as_str());
    let wid = team.team.workspace_id.as_str();
    api.save_document(owner, doc, "first draft", 0).await;
    api.save_document(owner, doc, "second draft", 1).await;
    api.must_post(
        &format!("/v1/channels/{doc}/document/revisions/1/restore"),
        owner,
        json!({}),
        StatusCode::OK,
    )
    .await;
    let restored = entry("document.restored", owner, "document", doc);
    logged(&api, owner, wid, &restored).await;
    let about_doc: Vec<Gist> = about(&api, owner, wid, &[doc])
        .await
        .iter()
        .map(gist)
        .filter(|g| g.0.starts_with("document."))
        .collect();
    assert_eq!(about_doc, vec![restored]);
}
