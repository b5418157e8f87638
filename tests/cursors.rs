//! Cursors against the real local stack: every list route takes back its own cursors and
//! answers anything else (key-shaped JSON, altered, truncated, another list's) with 400
//! `invalid_request`, never a 5xx; cursors show nothing of the keys behind them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::keys::{self, Partition};
use huddle_tests::{
    Api, People, Reply, column_cards_path, cursor_reveals, forged_cursors, my_work_path,
    tasks_path, text, typed,
};
use reqwest::StatusCode;
use serde_json::json;

/// A list route holding at least two items, so that a page of one has a cursor.
struct List {
    name: &'static str,
    path: String,
    /// The partition the list reads (what a raw start key for it would name).
    partition: Partition,
    cursor: String,
}

fn assert_refused(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{what}: {:?}",
        reply.body
    );
    assert_eq!(reply.error_code(), "invalid_request", "{what}");
}

#[tokio::test]
async fn every_list_route_refuses_cursors_it_did_not_issue() {
    let api = Api::new();
    let team = api.team(&People::register(&api).await).await;
    let owner = &team.owner;
    let (wid, general, public) = (&team.workspace_id, &team.general_id, &team.public_id);

    // Two or more items in every list the owner can read.
    api.create_workspace(owner, "Second").await;
    for _ in 0..2 {
        api.create_invite(owner, wid, json!({})).await;
    }
    let mut top = Vec::new();
    for channel in [general, general, public, public] {
        let sent = api
            .send_message(owner, channel, json!({"content": "a message"}))
            .await;
        top.push(sent["id"].as_str().unwrap().to_owned());
    }
    let first = &top[0];
    for (i, content) in ["edited once", "edited twice"].iter().enumerate() {
        let edited = api
            .patch(
                &format!("/v1/channels/{general}/messages/{first}"),
                owner.token(),
                json!({"content": content}),
            )
            .await;
        assert_eq!(edited.status, StatusCode::OK, "edit {i}");
    }
    for _ in 0..2 {
        api.send_message(
            owner,
            general,
            json!({"content": "reply", "parent_id": first}),
        )
        .await;
    }
    for message in &top[..2] {
        api.pin(owner, general, message).await;
    }

    // Tasks (open and done), a column's cards, and my work.
    let todo = api
        .create_channel(owner, wid, json!({"name": "todo", "kind": "todo"}))
        .await;
    let todo = text(&todo["id"]);
    for i in 0..4 {
        let task = api
            .create_task(
                owner,
                &todo,
                json!({"title": format!("t{i}"), "assignee_id": owner.id}),
            )
            .await;
        if i >= 2 {
            api.complete_task(owner, &todo, &text(&task["id"])).await;
        }
    }
    let kanban = api
        .create_channel(owner, wid, json!({"name": "board", "kind": "kanban"}))
        .await;
    let kanban = text(&kanban["id"]);
    let column = text(&api.board(owner, &kanban).await["columns"][0]["id"]);
    for i in 0..2 {
        api.create_card(owner, &kanban, &column, json!({"title": format!("c{i}")}))
            .await;
    }

    let routes = [
        (
            "tasks",
            tasks_path(&todo),
            keys::channel_tasks(typed(&todo), false),
        ),
        (
            "done tasks",
            format!("{}?status=done", tasks_path(&todo)),
            keys::channel_tasks(typed(&todo), true),
        ),
        (
            "column cards",
            column_cards_path(&kanban, &column),
            keys::column_cards(typed(&column)),
        ),
        (
            "my work",
            my_work_path(wid, "open"),
            keys::my_work(typed(wid), typed(&owner.id), Some(false)),
        ),
        (
            "workspaces",
            "/v1/workspaces".to_owned(),
            keys::user_workspaces(typed(&owner.id)),
        ),
        (
            "workspace members",
            format!("/v1/workspaces/{wid}/members"),
            keys::workspace_members(typed(wid)),
        ),
        (
            "invites",
            format!("/v1/workspaces/{wid}/invites"),
            keys::workspace_invites(typed(wid)),
        ),
        (
            "channels",
            format!("/v1/workspaces/{wid}/channels"),
            keys::workspace_channels(typed(wid)),
        ),
        (
            "channel members",
            format!("/v1/channels/{general}/members"),
            keys::channel_members(typed(general)),
        ),
        (
            "messages",
            format!("/v1/channels/{general}/messages"),
            keys::channel_messages(typed(general)),
        ),
        (
            "another channel's messages",
            format!("/v1/channels/{public}/messages"),
            keys::channel_messages(typed(public)),
        ),
        (
            "history",
            format!("/v1/channels/{general}/messages/{first}/history"),
            keys::message_versions(typed(general), typed(first)),
        ),
        (
            "replies",
            format!("/v1/channels/{general}/messages/{first}/replies"),
            keys::thread_replies(typed(general), typed(first)),
        ),
        (
            "pins",
            format!("/v1/channels/{general}/pins"),
            keys::channel_pins(typed(general)),
        ),
    ];
    let mut lists = Vec::new();
    for (name, path, partition) in routes {
        let page = api.page(&path, owner.token(), 1, None).await;
        assert_eq!(page.status, StatusCode::OK, "{name}: {:?}", page.body);
        let cursor = page.body["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no cursor on a page of one"))
            .to_owned();
        // Its own cursor continues the list.
        let next = api.page(&path, owner.token(), 1, Some(&cursor)).await;
        assert_eq!(next.status, StatusCode::OK, "{name}: {:?}", next.body);
        assert_eq!(next.body["items"].as_array().unwrap().len(), 1, "{name}");
        // Nothing of the key shows through: no partition, no id.
        let shown = cursor_reveals(&cursor);
        for secret in [
            partition.pk.as_str(),
            wid.as_str(),
            general.as_str(),
            first.as_str(),
            owner.id.as_str(),
            todo.as_str(),
            column.as_str(),
        ] {
            assert!(!shown.contains(secret), "{name}: the cursor shows {secret}");
        }
        lists.push(List {
            name,
            path,
            partition,
            cursor,
        });
    }
    // Presence pages through the workspace's members too (leaving out who is offline, here
    // everyone): the members list's cursor is one of its own.
    let members = lists
        .iter()
        .find(|l| l.name == "workspace members")
        .unwrap();
    let presence = List {
        name: "presence",
        path: format!("/v1/workspaces/{wid}/presence"),
        partition: members.partition.clone(),
        cursor: members.cursor.clone(),
    };
    let reply = api
        .page(&presence.path, owner.token(), 1, Some(&presence.cursor))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "presence: {:?}", reply.body);
    lists.push(presence);

    for list in &lists {
        for forged in forged_cursors(&list.partition, &list.cursor) {
            let reply = api.page(&list.path, owner.token(), 1, Some(&forged)).await;
            assert_refused(&reply, &format!("{}: {forged}", list.name));
        }
        for other in &lists {
            // The members and presence routes page through the same list of members.
            if list.partition == other.partition {
                continue;
            }
            let reply = api
                .page(&list.path, owner.token(), 1, Some(&other.cursor))
                .await;
            assert_refused(
                &reply,
                &format!("{} with a cursor of {}", list.name, other.name),
            );
        }
    }

    // A message cursor outside the range `before`/`after` narrow the list to is refused;
    // inside it, it continues.
    let messages = lists.iter().find(|l| l.name == "messages").unwrap();
    let (older, newer) = if top[0] < top[1] {
        (&top[0], &top[1])
    } else {
        (&top[1], &top[0])
    };
    for (query, accepted) in [
        (format!("before={older}"), false),
        (format!("after={newer}"), false),
        ("after=00000000000000000000000000".to_owned(), true),
    ] {
        let path = format!("{}?{query}", messages.path);
        let reply = api
            .page(&path, owner.token(), 1, Some(&messages.cursor))
            .await;
        if accepted {
            assert_eq!(reply.status, StatusCode::OK, "{query}: {:?}", reply.body);
        } else {
            assert_refused(&reply, &query);
        }
    }
}
