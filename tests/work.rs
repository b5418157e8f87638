//! Stats, my-work and workload against the real local stack. Every expectation is computed
//! by the test from listing all tasks and cards, and compared with what the counters say:
//! after mixed sequences (create, reassign, complete, reopen, priority change, move,
//! delete), under concurrent writes to one counter, for overdue items around today, and
//! after a channel is deleted. my-work: order, pagination, status, and channels the caller
//! can no longer read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use huddle_tests::{
    Api, Team, TestUser, eventually, ids, my_work_path, stats_path, task_path, text, workload_path,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The date `offset` days from today (UTC), as the API writes dates.
fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

fn is_overdue(item: &Value, today: &str) -> bool {
    item["due_date"].as_str().is_some_and(|due| due < today)
}

/// The stats of a todo channel, computed from all its tasks.
fn todo_stats(tasks: &[Value], today: &str) -> Value {
    let open: Vec<&Value> = tasks.iter().filter(|t| t["status"] == "open").collect();
    let done = tasks.len() - open.len();
    let percent = (done * 100).checked_div(tasks.len()).unwrap_or(0);
    let mut by_priority = json!({"low": 0, "medium": 0, "high": 0, "urgent": 0});
    for task in &open {
        let priority = text(&task["priority"]);
        by_priority[&priority] = json!(by_priority[&priority].as_u64().unwrap() + 1);
    }
    let mut by_assignee: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for task in tasks {
        if let Some(user) = task["assignee_id"].as_str() {
            let counts = by_assignee.entry(user.to_owned()).or_default();
            if task["status"] == "open" {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
    }
    json!({
        "total": tasks.len(),
        "open": open.len(),
        "done": done,
        "completion_percent": percent,
        "overdue": open.iter().filter(|t| is_overdue(t, today)).count(),
        "by_priority": by_priority,
        "by_assignee": by_assignee
            .into_iter()
            .map(|(user_id, (open, done))| json!({"user_id": user_id, "open": open, "done": done}))
            .collect::<Vec<_>>(),
    })
}

/// The stats of a kanban channel, computed from its board and every card of each column.
fn kanban_stats(board: &Value, cards: &[Vec<Value>], today: &str) -> Value {
    let all: Vec<&Value> = cards.iter().flatten().collect();
    let by_column: Vec<Value> = board["columns"]
        .as_array()
        .unwrap()
        .iter()
        .zip(cards)
        .map(|(column, cards)| {
            json!({
                "column_id": column["id"],
                "name": column["name"],
                "count": cards.len(),
                "wip_limit": column["wip_limit"],
            })
        })
        .collect();
    let mut by_assignee: BTreeMap<String, u64> = BTreeMap::new();
    for card in &all {
        if let Some(user) = card["assignee_id"].as_str() {
            *by_assignee.entry(user.to_owned()).or_default() += 1;
        }
    }
    json!({
        "total": all.len(),
        "overdue": all.iter().filter(|c| is_overdue(c, today)).count(),
        "by_column": by_column,
        "by_assignee": by_assignee
            .into_iter()
            .map(|(user_id, open)| json!({"user_id": user_id, "open": open}))
            .collect::<Vec<_>>(),
    })
}

/// The workload computed from every task and card of a workspace.
fn workload(tasks: &[Value], cards: &[Value], today: &str) -> Value {
    let mut counts: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for item in tasks.iter().chain(cards) {
        let Some(user) = item["assignee_id"].as_str() else {
            continue;
        };
        let entry = counts.entry(user.to_owned()).or_default();
        // Cards have no status: they count as open.
        if item["status"] == "done" {
            entry.1 += 1;
        } else {
            entry.0 += 1;
            if is_overdue(item, today) {
                entry.2 += 1;
            }
        }
    }
    json!({
        "items": counts
            .into_iter()
            .map(|(user_id, (open, done, overdue))| {
                json!({"user_id": user_id, "open": open, "done": done, "overdue": overdue})
            })
            .collect::<Vec<_>>(),
    })
}

/// The workload's `items`, alone: what the counters say (the body may also carry a
/// `next_cursor`, always null, as lists do).
fn workload_of(body: Value) -> Value {
    assert!(body["next_cursor"].is_null(), "{body}");
    json!({"items": body["items"]})
}

/// Every card of a kanban channel, per column in board order, with the board.
async fn all_cards(api: &Api, user: &TestUser, channel: &str) -> (Value, Vec<Vec<Value>>) {
    let board = api.board(user, channel).await;
    let mut cards = Vec::new();
    for column in board["columns"].as_array().unwrap() {
        cards.push(api.column_cards(user, channel, &text(&column["id"])).await);
    }
    (board, cards)
}

/// Asserts that a todo channel's stats are what its tasks say (retried across midnight UTC,
/// when "overdue" changes meaning between the two reads).
async fn assert_todo_stats(api: &Api, user: &TestUser, channel: &str, when: &str) {
    loop {
        let today = day(0);
        let tasks = api.tasks(user, channel, "all").await;
        let stats = api.stats(user, channel).await;
        if day(0) == today {
            assert_eq!(stats, todo_stats(&tasks, &today), "{when}: {tasks:#?}");
            return;
        }
    }
}

/// Asserts that a kanban channel's stats are what its cards say.
async fn assert_kanban_stats(api: &Api, user: &TestUser, channel: &str, when: &str) {
    loop {
        let today = day(0);
        let (board, cards) = all_cards(api, user, channel).await;
        let stats = api.stats(user, channel).await;
        if day(0) == today {
            assert_eq!(
                stats,
                kanban_stats(&board, &cards, &today),
                "{when}: {cards:#?}"
            );
            return;
        }
    }
}

/// Asserts that the workload (read by the owner) is what the tasks of `todos` and the cards
/// of `boards` say.
async fn assert_workload(api: &Api, team: &Team, todos: &[&str], boards: &[&str], when: &str) {
    loop {
        let today = day(0);
        let (tasks, cards) = workspace_items(api, &team.owner, todos, boards).await;
        let read = workload_of(api.workload(&team.owner, &team.workspace_id).await);
        if day(0) == today {
            assert_eq!(read, workload(&tasks, &cards, &today), "{when}");
            return;
        }
    }
}

async fn workspace_items(
    api: &Api,
    user: &TestUser,
    todos: &[&str],
    boards: &[&str],
) -> (Vec<Value>, Vec<Value>) {
    let mut tasks = Vec::new();
    for todo in todos {
        tasks.extend(api.tasks(user, todo, "all").await);
    }
    let mut cards = Vec::new();
    for board in boards {
        cards.extend(all_cards(api, user, board).await.1.into_iter().flatten());
    }
    (tasks, cards)
}

/// A fresh team with a public todo and a public kanban channel created by the owner and
/// joined by the admin and the member; returns (team, todo, kanban).
async fn work_team(api: &Api) -> (Team, String, String) {
    let team = api.fresh_team().await;
    let wid = team.workspace_id.clone();
    let todo = api
        .create_channel(&team.owner, &wid, json!({"name": "todo", "kind": "todo"}))
        .await;
    let kanban = api
        .create_channel(
            &team.owner,
            &wid,
            json!({"name": "board", "kind": "kanban"}),
        )
        .await;
    let (todo, kanban) = (text(&todo["id"]), text(&kanban["id"]));
    for channel in [&todo, &kanban] {
        api.join(&team.admin, channel).await;
        api.join(&team.member, channel).await;
    }
    (team, todo, kanban)
}

#[tokio::test]
async fn todo_stats_follow_a_mixed_sequence() {
    let api = Api::new();
    let (team, todo, _) = work_team(&api).await;
    let empty = api.stats(&team.member, &todo).await;
    assert_eq!(empty, todo_stats(&[], &day(0)));
    assert_eq!(empty["completion_percent"], 0);

    let plan = [
        ("a", "low", Some(&team.admin), Some(day(-3))),
        ("b", "medium", Some(&team.member), Some(day(0))),
        ("c", "high", Some(&team.member), Some(day(2))),
        ("d", "urgent", None, Some(day(-1))),
        ("e", "medium", Some(&team.owner), None),
        (
            "f",
            "high",
            Some(&team.admin),
            Some("2001-01-01".to_owned()),
        ),
        ("g", "low", None, None),
        (
            "h",
            "urgent",
            Some(&team.member),
            Some("2999-12-31".to_owned()),
        ),
    ];
    let mut t = Vec::new();
    for (title, priority, assignee, due) in plan {
        let task = api
            .create_task(
                &team.member,
                &todo,
                json!({
                    "title": title,
                    "priority": priority,
                    "assignee_id": assignee.map(|u| u.id.clone()),
                    "due_date": due,
                }),
            )
            .await;
        t.push(text(&task["id"]));
    }
    assert_todo_stats(&api, &team.member, &todo, "after creates").await;
    let todos = [todo.as_str()];
    assert_workload(&api, &team, &todos, &[], "after creates").await;

    // Reassign: to another user, to nobody, from nobody.
    api.patch_task(
        &team.member,
        &todo,
        &t[0],
        json!({"assignee_id": team.member.id}),
    )
    .await;
    api.patch_task(&team.member, &todo, &t[4], json!({"assignee_id": null}))
        .await;
    api.patch_task(
        &team.admin,
        &todo,
        &t[6],
        json!({"assignee_id": team.admin.id}),
    )
    .await;
    assert_todo_stats(&api, &team.member, &todo, "after reassigning").await;
    assert_workload(&api, &team, &todos, &[], "after reassigning").await;

    // Complete (twice for one), reopen, complete a reassigned one.
    for i in [0, 1, 3, 5] {
        api.complete_task(&team.member, &todo, &t[i]).await;
    }
    api.complete_task(&team.admin, &todo, &t[1]).await;
    api.reopen_task(&team.member, &todo, &t[3]).await;
    api.reopen_task(&team.member, &todo, &t[3]).await;
    assert_todo_stats(&api, &team.member, &todo, "after completes and reopens").await;
    assert_workload(&api, &team, &todos, &[], "after completes and reopens").await;

    // Priority changes, on an open task and on a done one; due dates moved across today.
    api.patch_task(&team.member, &todo, &t[2], json!({"priority": "urgent"}))
        .await;
    api.patch_task(&team.member, &todo, &t[5], json!({"priority": "low"}))
        .await;
    api.patch_task(&team.member, &todo, &t[3], json!({"due_date": day(5)}))
        .await;
    api.patch_task(&team.member, &todo, &t[7], json!({"due_date": day(-10)}))
        .await;
    api.patch_task(&team.member, &todo, &t[6], json!({"due_date": day(-2)}))
        .await;
    // A reassigned done task moves its done count.
    api.patch_task(
        &team.member,
        &todo,
        &t[1],
        json!({"assignee_id": team.owner.id}),
    )
    .await;
    assert_todo_stats(&api, &team.member, &todo, "after priority and date changes").await;
    assert_workload(&api, &team, &todos, &[], "after priority and date changes").await;

    // Moves change no counter.
    api.move_task(&team.member, &todo, &t[7], json!({"before_id": t[0]}))
        .await;
    api.move_task(&team.member, &todo, &t[1], json!({"after_id": t[6]}))
        .await;
    assert_todo_stats(&api, &team.member, &todo, "after moves").await;

    // Deletes of an open and of a done task.
    api.delete_task(&team.admin, &todo, &t[2]).await;
    api.delete_task(&team.member, &todo, &t[5]).await;
    assert_todo_stats(&api, &team.member, &todo, "after deletes").await;
    assert_workload(&api, &team, &todos, &[], "after deletes").await;

    // All done: 100%.
    for id in api
        .tasks(&team.member, &todo, "open")
        .await
        .iter()
        .map(|t| text(&t["id"]))
    {
        api.complete_task(&team.member, &todo, &id).await;
    }
    let stats = api.stats(&team.member, &todo).await;
    assert_eq!(stats["completion_percent"], 100);
    assert_eq!(stats["overdue"], 0);
    assert_todo_stats(&api, &team.member, &todo, "all done").await;
    assert_workload(&api, &team, &todos, &[], "all done").await;
}

#[tokio::test]
async fn kanban_stats_follow_a_mixed_sequence() {
    let api = Api::new();
    let (team, _, kanban) = work_team(&api).await;
    let columns = ids(api.board(&team.member, &kanban).await["columns"]
        .as_array()
        .unwrap());
    assert_kanban_stats(&api, &team.member, &kanban, "empty").await;

    let plan = [
        (0, Some(&team.admin), Some(day(-1))),
        (0, Some(&team.member), None),
        (1, Some(&team.member), Some(day(0))),
        (1, None, Some("2000-02-29".to_owned())),
        (2, Some(&team.admin), Some(day(3))),
        (2, Some(&team.owner), Some(day(-20))),
    ];
    let mut cards = Vec::new();
    for (i, (column, assignee, due)) in plan.into_iter().enumerate() {
        let card = api
            .create_card(
                &team.member,
                &kanban,
                &columns[column],
                json!({
                    "title": format!("card {i}"),
                    "assignee_id": assignee.map(|u| u.id.clone()),
                    "due_date": due,
                }),
            )
            .await;
        cards.push(text(&card["id"]));
    }
    assert_kanban_stats(&api, &team.member, &kanban, "after creates").await;
    let boards = [kanban.as_str()];
    assert_workload(&api, &team, &[], &boards, "after creates").await;

    // Moves across and within columns, a new column with a limit, reassignments, dates.
    api.move_card(
        &team.member,
        &kanban,
        &cards[0],
        json!({"column_id": columns[2]}),
    )
    .await;
    api.move_card(
        &team.member,
        &kanban,
        &cards[3],
        json!({"column_id": columns[0], "before_id": cards[1]}),
    )
    .await;
    api.move_card(
        &team.member,
        &kanban,
        &cards[4],
        json!({"column_id": columns[2], "before_id": cards[5]}),
    )
    .await;
    let review = api
        .create_column(
            &team.member,
            &kanban,
            json!({"name": "Review", "wip_limit": 2}),
        )
        .await;
    let review = text(&review["id"]);
    api.move_card(
        &team.member,
        &kanban,
        &cards[2],
        json!({"column_id": review}),
    )
    .await;
    api.move_column(
        &team.member,
        &kanban,
        &review,
        json!({"after_id": columns[0]}),
    )
    .await;
    api.patch_column(
        &team.member,
        &kanban,
        &columns[1],
        json!({"name": "Doing", "wip_limit": 9}),
    )
    .await;
    assert_kanban_stats(&api, &team.member, &kanban, "after moves").await;

    api.patch_card(
        &team.member,
        &kanban,
        &cards[1],
        json!({"assignee_id": team.admin.id}),
    )
    .await;
    api.patch_card(
        &team.member,
        &kanban,
        &cards[5],
        json!({"assignee_id": null}),
    )
    .await;
    api.patch_card(&team.member, &kanban, &cards[3], json!({"due_date": null}))
        .await;
    api.patch_card(
        &team.member,
        &kanban,
        &cards[2],
        json!({"due_date": day(-4)}),
    )
    .await;
    assert_kanban_stats(&api, &team.member, &kanban, "after edits").await;
    assert_workload(&api, &team, &[], &boards, "after edits").await;

    api.delete_card(&team.member, &kanban, &cards[0]).await;
    api.delete_card(&team.owner, &kanban, &cards[2]).await;
    api.delete_column(&team.owner, &kanban, &review).await;
    assert_kanban_stats(&api, &team.member, &kanban, "after deletes").await;
    assert_workload(&api, &team, &[], &boards, "after deletes").await;
}

#[tokio::test]
async fn concurrent_writes_to_one_counter_count_exactly() {
    let api = Api::new();
    let (team, todo, kanban) = work_team(&api).await;
    let columns = ids(api.board(&team.member, &kanban).await["columns"]
        .as_array()
        .unwrap());
    let todos = [todo.as_str()];
    let boards = [kanban.as_str()];

    // 20 tasks and 10 cards for one assignee, all at once.
    let tasks = futures::future::join_all((0..20).map(|i| {
        api.post(
            &huddle_tests::tasks_path(&todo),
            team.member.token(),
            json!({"title": format!("t{i}"), "assignee_id": team.admin.id, "priority": "high"}),
        )
    }));
    let cards = futures::future::join_all((0..10).map(|i| {
        api.post(
            &huddle_tests::column_cards_path(&kanban, &columns[i % 2]),
            team.member.token(),
            json!({"title": format!("c{i}"), "assignee_id": team.admin.id}),
        )
    }));
    let (tasks, cards) = tokio::join!(tasks, cards);
    assert!(
        tasks
            .iter()
            .chain(&cards)
            .all(|r| r.status == StatusCode::CREATED)
    );
    let stats = api.stats(&team.member, &todo).await;
    assert_eq!(stats["total"], 20);
    assert_eq!(stats["by_priority"]["high"], 20);
    assert_eq!(
        stats["by_assignee"],
        json!([{"user_id": team.admin.id, "open": 20, "done": 0}])
    );
    let board_stats = api.stats(&team.member, &kanban).await;
    assert_eq!(board_stats["total"], 10);
    assert_eq!(
        board_stats["by_assignee"],
        json!([{"user_id": team.admin.id, "open": 10}])
    );
    let read = workload_of(api.workload(&team.admin, &team.workspace_id).await);
    assert_eq!(
        read,
        json!({"items": [{"user_id": team.admin.id, "open": 30, "done": 0, "overdue": 0}]})
    );

    // Ten tasks completed twice each, all at once; five others completed and reopened at
    // once (any final state, as long as the counters agree with it).
    let task_ids: Vec<String> = tasks.iter().map(|r| text(&r.body["id"])).collect();
    let completes = task_ids[..10].iter().chain(&task_ids[..10]).map(|id| {
        api.post(
            &format!("{}/complete", task_path(&todo, id)),
            team.member.token(),
            json!({}),
        )
    });
    let flips = task_ids[10..15].iter().flat_map(|id| {
        ["complete", "reopen", "complete", "reopen"].map(|action| {
            api.post(
                &format!("{}/{action}", task_path(&todo, id)),
                team.member.token(),
                json!({}),
            )
        })
    });
    let replies = futures::future::join_all(completes.chain(flips)).await;
    assert!(
        replies.iter().all(|r| r.status == StatusCode::OK),
        "{replies:?}"
    );
    assert_todo_stats(&api, &team.member, &todo, "after concurrent completes").await;
    let stats = api.stats(&team.member, &todo).await;
    assert!(stats["done"].as_u64().unwrap() >= 10);

    // Five reassignments of one task at once, to different people: one wins, counted once.
    let contested = &task_ids[19];
    let people = [
        &team.owner,
        &team.member,
        &team.admin,
        &team.owner,
        &team.member,
    ];
    let reassigned = futures::future::join_all(people.iter().map(|user| {
        api.patch(
            &task_path(&todo, contested),
            team.member.token(),
            json!({"assignee_id": user.id}),
        )
    }))
    .await;
    assert!(reassigned.iter().all(|r| r.status == StatusCode::OK));
    // Cards of one column moved to the other all at once.
    let first_column = api.column_cards(&team.member, &kanban, &columns[0]).await;
    let moves = futures::future::join_all(first_column.iter().map(|card| {
        api.post(
            &format!(
                "{}/move",
                huddle_tests::card_path(&kanban, &text(&card["id"]))
            ),
            team.member.token(),
            json!({"column_id": columns[1]}),
        )
    }))
    .await;
    assert!(moves.iter().all(|r| r.status == StatusCode::OK));
    assert_todo_stats(&api, &team.member, &todo, "after concurrent reassignments").await;
    assert_kanban_stats(&api, &team.member, &kanban, "after concurrent moves").await;
    assert_workload(&api, &team, &todos, &boards, "after concurrent writes").await;

    // Concurrent deletes.
    let deletes = futures::future::join_all(
        task_ids[..8]
            .iter()
            .map(|id| api.delete(&task_path(&todo, id), team.admin.token())),
    )
    .await;
    assert!(deletes.iter().all(|r| r.status == StatusCode::NO_CONTENT));
    assert_todo_stats(&api, &team.member, &todo, "after concurrent deletes").await;
    assert_workload(&api, &team, &todos, &boards, "after concurrent deletes").await;
}

#[tokio::test]
async fn overdue_counts_open_items_due_before_today() {
    let api = Api::new();
    let (team, todo, kanban) = work_team(&api).await;
    let columns = ids(api.board(&team.member, &kanban).await["columns"]
        .as_array()
        .unwrap());
    let mut by_due = BTreeMap::new();
    for due in [
        Some("2000-01-01".to_owned()),
        Some(day(-1)),
        Some(day(0)),
        Some(day(1)),
        Some("2999-12-31".to_owned()),
        None,
    ] {
        let task = api
            .create_task(
                &team.member,
                &todo,
                json!({"title": "t", "due_date": due, "assignee_id": team.member.id}),
            )
            .await;
        by_due.insert(due.clone(), text(&task["id"]));
        api.create_card(
            &team.member,
            &kanban,
            &columns[0],
            json!({"title": "c", "due_date": due, "assignee_id": team.member.id}),
        )
        .await;
    }
    // A done task long past its date is not overdue.
    let finished = api
        .create_task(
            &team.member,
            &todo,
            json!({"title": "done", "due_date": "2001-01-01", "assignee_id": team.member.id}),
        )
        .await;
    api.complete_task(&team.member, &todo, &text(&finished["id"]))
        .await;

    let today = day(0);
    let stats = api.stats(&team.member, &todo).await;
    let board = api.stats(&team.member, &kanban).await;
    let read = workload_of(api.workload(&team.owner, &team.workspace_id).await);
    if day(0) == today {
        assert_eq!(stats["overdue"], 2, "{stats}");
        assert_eq!(board["overdue"], 2, "{board}");
        assert_eq!(
            read,
            json!({"items": [{"user_id": team.member.id, "open": 12, "done": 1, "overdue": 4}]})
        );
    }
    assert_todo_stats(&api, &team.member, &todo, "overdue").await;
    assert_kanban_stats(&api, &team.member, &kanban, "overdue").await;

    // Completing, re-dating and deleting overdue tasks take them out; reopening brings back.
    let oldest = &by_due[&Some("2000-01-01".to_owned())];
    let yesterday = &by_due[&Some(day(-1))];
    api.complete_task(&team.member, &todo, oldest).await;
    assert_todo_stats(&api, &team.member, &todo, "completed an overdue task").await;
    api.patch_task(&team.member, &todo, yesterday, json!({"due_date": day(7)}))
        .await;
    assert_todo_stats(&api, &team.member, &todo, "re-dated an overdue task").await;
    assert_eq!(api.stats(&team.member, &todo).await["overdue"], 0);
    api.reopen_task(&team.member, &todo, oldest).await;
    assert_eq!(api.stats(&team.member, &todo).await["overdue"], 1);
    api.patch_task(&team.member, &todo, yesterday, json!({"due_date": null}))
        .await;
    api.delete_task(&team.member, &todo, oldest).await;
    assert_eq!(api.stats(&team.member, &todo).await["overdue"], 0);
    assert_workload(
        &api,
        &team,
        &[todo.as_str()],
        &[kanban.as_str()],
        "after overdue changes",
    )
    .await;
}

/// What `user`'s my-work must hold with `status`, computed from every task and card of
/// the channels they can read: the views plus `kind`, open tasks and all cards soonest due
/// first (undated last, ties by id), done tasks likewise; `all` is open then done.
fn expected_my_work(user: &TestUser, tasks: &[Value], cards: &[Value], status: &str) -> Vec<Value> {
    let sorted = |mut items: Vec<Value>| {
        items.sort_by_key(|item| {
            let due = item["due_date"].as_str().map(str::to_owned);
            (due.is_none(), due, text(&item["id"]))
        });
        items
    };
    let tagged = |item: &Value, kind: &str| {
        let mut item = item.clone();
        item["kind"] = json!(kind);
        item
    };
    let mine = |item: &&Value| item["assignee_id"] == user.id.as_str();
    let open: Vec<Value> = tasks
        .iter()
        .filter(mine)
        .filter(|t| t["status"] == "open")
        .map(|t| tagged(t, "task"))
        .chain(cards.iter().filter(mine).map(|c| tagged(c, "card")))
        .collect();
    let done: Vec<Value> = tasks
        .iter()
        .filter(mine)
        .filter(|t| t["status"] == "done")
        .map(|t| tagged(t, "task"))
        .collect();
    match status {
        "open" => sorted(open),
        "done" => sorted(done),
        _ => {
            let mut all = sorted(open);
            all.extend(sorted(done));
            all
        }
    }
}

#[tokio::test]
async fn my_work_lists_my_items_soonest_due_first_and_pages() {
    let api = Api::new();
    let (team, todo, kanban) = work_team(&api).await;
    let wid = team.workspace_id.clone();
    let second = api
        .create_channel(&team.admin, &wid, json!({"name": "todo-2", "kind": "todo"}))
        .await;
    let second = text(&second["id"]);
    api.join(&team.member, &second).await;
    let columns = ids(api.board(&team.member, &kanban).await["columns"]
        .as_array()
        .unwrap());

    // Dates repeat so that ties (broken by id) occur across tasks and cards.
    let dates = [
        Some("2030-05-01"),
        None,
        Some("2020-01-01"),
        Some("2030-05-01"),
        None,
        Some("2025-12-31"),
        Some("2030-05-01"),
    ];
    for (i, due) in dates.iter().enumerate() {
        let mine =
            json!({"title": format!("t{i}"), "due_date": due, "assignee_id": team.member.id});
        let task = api.create_task(&team.admin, &todo, mine.clone()).await;
        api.create_task(&team.admin, &second, mine.clone()).await;
        let mut card = mine.clone();
        card["title"] = json!(format!("c{i}"));
        api.create_card(&team.admin, &kanban, &columns[i % 3], card)
            .await;
        if i % 3 == 0 {
            api.complete_task(&team.admin, &todo, &text(&task["id"]))
                .await;
        }
        // Someone else's work is not mine.
        let theirs = json!({"title": "theirs", "due_date": due, "assignee_id": team.admin.id});
        api.create_task(&team.admin, &todo, theirs).await;
    }
    let (tasks, cards) = workspace_items(&api, &team.member, &[&todo, &second], &[&kanban]).await;
    // `all` (open then done) is checked last, below.
    for status in ["open", "done"] {
        let expected = expected_my_work(&team.member, &tasks, &cards, status);
        assert!(!expected.is_empty());
        for limit in [1, 4, 100] {
            let walked = api.my_work(&team.member, &wid, status, limit).await;
            assert_eq!(walked, expected, "status {status}, limit {limit}");
        }
    }
    let default = api
        .walk(
            &format!("/v1/workspaces/{wid}/my-work"),
            team.member.token(),
            50,
        )
        .await;
    assert_eq!(
        default,
        expected_my_work(&team.member, &tasks, &cards, "open")
    );
    // The admin's own list holds only the admin's items (all open).
    let admins = api.my_work(&team.admin, &wid, "all", 100).await;
    assert_eq!(admins, expected_my_work(&team.admin, &tasks, &cards, "all"));
    assert_eq!(admins.len(), dates.len());
    // The owner has nothing assigned.
    assert!(api.my_work(&team.owner, &wid, "all", 10).await.is_empty());

    for query in ["status=closed", "limit=0", "limit=101", "cursor=nope"] {
        let reply = api
            .get(
                &format!("/v1/workspaces/{wid}/my-work?{query}"),
                team.member.token(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {:?}",
            reply.body
        );
    }
    let path = my_work_path(&wid, "open");
    assert_eq!(api.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.get(&path, team.outsider.token()).await.status,
        StatusCode::NOT_FOUND
    );

    // All: the open list first, then the done list, across pages.
    let expected = expected_my_work(&team.member, &tasks, &cards, "all");
    for limit in [1, 4, 100] {
        let walked = api.my_work(&team.member, &wid, "all", limit).await;
        assert_eq!(
            ids(&walked),
            ids(&expected),
            "status all, limit {limit}: open first, then done"
        );
        assert_eq!(walked, expected, "status all, limit {limit}");
    }
}

#[tokio::test]
async fn my_work_leaves_out_channels_i_can_no_longer_read() {
    let api = Api::new();
    let (team, todo, _) = work_team(&api).await;
    let wid = team.workspace_id.clone();
    let private = api
        .create_channel(
            &team.owner,
            &wid,
            json!({"name": "secret", "kind": "todo", "private": true}),
        )
        .await;
    let private = text(&private["id"]);
    api.add_channel_member(&team.owner, &private, &team.member)
        .await;
    let private_board = api
        .create_channel(
            &team.owner,
            &wid,
            json!({"name": "secret-board", "kind": "kanban", "private": true}),
        )
        .await;
    let private_board = text(&private_board["id"]);
    api.add_channel_member(&team.owner, &private_board, &team.member)
        .await;
    let column = text(&api.board(&team.owner, &private_board).await["columns"][0]["id"]);
    // Interleave hidden and visible items in due order, so that pages must skip some.
    for i in 0..6 {
        let due = format!("2030-01-{:02}", i + 10);
        let mine =
            json!({"title": format!("t{i}"), "due_date": due, "assignee_id": team.member.id});
        api.create_task(&team.owner, &private, mine.clone()).await;
        api.create_task(&team.owner, &todo, mine.clone()).await;
        api.create_card(&team.owner, &private_board, &column, mine)
            .await;
    }
    let everything = api.my_work(&team.member, &wid, "open", 100).await;
    assert_eq!(everything.len(), 18);

    api.leave(&team.member, &private).await;
    api.remove_channel_member(&team.owner, &private_board, &team.member)
        .await;
    let visible: Vec<Value> = everything
        .iter()
        .filter(|item| item["channel_id"] == todo.as_str())
        .cloned()
        .collect();
    assert_eq!(visible.len(), 6);
    for limit in [1, 2, 5, 100] {
        let walked = api.my_work(&team.member, &wid, "open", limit).await;
        assert_eq!(walked, visible, "limit {limit}");
    }
    // The items are still there and still assigned: the owner sees them and the workload
    // still counts them.
    let read = workload_of(api.workload(&team.owner, &wid).await);
    assert_eq!(read["items"][0]["open"], 18, "{read}");

    // Back in the channel: back in my-work.
    api.add_channel_member(&team.owner, &private, &team.member)
        .await;
    assert_eq!(api.my_work(&team.member, &wid, "open", 3).await.len(), 12);

    // Out of the workspace: no my-work at all.
    api.remove_from_workspace(&team.owner, &wid, &team.member)
        .await;
    let gone = api
        .get(&my_work_path(&wid, "open"), team.member.token())
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn workload_is_for_admins_and_counts_the_whole_workspace() {
    let api = Api::new();
    let (team, todo, kanban) = work_team(&api).await;
    let wid = team.workspace_id.clone();
    let path = workload_path(&wid);
    assert_eq!(api.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.get(&path, team.outsider.token()).await.status,
        StatusCode::NOT_FOUND
    );
    let member = api.get(&path, team.member.token()).await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
    assert_eq!(member.error_code(), "forbidden");
    assert_eq!(
        workload_of(api.workload(&team.admin, &wid).await),
        json!({"items": []})
    );

    // Items in a private channel the admin is not in count too.
    let private = api
        .create_channel(
            &team.member,
            &wid,
            json!({"name": "secret", "kind": "todo", "private": true}),
        )
        .await;
    let private = text(&private["id"]);
    let columns = ids(api.board(&team.member, &kanban).await["columns"]
        .as_array()
        .unwrap());
    for (i, user) in [&team.member, &team.admin, &team.owner, &team.member]
        .iter()
        .enumerate()
    {
        let due = if i % 2 == 0 { day(-2) } else { day(2) };
        api.create_task(
            &team.owner,
            &todo,
            json!({"title": "t", "assignee_id": user.id, "due_date": due}),
        )
        .await;
        api.create_card(
            &team.admin,
            &kanban,
            &columns[i % 3],
            json!({"title": "c", "assignee_id": user.id, "due_date": due}),
        )
        .await;
    }
    let secret = api
        .create_task(
            &team.member,
            &private,
            json!({"title": "s", "assignee_id": team.member.id, "due_date": day(-1)}),
        )
        .await;
    api.complete_task(&team.member, &private, &text(&secret["id"]))
        .await;
    api.create_task(
        &team.member,
        &private,
        json!({"title": "s2", "assignee_id": team.member.id}),
    )
    .await;
    let today = day(0);
    let (mut tasks, cards) = workspace_items(&api, &team.owner, &[&todo], &[&kanban]).await;
    tasks.extend(api.tasks(&team.member, &private, "all").await);
    let read = workload_of(api.workload(&team.admin, &wid).await);
    if day(0) == today {
        assert_eq!(read, workload(&tasks, &cards, &today));
    }
    assert_eq!(read, workload_of(api.workload(&team.owner, &wid).await));
    let items = read["items"].as_array().unwrap();
    let users: Vec<String> = items.iter().map(|i| text(&i["user_id"])).collect();
    let mut sorted = users.clone();
    sorted.sort();
    assert_eq!(users, sorted, "sorted by user_id");
    assert_eq!(users.len(), 3);
}

#[tokio::test]
async fn deleting_a_channel_drops_its_items_from_my_work_and_the_workload() {
    let api = Api::new();
    let (team, todo, kanban) = work_team(&api).await;
    let wid = team.workspace_id.clone();
    let other = api
        .create_channel(&team.owner, &wid, json!({"name": "stays", "kind": "todo"}))
        .await;
    let other = text(&other["id"]);
    let columns = ids(api.board(&team.member, &kanban).await["columns"]
        .as_array()
        .unwrap());
    for i in 0..5 {
        let body =
            json!({"title": format!("x{i}"), "assignee_id": team.member.id, "due_date": day(-1)});
        let task = api.create_task(&team.owner, &todo, body.clone()).await;
        if i == 0 {
            api.complete_task(&team.owner, &todo, &text(&task["id"]))
                .await;
        }
        api.create_card(&team.owner, &kanban, &columns[i % 3], body.clone())
            .await;
        api.create_task(&team.owner, &other, body).await;
    }
    let before = workload_of(api.workload(&team.owner, &wid).await);
    assert_eq!(
        before["items"][0],
        json!({"user_id": team.member.id, "open": 14, "done": 1, "overdue": 14})
    );

    api.delete_channel(&team.owner, &todo).await;
    // Unreadable at once: the channel's items leave my-work and its routes 404.
    let mine = api.my_work(&team.member, &wid, "all", 100).await;
    assert_eq!(mine.len(), 10, "{mine:?}");
    assert!(mine.iter().all(|item| item["channel_id"] != todo.as_str()));
    assert_eq!(
        api.get(&huddle_tests::tasks_path(&todo), team.owner.token())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get(&stats_path(&todo), team.owner.token()).await.status,
        StatusCode::NOT_FOUND
    );
    let expected =
        json!({"items": [{"user_id": team.member.id, "open": 10, "done": 0, "overdue": 10}]});
    eventually(
        "the deleted todo channel's counts leave the workload",
        || async { workload_of(api.workload(&team.owner, &wid).await) == expected },
    )
    .await;

    api.delete_channel(&team.owner, &kanban).await;
    let expected =
        json!({"items": [{"user_id": team.member.id, "open": 5, "done": 0, "overdue": 5}]});
    eventually("the deleted board's counts leave the workload", || async {
        workload_of(api.workload(&team.owner, &wid).await) == expected
    })
    .await;
    let mine = api.my_work(&team.member, &wid, "all", 2).await;
    assert_eq!(mine.len(), 5);
    assert!(mine.iter().all(|item| item["channel_id"] == other.as_str()));
    assert_todo_stats(&api, &team.member, &other, "the channel that stays").await;

    // Deleting the last channel with items empties the workload.
    api.delete_channel(&team.owner, &other).await;
    eventually("the workload empties", || async {
        workload_of(api.workload(&team.owner, &wid).await) == json!({"items": []})
    })
    .await;
    assert!(api.my_work(&team.member, &wid, "all", 10).await.is_empty());
}
