//! Tasks (channels of kind todo) against the real local stack: the task view and its
//! defaults, validation, field-level PATCH, complete/reopen idempotency, the status and
//! assignee filters, moves (before/after, concurrent moves, many random moves against a
//! model list, the bound on position length), pagination walks, who may do what, the wrong
//! channel kind, and the task events on the WebSocket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use huddle_tests::ws::{connect_subscribed, frames_until};
use huddle_tests::{Api, Team, TestUser, ids, task_path, tasks_path, text, ws::Socket};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The longest position a task may have after the repeated moves below. A position that
/// grows with every move to the same spot (halving one gap) passes this within 200 moves
/// in any base up to 256.
const POSITION_MAX_CHARS: usize = 24;

/// A team with a public todo channel created by the owner and joined by the admin and the
/// member, and a private todo channel of the member's (its only member).
struct Todo {
    team: Team,
    todo: String,
    private_todo: String,
}

async fn todo_team(api: &Api) -> Todo {
    let team = api.fresh_team().await;
    let wid = team.workspace_id.clone();
    let todo = api
        .create_channel(&team.owner, &wid, json!({"name": "todo", "kind": "todo"}))
        .await;
    let todo = text(&todo["id"]);
    let private = api
        .create_channel(
            &team.member,
            &wid,
            json!({"name": "secret-todo", "kind": "todo", "private": true}),
        )
        .await;
    api.join(&team.admin, &todo).await;
    api.join(&team.member, &todo).await;
    Todo {
        private_todo: text(&private["id"]),
        todo,
        team,
    }
}

/// Creates `count` tasks titled `T0`, `T1`, ... as `by`; returns their ids in order.
async fn create_tasks(api: &Api, by: &TestUser, channel: &str, count: usize) -> Vec<String> {
    let mut created = Vec::with_capacity(count);
    for i in 0..count {
        let task = api
            .create_task(by, channel, json!({"title": format!("T{i}")}))
            .await;
        created.push(text(&task["id"]));
    }
    created
}

/// The open tasks' ids in list order, after checking that the list is in a total order:
/// positions never decrease, and two tasks that share a position (two concurrent moves
/// into one gap may draw the same key) are listed by id.
async fn order(api: &Api, user: &TestUser, channel: &str) -> Vec<String> {
    let tasks = api.tasks(user, channel, "open").await;
    assert_total_order(&tasks);
    ids(&tasks)
}

/// Ids as owned strings, to compare with a list of ids.
fn owned(ids: &[&String]) -> Vec<String> {
    ids.iter().map(|id| (*id).clone()).collect()
}

fn position(item: &Value) -> &str {
    item["position"]
        .as_str()
        .unwrap_or_else(|| panic!("position is not a string: {item}"))
}

fn assert_total_order(items: &[Value]) {
    for pair in items.windows(2) {
        let key = |item: &Value| (position(item).to_owned(), text(&item["id"]));
        assert!(
            key(&pair[0]) < key(&pair[1]),
            "listed out of (position, id) order: {} then {}",
            pair[0],
            pair[1]
        );
    }
}

fn move_path(channel: &str, task: &str) -> String {
    format!("{}/move", task_path(channel, task))
}

/// A small deterministic generator (xorshift64), so a failing sequence can be replayed.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % bound as u64).unwrap()
    }
}

#[tokio::test]
async fn a_task_has_the_contract_view_and_its_defaults() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let task = api
        .create_task(&team.member, &todo, json!({"title": "Write the tests"}))
        .await;
    let keys: BTreeSet<&str> = task
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "id",
        "channel_id",
        "title",
        "description",
        "status",
        "priority",
        "assignee_id",
        "due_date",
        "labels",
        "position",
        "created_by",
        "created_at",
        "updated_at",
        "completed_at",
        "completed_by",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected, "{task}");
    assert_eq!(task["channel_id"], todo.as_str());
    assert_eq!(task["title"], "Write the tests");
    assert_eq!(task["description"], Value::Null);
    assert_eq!(task["status"], "open");
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["assignee_id"], Value::Null);
    assert_eq!(task["due_date"], Value::Null);
    assert_eq!(task["labels"], json!([]));
    assert!(task["position"].is_string(), "{task}");
    assert_eq!(task["created_by"], team.member.id.as_str());
    assert!(task["created_at"].is_string());
    assert!(task["updated_at"].is_string());
    assert_eq!(task["completed_at"], Value::Null);
    assert_eq!(task["completed_by"], Value::Null);

    let full = api
        .create_task(
            &team.admin,
            &todo,
            json!({
                "title": "Ship it",
                "description": "all of it",
                "assignee_id": team.member.id,
                "due_date": "2030-02-28",
                "priority": "urgent",
                "labels": ["backend", "release"],
            }),
        )
        .await;
    assert_eq!(full["description"], "all of it");
    assert_eq!(full["assignee_id"], team.member.id.as_str());
    assert_eq!(full["due_date"], "2030-02-28");
    assert_eq!(full["priority"], "urgent");
    assert_eq!(full["labels"], json!(["backend", "release"]));
    assert_eq!(full["created_by"], team.admin.id.as_str());
    // New tasks go last.
    assert!(position(&task) < position(&full));

    let read = api.get_task(&team.owner, &todo, &text(&full["id"])).await;
    assert_eq!(read, full);
    let listed = api.tasks(&team.owner, &todo, "open").await;
    assert_eq!(listed, vec![task.clone(), full.clone()]);
    // The default status is open.
    let default = api.walk(&tasks_path(&todo), team.owner.token(), 50).await;
    assert_eq!(default, listed);
}

#[tokio::test]
async fn creating_and_patching_validate_every_field() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let path = tasks_path(&todo);
    let eleven: Vec<String> = (0..11).map(|i| format!("l{i}")).collect();
    let invalid = [
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": null}), "title"),
        (json!({"title": 7}), "title"),
        (
            json!({"title": "t", "description": "d".repeat(10_001)}),
            "description",
        ),
        (json!({"title": "t", "priority": "critical"}), "priority"),
        (json!({"title": "t", "priority": "Medium"}), "priority"),
        (json!({"title": "t", "due_date": "2030-02-30"}), "due_date"),
        (json!({"title": "t", "due_date": "2030-13-01"}), "due_date"),
        (json!({"title": "t", "due_date": "2030-1-5"}), "due_date"),
        (json!({"title": "t", "due_date": "30-01-05"}), "due_date"),
        (json!({"title": "t", "due_date": "2030/01/05"}), "due_date"),
        (
            json!({"title": "t", "due_date": "2030-01-05T00:00:00Z"}),
            "due_date",
        ),
        (json!({"title": "t", "due_date": ""}), "due_date"),
        (json!({"title": "t", "due_date": 20300105}), "due_date"),
        (json!({"title": "t", "labels": eleven}), "labels"),
        (json!({"title": "t", "labels": ["a", "b", "a"]}), "labels"),
        (json!({"title": "t", "labels": [""]}), "labels"),
        (json!({"title": "t", "labels": ["x".repeat(33)]}), "labels"),
        (json!({"title": "t", "labels": "a"}), "labels"),
        (json!({"title": "t", "assignee_id": "nope"}), "assignee_id"),
    ];
    for (body, field) in &invalid {
        let reply = api.post(&path, team.member.token(), body.clone()).await;
        reply.assert_invalid(field, &body.to_string());
    }
    // A missing title is a 400 too (the details name the body, as for every missing field).
    for unknown in [
        json!({}),
        json!({"title": "t", "status": "done"}),
        json!({"title": "t", "colour": "red"}),
        json!({"title": "t", "position": "a0"}),
    ] {
        let reply = api.post(&path, team.member.token(), unknown.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{unknown}");
        assert_eq!(reply.error_code(), "invalid_request", "{unknown}");
    }
    assert!(
        api.tasks(&team.member, &todo, "all").await.is_empty(),
        "a refused create wrote a task"
    );

    // The bounds themselves are accepted (lengths in characters, not bytes).
    let ten: Vec<String> = (0..10).map(|i| format!("{i}{}", "é".repeat(31))).collect();
    let edge = api
        .create_task(
            &team.member,
            &todo,
            json!({
                "title": "é".repeat(200),
                "description": "d".repeat(10_000),
                "labels": ten,
                "due_date": "2028-02-29",
                "priority": "low",
            }),
        )
        .await;
    assert_eq!(edge["labels"], json!(ten));
    assert_eq!(edge["due_date"], "2028-02-29");
    for priority in ["low", "medium", "high", "urgent"] {
        let task = api
            .create_task(
                &team.member,
                &todo,
                json!({"title": "p", "priority": priority}),
            )
            .await;
        assert_eq!(task["priority"], priority);
    }

    // PATCH validates the same fields, and more.
    let tid = text(&edge["id"]);
    let task = task_path(&todo, &tid);
    let invalid_patches = [
        (json!({"title": null}), "title"),
        (json!({"title": " "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"priority": null}), "priority"),
        (json!({"priority": "none"}), "priority"),
        (json!({"description": "d".repeat(10_001)}), "description"),
        (json!({"due_date": "tomorrow"}), "due_date"),
        (json!({"labels": eleven}), "labels"),
        (json!({"labels": ["dup", "dup"]}), "labels"),
        (json!({"assignee_id": "nope"}), "assignee_id"),
    ];
    for (body, field) in &invalid_patches {
        let reply = api.patch(&task, team.member.token(), body.clone()).await;
        reply.assert_invalid(field, &body.to_string());
    }
    for unknown in [
        json!({"status": "done"}),
        json!({"completed_at": null}),
        json!({"channel_id": todo}),
    ] {
        let reply = api.patch(&task, team.member.token(), unknown.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{unknown}");
    }
    assert_eq!(
        api.get_task(&team.member, &todo, &tid).await,
        edge,
        "a refused PATCH changed the task"
    );
}

#[tokio::test]
async fn patch_changes_only_the_given_fields_and_null_clears() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let created = api
        .create_task(
            &team.member,
            &todo,
            json!({
                "title": "Original",
                "description": "words",
                "assignee_id": team.admin.id,
                "due_date": "2031-01-01",
                "priority": "high",
                "labels": ["one"],
            }),
        )
        .await;
    let tid = text(&created["id"]);

    let renamed = api
        .patch_task(&team.admin, &todo, &tid, json!({"title": "Renamed"}))
        .await;
    assert_eq!(renamed["title"], "Renamed");
    for field in [
        "description",
        "assignee_id",
        "due_date",
        "priority",
        "labels",
        "status",
        "position",
        "created_by",
        "created_at",
    ] {
        assert_eq!(renamed[field], created[field], "{field} changed");
    }

    let changed = api
        .patch_task(
            &team.member,
            &todo,
            &tid,
            json!({"priority": "low", "labels": ["two", "three"], "due_date": "2032-12-31"}),
        )
        .await;
    assert_eq!(changed["priority"], "low");
    assert_eq!(changed["labels"], json!(["two", "three"]));
    assert_eq!(changed["due_date"], "2032-12-31");
    assert_eq!(changed["title"], "Renamed");

    let cleared = api
        .patch_task(
            &team.member,
            &todo,
            &tid,
            json!({"description": null, "assignee_id": null, "due_date": null, "labels": null}),
        )
        .await;
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["assignee_id"], Value::Null);
    assert_eq!(cleared["due_date"], Value::Null);
    assert_eq!(cleared["labels"], json!([]));
    assert_eq!(cleared["title"], "Renamed");
    assert_eq!(cleared["priority"], "low");
    assert_eq!(api.get_task(&team.owner, &todo, &tid).await, cleared);

    // An empty PATCH changes nothing.
    let same = api.patch_task(&team.member, &todo, &tid, json!({})).await;
    for field in [
        "title",
        "description",
        "assignee_id",
        "due_date",
        "priority",
        "labels",
    ] {
        assert_eq!(same[field], cleared[field], "{field}");
    }
}

#[tokio::test]
async fn readers_read_members_write_and_creators_or_admins_delete() {
    let api = Api::new();
    let Todo {
        team,
        todo,
        private_todo,
    } = todo_team(&api).await;
    let task = api
        .create_task(&team.owner, &todo, json!({"title": "owner's"}))
        .await;
    let tid = text(&task["id"]);
    let secret = api
        .create_task(&team.member, &private_todo, json!({"title": "member's"}))
        .await;
    let sid = text(&secret["id"]);
    let anchor = api
        .create_task(&team.owner, &todo, json!({"title": "anchor"}))
        .await;
    let anchor = text(&anchor["id"]);

    // Every route, anonymous: 401; outsider: 404; a non-member of the private channel
    // (the workspace admin included): 404.
    let routes =
        |channel: &str, task: &str, anchor: &str| -> Vec<(Method, String, Option<Value>)> {
            vec![
                (Method::GET, tasks_path(channel), None),
                (
                    Method::POST,
                    tasks_path(channel),
                    Some(json!({"title": "x"})),
                ),
                (Method::GET, task_path(channel, task), None),
                (
                    Method::PATCH,
                    task_path(channel, task),
                    Some(json!({"title": "y"})),
                ),
                (
                    Method::POST,
                    format!("{}/complete", task_path(channel, task)),
                    Some(json!({})),
                ),
                (
                    Method::POST,
                    format!("{}/reopen", task_path(channel, task)),
                    Some(json!({})),
                ),
                (
                    Method::POST,
                    move_path(channel, task),
                    Some(json!({"before_id": anchor})),
                ),
                (Method::DELETE, task_path(channel, task), None),
            ]
        };
    for (method, path, body) in routes(&todo, &tid, &anchor) {
        let anonymous = api.call(method.clone(), &path, None, body.clone()).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        let outsider = api
            .call(method.clone(), &path, team.outsider.token(), body.clone())
            .await;
        assert_eq!(outsider.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    for (method, path, body) in routes(&private_todo, &sid, &anchor) {
        for user in [&team.admin, &team.owner, &team.outsider] {
            let reply = api
                .call(method.clone(), &path, user.token(), body.clone())
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        }
    }
    assert_eq!(
        api.get_task(&team.member, &private_todo, &sid).await,
        secret
    );

    // A workspace member who has not joined the public channel reads but does not write.
    let reader = api.register_user().await;
    api.add_to_workspace(&team.owner, &team.workspace_id, &reader, "member")
        .await;
    assert_eq!(api.get_task(&reader, &todo, &tid).await, task);
    assert_eq!(api.tasks(&reader, &todo, "all").await.len(), 2);
    for (method, path, body) in routes(&todo, &tid, &anchor).into_iter().skip(1) {
        if method == Method::GET {
            continue;
        }
        let reply = api
            .call(method.clone(), &path, reader.token(), body.clone())
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
    }

    // Members edit anyone's task; only its creator or an admin+ deletes it.
    api.patch_task(&team.member, &todo, &tid, json!({"title": "edited"}))
        .await;
    api.complete_task(&team.member, &todo, &tid).await;
    api.reopen_task(&team.member, &todo, &tid).await;
    let plain = api
        .delete(&task_path(&todo, &tid), team.member.token())
        .await;
    assert_eq!(plain.status, StatusCode::FORBIDDEN, "{:?}", plain.body);
    assert_eq!(plain.error_code(), "forbidden");
    api.delete_task(&team.admin, &todo, &tid).await;
    let gone = api.get(&task_path(&todo, &tid), team.owner.token()).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let again = api
        .delete(&task_path(&todo, &tid), team.owner.token())
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let own = api
        .create_task(&team.member, &todo, json!({"title": "mine"}))
        .await;
    api.delete_task(&team.member, &todo, &text(&own["id"]))
        .await;
    let owners = api
        .create_task(&team.member, &todo, json!({"title": "for the owner"}))
        .await;
    api.delete_task(&team.owner, &todo, &text(&owners["id"]))
        .await;
    assert_eq!(ids(&api.tasks(&team.owner, &todo, "all").await), [anchor]);
}

#[tokio::test]
async fn unknown_tasks_and_other_kinds_of_channel_are_refused() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let wid = team.workspace_id.clone();
    let task = api
        .create_task(&team.member, &todo, json!({"title": "here"}))
        .await;
    let tid = text(&task["id"]);
    let other = api
        .create_channel(&team.owner, &wid, json!({"name": "other", "kind": "todo"}))
        .await;
    let other = text(&other["id"]);
    let there = api
        .create_task(&team.owner, &other, json!({"title": "there"}))
        .await;
    let there = text(&there["id"]);
    let unknown = ulid::Ulid::new().to_string();

    // A task of another channel, or no task at all: 404 on every task route.
    for id in [&tid, &unknown] {
        // A valid anchor of the channel in the path: only the task is unknown there.
        let (channel, anchor) = if id == &tid {
            (&other, &there)
        } else {
            (&todo, &tid)
        };
        for (method, path, body) in [
            (Method::GET, task_path(channel, id), None),
            (
                Method::PATCH,
                task_path(channel, id),
                Some(json!({"title": "x"})),
            ),
            (
                Method::POST,
                format!("{}/complete", task_path(channel, id)),
                Some(json!({})),
            ),
            (
                Method::POST,
                format!("{}/reopen", task_path(channel, id)),
                Some(json!({})),
            ),
            (
                Method::POST,
                move_path(channel, id),
                Some(json!({"after_id": anchor})),
            ),
            (Method::DELETE, task_path(channel, id), None),
        ] {
            let reply = api
                .call(method.clone(), &path, team.owner.token(), body)
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        }
    }
    assert_eq!(
        api.get_task(&team.owner, &todo, &tid).await["title"],
        "here"
    );

    // Task routes on a chat or kanban channel: 409 for readers, 404 for the rest.
    let kanban = api
        .create_channel(
            &team.owner,
            &wid,
            json!({"name": "board", "kind": "kanban"}),
        )
        .await;
    let secret_kanban = api
        .create_channel(
            &team.member,
            &wid,
            json!({"name": "secret-board", "kind": "kanban", "private": true}),
        )
        .await;
    for channel in [
        text(&kanban["id"]),
        team.public_id.clone(),
        team.general_id.clone(),
    ] {
        for (method, path, body) in [
            (Method::GET, tasks_path(&channel), None),
            (
                Method::POST,
                tasks_path(&channel),
                Some(json!({"title": "x"})),
            ),
            (Method::GET, task_path(&channel, &tid), None),
        ] {
            let reply = api
                .call(method.clone(), &path, team.owner.token(), body)
                .await;
            assert_eq!(reply.status, StatusCode::CONFLICT, "{method} {path}");
            assert_eq!(reply.error_code(), "conflict");
        }
    }
    let secret = tasks_path(&text(&secret_kanban["id"]));
    assert_eq!(
        api.get(&secret, team.member.token()).await.status,
        StatusCode::CONFLICT
    );
    for user in [&team.admin, &team.owner, &team.outsider] {
        assert_eq!(
            api.get(&secret, user.token()).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let secret_post = api
        .post(&secret, team.admin.token(), json!({"title": "x"}))
        .await;
    assert_eq!(secret_post.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_assignee_must_be_able_to_read_the_channel() {
    let api = Api::new();
    let Todo {
        team,
        todo,
        private_todo,
    } = todo_team(&api).await;
    // A workspace member who never joined the public channel may read it: assignable.
    let reader = api.register_user().await;
    api.add_to_workspace(&team.owner, &team.workspace_id, &reader, "member")
        .await;
    let assigned = api
        .create_task(
            &team.member,
            &todo,
            json!({"title": "x", "assignee_id": reader.id}),
        )
        .await;
    assert_eq!(assigned["assignee_id"], reader.id.as_str());
    let tid = text(&assigned["id"]);

    let stranger = ulid::Ulid::new().to_string();
    for who in [&team.outsider.id, &stranger] {
        let create = api
            .post(
                &tasks_path(&todo),
                team.member.token(),
                json!({"title": "x", "assignee_id": who}),
            )
            .await;
        create.assert_invalid("assignee_id", "an assignee outside the workspace");
        let patch = api
            .patch(
                &task_path(&todo, &tid),
                team.member.token(),
                json!({"assignee_id": who}),
            )
            .await;
        patch.assert_invalid("assignee_id", "an assignee outside the workspace");
    }
    // Private channel: a workspace member (even the owner) outside it cannot be assigned.
    let secret = api
        .create_task(&team.member, &private_todo, json!({"title": "s"}))
        .await;
    for who in [&team.owner, &reader] {
        let create = api
            .post(
                &tasks_path(&private_todo),
                team.member.token(),
                json!({"title": "x", "assignee_id": who.id}),
            )
            .await;
        create.assert_invalid("assignee_id", "a non-member of the private channel");
        let patch = api
            .patch(
                &task_path(&private_todo, &text(&secret["id"])),
                team.member.token(),
                json!({"assignee_id": who.id}),
            )
            .await;
        patch.assert_invalid("assignee_id", "a non-member of the private channel");
    }
    api.add_channel_member(&team.member, &private_todo, &reader)
        .await;
    let now_member = api
        .patch_task(
            &team.member,
            &private_todo,
            &text(&secret["id"]),
            json!({"assignee_id": reader.id}),
        )
        .await;
    assert_eq!(now_member["assignee_id"], reader.id.as_str());
    let unchanged = api.get_task(&team.member, &todo, &tid).await;
    assert_eq!(unchanged["assignee_id"], reader.id.as_str());
}

#[tokio::test]
async fn complete_and_reopen_are_idempotent() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let task = api
        .create_task(&team.member, &todo, json!({"title": "finish"}))
        .await;
    let tid = text(&task["id"]);
    let done = api.complete_task(&team.member, &todo, &tid).await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["completed_by"], team.member.id.as_str());
    assert!(done["completed_at"].is_string(), "{done}");
    assert_eq!(done["position"], task["position"]);

    // Completing again (someone else, later) keeps the first completion.
    let again = api.complete_task(&team.admin, &todo, &tid).await;
    assert_eq!(again["status"], "done");
    assert_eq!(again["completed_at"], done["completed_at"]);
    assert_eq!(again["completed_by"], team.member.id.as_str());
    let concurrent = futures::future::join_all((0..5).map(|_| {
        api.post(
            &format!("{}/complete", task_path(&todo, &tid)),
            team.owner.token(),
            json!({}),
        )
    }))
    .await;
    for reply in &concurrent {
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body["completed_at"], done["completed_at"]);
        assert_eq!(reply.body["completed_by"], team.member.id.as_str());
    }
    assert_eq!(
        api.get_task(&team.owner, &todo, &tid).await["completed_at"],
        done["completed_at"]
    );

    let reopened = api.reopen_task(&team.admin, &todo, &tid).await;
    assert_eq!(reopened["status"], "open");
    assert_eq!(reopened["completed_at"], Value::Null);
    assert_eq!(reopened["completed_by"], Value::Null);
    let twice = api.reopen_task(&team.member, &todo, &tid).await;
    assert_eq!(twice["status"], "open");
    assert_eq!(twice["completed_at"], Value::Null);
    assert_eq!(
        api.get_task(&team.owner, &todo, &tid).await["status"],
        "open"
    );

    // A new completion after a reopen is a new one.
    let second = api.complete_task(&team.owner, &todo, &tid).await;
    assert_eq!(second["completed_by"], team.owner.id.as_str());
}

#[tokio::test]
async fn status_and_assignee_filters_list_in_board_order() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let mut expected_open = Vec::new();
    let mut expected_done = Vec::new();
    let mut for_admin = Vec::new();
    for i in 0..12 {
        let assignee = if i % 3 == 0 {
            json!(team.admin.id)
        } else {
            Value::Null
        };
        let task = api
            .create_task(
                &team.member,
                &todo,
                json!({"title": format!("T{i}"), "assignee_id": assignee}),
            )
            .await;
        let tid = text(&task["id"]);
        if i % 4 == 1 {
            api.complete_task(&team.member, &todo, &tid).await;
            expected_done.push(tid.clone());
        } else {
            expected_open.push(tid.clone());
        }
        if i % 3 == 0 && i % 4 != 1 {
            for_admin.push(tid);
        }
    }
    let open = api.tasks(&team.owner, &todo, "open").await;
    assert_eq!(ids(&open), expected_open);
    assert!(open.iter().all(|t| t["status"] == "open"));
    let done = api.tasks(&team.owner, &todo, "done").await;
    assert_eq!(ids(&done), expected_done);
    assert!(done.iter().all(|t| t["status"] == "done"));
    let all = api.tasks(&team.owner, &todo, "all").await;
    let mut open_then_done = expected_open.clone();
    open_then_done.extend(expected_done.iter().cloned());
    assert_eq!(ids(&all), open_then_done);

    let path = format!("{}?assignee_id={}", tasks_path(&todo), team.admin.id);
    let admins = api.walk(&path, team.owner.token(), 2).await;
    assert_eq!(ids(&admins), for_admin);
    let nobody = format!("{}?assignee_id={}", tasks_path(&todo), team.owner.id);
    assert!(api.walk(&nobody, team.owner.token(), 10).await.is_empty());
    let both = format!(
        "{}?status=all&assignee_id={}",
        tasks_path(&todo),
        team.admin.id
    );
    let admins_all = api.walk(&both, team.owner.token(), 3).await;
    assert_eq!(admins_all.len(), 4, "{admins_all:?}");
    assert!(
        admins_all
            .iter()
            .all(|t| t["assignee_id"] == team.admin.id.as_str())
    );

    for query in [
        "status=closed",
        "status=OPEN",
        "assignee_id=nope",
        "limit=0",
        "limit=101",
        "limit=x",
    ] {
        let reply = api
            .get(
                &format!("{}?{query}", tasks_path(&todo)),
                team.owner.token(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {:?}",
            reply.body
        );
        assert_eq!(reply.error_code(), "invalid_request", "{query}");
    }
}

#[tokio::test]
async fn walking_tasks_yields_each_once_in_order() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let created = create_tasks(&api, &team.member, &todo, 23).await;
    for limit in [1, 5, 22, 23, 100] {
        let walked = api
            .walk(&tasks_path(&todo), team.admin.token(), limit)
            .await;
        assert_eq!(ids(&walked), created, "limit {limit}");
    }
    let first = api
        .page(&tasks_path(&todo), team.admin.token(), 10, None)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 10);
    assert!(first.body["next_cursor"].is_string());
    let bad = api
        .page(
            &tasks_path(&todo),
            team.admin.token(),
            10,
            Some("not a cursor"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // A cursor of the open list is no cursor of the done list.
    let cursor = text(&first.body["next_cursor"]);
    let done_path = format!("{}?status=done", tasks_path(&todo));
    let crossed = api
        .page(&done_path, team.admin.token(), 10, Some(&cursor))
        .await;
    assert_ne!(crossed.status.as_u16() / 100, 5, "{:?}", crossed.body);
}

#[tokio::test]
async fn moves_place_a_task_before_or_after_its_anchor() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let t = create_tasks(&api, &team.member, &todo, 5).await;
    // [T0 T1 T2 T3 T4]: T4 before T1, then T0 after T3, then T2 before T4 (its neighbour).
    let moved = api
        .move_task(&team.member, &todo, &t[4], json!({"before_id": t[1]}))
        .await;
    assert_eq!(moved["id"], t[4].as_str());
    assert_eq!(moved["title"], "T4");
    assert_eq!(
        order(&api, &team.member, &todo).await,
        owned(&[&t[0], &t[4], &t[1], &t[2], &t[3]])
    );
    api.move_task(&team.admin, &todo, &t[0], json!({"after_id": t[3]}))
        .await;
    assert_eq!(
        order(&api, &team.member, &todo).await,
        owned(&[&t[4], &t[1], &t[2], &t[3], &t[0]])
    );
    api.move_task(&team.member, &todo, &t[2], json!({"before_id": t[4]}))
        .await;
    assert_eq!(
        order(&api, &team.member, &todo).await,
        owned(&[&t[2], &t[4], &t[1], &t[3], &t[0]])
    );
    // To where it already is: nothing changes.
    let still = api
        .move_task(&team.member, &todo, &t[1], json!({"after_id": t[4]}))
        .await;
    assert_eq!(still["id"], t[1].as_str());
    assert_eq!(
        order(&api, &team.member, &todo).await,
        owned(&[&t[2], &t[4], &t[1], &t[3], &t[0]])
    );
    // The returned task carries its new position.
    let listed = api.get_task(&team.member, &todo, &t[2]).await;
    assert!(position(&listed) < position(&api.get_task(&team.member, &todo, &t[4]).await));

    // Next to a task of the other status is allowed; a done task keeps its place when reopened.
    api.complete_task(&team.member, &todo, &t[3]).await;
    api.move_task(&team.member, &todo, &t[0], json!({"before_id": t[3]}))
        .await;
    api.move_task(&team.member, &todo, &t[3], json!({"before_id": t[2]}))
        .await;
    api.reopen_task(&team.member, &todo, &t[3]).await;
    assert_eq!(
        order(&api, &team.member, &todo).await,
        owned(&[&t[3], &t[2], &t[4], &t[1], &t[0]])
    );

    // Refused moves change nothing.
    let other = api
        .create_channel(
            &team.owner,
            &team.workspace_id,
            json!({"name": "elsewhere", "kind": "todo"}),
        )
        .await;
    let foreign = api
        .create_task(&team.owner, &text(&other["id"]), json!({"title": "far"}))
        .await;
    let path = move_path(&todo, &t[1]);
    for (body, field) in [
        (json!({"before_id": t[1]}), "before_id"),
        (json!({"after_id": t[1]}), "after_id"),
        (
            json!({"before_id": ulid::Ulid::new().to_string()}),
            "before_id",
        ),
        (
            json!({"after_id": ulid::Ulid::new().to_string()}),
            "after_id",
        ),
        (json!({"after_id": foreign["id"]}), "after_id"),
        (json!({"before_id": "nope"}), "before_id"),
    ] {
        let reply = api.post(&path, team.member.token(), body.clone()).await;
        reply.assert_invalid(field, &body.to_string());
    }
    for body in [
        json!({}),
        json!({"before_id": t[0], "after_id": t[2]}),
        json!({"before_id": null}),
        json!({"before_id": t[0], "position": "a0"}),
    ] {
        let reply = api.post(&path, team.member.token(), body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            reply.body
        );
        assert_eq!(reply.error_code(), "invalid_request", "{body}");
    }
    assert_eq!(
        order(&api, &team.member, &todo).await,
        owned(&[&t[3], &t[2], &t[4], &t[1], &t[0]])
    );
}

#[tokio::test]
async fn twenty_concurrent_moves_of_different_tasks_keep_each_once_in_a_total_order() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let t = create_tasks(&api, &team.member, &todo, 40).await;
    // Task i goes right after task 20 + i, all at once.
    let replies = futures::future::join_all((0..20).map(|i| {
        api.post(
            &move_path(&todo, &t[i]),
            team.member.token(),
            json!({"after_id": t[20 + i]}),
        )
    }))
    .await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    let expected: Vec<&String> = (0..20).flat_map(|i| [&t[20 + i], &t[i]]).collect();
    assert_eq!(order(&api, &team.member, &todo).await, owned(&expected));

    // Twenty at once to one spot: each once, together, right after the anchor.
    let anchor = &t[25];
    let moved: Vec<&String> = t
        .iter()
        .filter(|id| *id != anchor)
        .step_by(2)
        .take(20)
        .collect();
    let replies = futures::future::join_all(moved.iter().map(|id| {
        api.post(
            &move_path(&todo, id),
            team.member.token(),
            json!({"after_id": anchor}),
        )
    }))
    .await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    let after = order(&api, &team.member, &todo).await;
    assert_eq!(after.len(), 40);
    let unique: BTreeSet<&String> = after.iter().collect();
    assert_eq!(unique.len(), 40, "a task listed twice: {after:?}");
    let at = after.iter().position(|id| id == anchor).unwrap();
    let block: BTreeSet<&String> = after[at + 1..at + 21].iter().collect();
    let moved_set: BTreeSet<&String> = moved.iter().copied().collect();
    assert_eq!(block, moved_set, "{after:?}");
}

#[tokio::test]
async fn many_random_moves_keep_the_order_of_a_model_list() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let mut model = create_tasks(&api, &team.member, &todo, 16).await;
    let mut random = Xorshift(0x9E37_79B9_7F4A_7C15);
    for step in 0..150 {
        let task = model[random.below(model.len())].clone();
        let anchor = loop {
            let anchor = &model[random.below(model.len())];
            if *anchor != task {
                break anchor.clone();
            }
        };
        let before = random.below(2) == 0;
        let body = if before {
            json!({"before_id": anchor})
        } else {
            json!({"after_id": anchor})
        };
        api.move_task(&team.member, &todo, &task, body).await;
        model.retain(|id| *id != task);
        let at = model.iter().position(|id| *id == anchor).unwrap();
        model.insert(if before { at } else { at + 1 }, task);
        if step % 30 == 29 {
            assert_eq!(
                order(&api, &team.member, &todo).await,
                model,
                "after step {step}"
            );
        }
    }
    assert_eq!(order(&api, &team.member, &todo).await, model);
}

#[tokio::test]
async fn positions_stay_short_under_repeated_moves() {
    let api = Api::new();
    let Todo { team, todo, .. } = todo_team(&api).await;
    let t = create_tasks(&api, &team.member, &todo, 4).await;
    // One task moved to the same spot 200 times, alternating how the spot is named
    // (before T1 / after T0): the gap between T0 and T1 is never halved for good.
    for i in 0..200 {
        let body = if i % 2 == 0 {
            json!({"before_id": t[1]})
        } else {
            json!({"after_id": t[0]})
        };
        let moved = api.move_task(&team.member, &todo, &t[3], body).await;
        let length = position(&moved).chars().count();
        assert!(length <= POSITION_MAX_CHARS, "move {i}: {moved}");
    }
    assert_eq!(
        order(&api, &team.member, &todo).await,
        owned(&[&t[0], &t[3], &t[1], &t[2]])
    );

    // The first task rotated to the end 200 times.
    let mut model = order(&api, &team.member, &todo).await;
    for i in 0..200 {
        let first = model.remove(0);
        let last = model.last().unwrap().clone();
        let moved = api
            .move_task(&team.member, &todo, &first, json!({"after_id": last}))
            .await;
        let length = position(&moved).chars().count();
        assert!(length <= POSITION_MAX_CHARS, "rotation {i}: {moved}");
        model.push(first);
    }
    assert_eq!(order(&api, &team.member, &todo).await, model);

    // And the last one rotated to the front 200 times.
    for i in 0..200 {
        let last = model.pop().unwrap();
        let moved = api
            .move_task(&team.member, &todo, &last, json!({"before_id": model[0]}))
            .await;
        let length = position(&moved).chars().count();
        assert!(length <= POSITION_MAX_CHARS, "rotation {i}: {moved}");
        model.insert(0, last);
    }
    assert_eq!(order(&api, &team.member, &todo).await, model);
}

/// The next frame about `id` of `kind` on `socket`, skipping others.
async fn event(socket: &mut Socket, kind: &str, id: &str) -> Value {
    let frames = frames_until(socket, |f| f["type"] == kind && f["data"]["id"] == id).await;
    frames.last().unwrap().clone()
}

#[tokio::test]
async fn task_events_reach_the_channels_subscribers() {
    let api = Api::new();
    let Todo {
        team,
        todo,
        private_todo,
    } = todo_team(&api).await;
    let mut socket = connect_subscribed(&api, &team.admin, &[&todo]).await;
    let mut member = connect_subscribed(&api, &team.member, &[&todo, &private_todo]).await;

    let task = api
        .create_task(
            &team.member,
            &todo,
            json!({"title": "live", "labels": ["x"]}),
        )
        .await;
    let tid = text(&task["id"]);
    let created = event(&mut socket, "task.created", &tid).await;
    assert_eq!(created["channel_id"], todo.as_str());
    assert_eq!(created["data"], task);

    let patched = api
        .patch_task(&team.member, &todo, &tid, json!({"title": "alive"}))
        .await;
    let updated = event(&mut socket, "task.updated", &tid).await;
    assert_eq!(updated["data"], patched);

    let done = api.complete_task(&team.member, &todo, &tid).await;
    let completed = event(&mut socket, "task.updated", &tid).await;
    assert_eq!(completed["data"], done);
    let open = api.reopen_task(&team.member, &todo, &tid).await;
    let reopened = event(&mut socket, "task.updated", &tid).await;
    assert_eq!(reopened["data"], open);

    let second = api
        .create_task(&team.member, &todo, json!({"title": "second"}))
        .await;
    let moved = api
        .move_task(
            &team.member,
            &todo,
            &text(&second["id"]),
            json!({"before_id": tid}),
        )
        .await;
    let frames = frames_until(&mut socket, |f| {
        f["type"] == "task.updated" && f["data"]["id"] == second["id"]
    })
    .await;
    assert_eq!(frames.last().unwrap()["data"], moved);

    api.delete_task(&team.member, &todo, &tid).await;
    let deleted = event(&mut socket, "task.deleted", &tid).await;
    assert_eq!(deleted["channel_id"], todo.as_str());
    assert_eq!(deleted["data"]["id"], tid.as_str());
    assert_eq!(deleted["data"]["channel_id"], todo.as_str());

    // The private channel's task reaches its member, never the admin who is not in it.
    let secret = api
        .create_task(&team.member, &private_todo, json!({"title": "quiet"}))
        .await;
    let heard = event(&mut member, "task.created", &text(&secret["id"])).await;
    assert_eq!(heard["channel_id"], private_todo.as_str());
    let marker = api
        .create_task(&team.member, &todo, json!({"title": "marker"}))
        .await;
    let admin_frames = frames_until(&mut socket, |f| f["data"]["id"] == marker["id"]).await;
    assert!(
        !admin_frames.iter().any(|f| f["data"]["id"] == secret["id"]),
        "{admin_frames:?}"
    );
}
