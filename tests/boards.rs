//! Kanban boards (channels of kind kanban) against the real local stack: the default
//! columns, columns (create, rename, WIP limit, move, delete only when empty), cards
//! (create, edit, delete, move within and across columns), the board in one call with 100
//! cards per column and the per-column pages after it, WIP limits under concurrent moves
//! and creates with exact `card_count`s, the wrong channel kind, and the column and card
//! events on the WebSocket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use huddle_tests::ws::{Socket, connect_subscribed, frames_until};
use huddle_tests::{
    Api, Team, TestUser, board_path, card_path, column_cards_path, column_path, columns_path,
    count_status, ids, text,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A team with a public kanban channel created by the owner and joined by the admin and
/// the member, and a private kanban channel of the member's (its only member).
struct Kanban {
    team: Team,
    board: String,
    private_board: String,
}

async fn kanban_team(api: &Api) -> Kanban {
    let team = api.fresh_team().await;
    let wid = team.workspace_id.clone();
    let board = api
        .create_channel(
            &team.owner,
            &wid,
            json!({"name": "board", "kind": "kanban"}),
        )
        .await;
    let board = text(&board["id"]);
    let private = api
        .create_channel(
            &team.member,
            &wid,
            json!({"name": "secret-board", "kind": "kanban", "private": true}),
        )
        .await;
    api.join(&team.admin, &board).await;
    api.join(&team.member, &board).await;
    Kanban {
        private_board: text(&private["id"]),
        board,
        team,
    }
}

/// The board's column ids in board order.
async fn column_ids(api: &Api, user: &TestUser, channel: &str) -> Vec<String> {
    ids(api.board(user, channel).await["columns"]
        .as_array()
        .unwrap())
}

/// The board's column `column_id` (with its first cards).
async fn board_column(api: &Api, user: &TestUser, channel: &str, column_id: &str) -> Value {
    let board = api.board(user, channel).await;
    board["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|column| column["id"] == column_id)
        .unwrap_or_else(|| panic!("no column {column_id} on {board}"))
        .clone()
}

/// Creates `count` cards titled `{prefix}0`, ... in a column, one after the other.
async fn create_cards(
    api: &Api,
    by: &TestUser,
    channel: &str,
    column: &str,
    prefix: &str,
    count: usize,
) -> Vec<String> {
    let mut created = Vec::with_capacity(count);
    for i in 0..count {
        let body = json!({"title": format!("{prefix}{i}")});
        created.push(text(
            &api.create_card(by, channel, column, body).await["id"],
        ));
    }
    created
}

/// The ids of a column's cards (walked), after checking that its `card_count` on the
/// board is exactly how many there are and that they are in (position, id) order.
async fn cards_in(api: &Api, user: &TestUser, channel: &str, column: &str) -> Vec<String> {
    let cards = api.column_cards(user, channel, column).await;
    // A total order: by position, then id (two concurrent moves may draw one key).
    let key = |card: &Value| (text(&card["position"]), text(&card["id"]));
    for pair in cards.windows(2) {
        assert!(key(&pair[0]) < key(&pair[1]), "{pair:?}");
    }
    assert!(cards.iter().all(|card| card["column_id"] == column));
    let listed = board_column(api, user, channel, column).await;
    assert_eq!(
        listed["card_count"].as_u64().unwrap(),
        cards.len() as u64,
        "card_count of {column}"
    );
    ids(&cards)
}

/// Ids as owned strings, to compare with a list of ids.
fn owned(ids: &[&String]) -> Vec<String> {
    ids.iter().map(|id| (*id).clone()).collect()
}

fn card_move(channel: &str, card: &str) -> String {
    format!("{}/move", card_path(channel, card))
}

#[tokio::test]
async fn a_new_kanban_channel_starts_with_three_empty_columns() {
    let api = Api::new();
    let Kanban { team, board, .. } = kanban_team(&api).await;
    let read = api.board(&team.member, &board).await;
    let columns = read["columns"].as_array().unwrap();
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["To do", "In progress", "Done"]);
    for column in columns {
        let keys: BTreeSet<&str> = column
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let expected: BTreeSet<&str> = [
            "id",
            "channel_id",
            "name",
            "position",
            "wip_limit",
            "card_count",
            "cards",
            "next_cursor",
        ]
        .into_iter()
        .collect();
        assert_eq!(keys, expected, "{column}");
        assert_eq!(column["channel_id"], board.as_str());
        assert_eq!(column["wip_limit"], Value::Null);
        assert_eq!(column["card_count"], 0);
        assert_eq!(column["cards"], json!([]));
        assert_eq!(column["next_cursor"], Value::Null);
    }
    assert!(text(&columns[0]["position"]) < text(&columns[1]["position"]));
    assert!(text(&columns[1]["position"]) < text(&columns[2]["position"]));
    // A channel created private starts the same way.
    let Kanban {
        team,
        private_board,
        ..
    } = kanban_team(&api).await;
    let private = api.board(&team.member, &private_board).await;
    let names: Vec<&str> = private["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["To do", "In progress", "Done"]);
}

#[tokio::test]
async fn columns_are_created_renamed_limited_moved_and_deleted() {
    let api = Api::new();
    let Kanban { team, board, .. } = kanban_team(&api).await;
    let defaults = column_ids(&api, &team.member, &board).await;
    let review = api
        .create_column(
            &team.member,
            &board,
            json!({"name": "Review", "wip_limit": 2}),
        )
        .await;
    assert_eq!(review["name"], "Review");
    assert_eq!(review["wip_limit"], 2);
    assert_eq!(review["card_count"], 0);
    assert_eq!(review["channel_id"], board.as_str());
    let rid = text(&review["id"]);
    let mut expected = defaults.clone();
    expected.push(rid.clone());
    assert_eq!(column_ids(&api, &team.member, &board).await, expected);

    let path = columns_path(&board);
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "  "}), "name"),
        (json!({"name": "n".repeat(81)}), "name"),
        (json!({"name": null}), "name"),
        (json!({"name": "x", "wip_limit": 0}), "wip_limit"),
        (json!({"name": "x", "wip_limit": -1}), "wip_limit"),
        (json!({"name": "x", "wip_limit": 1001}), "wip_limit"),
        (json!({"name": "x", "wip_limit": "3"}), "wip_limit"),
        (json!({"name": "x", "wip_limit": 2.5}), "wip_limit"),
    ] {
        let reply = api.post(&path, team.member.token(), body.clone()).await;
        reply.assert_invalid(field, &body.to_string());
    }
    // Unknown fields and a missing name (the details name the body) are 400s too.
    for body in [json!({"name": "x", "colour": "red"}), json!({})] {
        let reply = api.post(&path, team.member.token(), body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(column_ids(&api, &team.member, &board).await, expected);
    let edge = api
        .create_column(
            &team.member,
            &board,
            json!({"name": "é".repeat(80), "wip_limit": 1000}),
        )
        .await;
    assert_eq!(edge["wip_limit"], 1000);
    let unlimited = api
        .create_column(
            &team.member,
            &board,
            json!({"name": "Later", "wip_limit": null}),
        )
        .await;
    assert_eq!(unlimited["wip_limit"], Value::Null);

    // Rename and limit; null lifts the limit; the name cannot be blank or null.
    let renamed = api
        .patch_column(&team.member, &board, &rid, json!({"name": "Code review"}))
        .await;
    assert_eq!(renamed["name"], "Code review");
    assert_eq!(renamed["wip_limit"], 2);
    let limited = api
        .patch_column(&team.member, &board, &rid, json!({"wip_limit": 5}))
        .await;
    assert_eq!(limited["wip_limit"], 5);
    assert_eq!(limited["name"], "Code review");
    let lifted = api
        .patch_column(&team.member, &board, &rid, json!({"wip_limit": null}))
        .await;
    assert_eq!(lifted["wip_limit"], Value::Null);
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": null}), "name"),
        (json!({"wip_limit": 0}), "wip_limit"),
        (json!({"wip_limit": 1001}), "wip_limit"),
    ] {
        let reply = api
            .patch(
                &column_path(&board, &rid),
                team.member.token(),
                body.clone(),
            )
            .await;
        reply.assert_invalid(field, &body.to_string());
    }
    let unknown = api
        .patch(
            &column_path(&board, &rid),
            team.member.token(),
            json!({"card_count": 9}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let now = board_column(&api, &team.member, &board, &rid).await;
    assert_eq!(now["name"], "Code review");
    assert_eq!(now["wip_limit"], Value::Null);

    // Moves: before the first column, after the second.
    let moved = api
        .move_column(
            &team.member,
            &board,
            &rid,
            json!({"before_id": defaults[0]}),
        )
        .await;
    assert_eq!(moved["id"], rid.as_str());
    let order = column_ids(&api, &team.member, &board).await;
    assert_eq!(
        &order[..4],
        owned(&[&rid, &defaults[0], &defaults[1], &defaults[2]])
    );
    api.move_column(&team.member, &board, &rid, json!({"after_id": defaults[1]}))
        .await;
    let order = column_ids(&api, &team.member, &board).await;
    assert_eq!(
        &order[..4],
        owned(&[&defaults[0], &defaults[1], &rid, &defaults[2]])
    );
    let move_path = format!("{}/move", column_path(&board, &rid));
    for (body, field) in [
        (json!({"before_id": rid}), "before_id"),
        (
            json!({"after_id": ulid::Ulid::new().to_string()}),
            "after_id",
        ),
    ] {
        let reply = api
            .post(&move_path, team.member.token(), body.clone())
            .await;
        reply.assert_invalid(field, &body.to_string());
    }
    let both = api
        .post(
            &move_path,
            team.member.token(),
            json!({"before_id": defaults[0], "after_id": defaults[1]}),
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert_eq!(column_ids(&api, &team.member, &board).await, order);

    // Deletes: only when empty; only the channel's creator or an admin+.
    let card = api
        .create_card(&team.member, &board, &rid, json!({"title": "in review"}))
        .await;
    let by_member = api
        .delete(&column_path(&board, &rid), team.member.token())
        .await;
    assert_eq!(
        by_member.status,
        StatusCode::FORBIDDEN,
        "{:?}",
        by_member.body
    );
    let non_empty = api
        .delete(&column_path(&board, &rid), team.owner.token())
        .await;
    assert_eq!(
        non_empty.status,
        StatusCode::CONFLICT,
        "{:?}",
        non_empty.body
    );
    assert_eq!(non_empty.error_code(), "conflict");
    assert_eq!(
        cards_in(&api, &team.member, &board, &rid).await,
        [text(&card["id"])]
    );
    api.delete_card(&team.member, &board, &text(&card["id"]))
        .await;
    api.delete_column(&team.admin, &board, &rid).await;
    assert!(!column_ids(&api, &team.member, &board).await.contains(&rid));
    for (method, body) in [
        (Method::PATCH, Some(json!({"name": "ghost"}))),
        (Method::DELETE, None),
    ] {
        let reply = api
            .call(
                method.clone(),
                &column_path(&board, &rid),
                team.owner.token(),
                body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method}");
    }
    let gone = api
        .get(&column_cards_path(&board, &rid), team.owner.token())
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    api.delete_column(&team.owner, &board, &text(&edge["id"]))
        .await;
}

#[tokio::test]
async fn cards_are_created_edited_moved_and_deleted() {
    let api = Api::new();
    let Kanban { team, board, .. } = kanban_team(&api).await;
    let columns = column_ids(&api, &team.member, &board).await;
    let (todo, doing, done) = (&columns[0], &columns[1], &columns[2]);
    let card = api
        .create_card(&team.member, &board, todo, json!({"title": "First"}))
        .await;
    let keys: BTreeSet<&str> = card
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "id",
        "channel_id",
        "column_id",
        "title",
        "description",
        "assignee_id",
        "labels",
        "due_date",
        "position",
        "created_by",
        "created_at",
        "updated_at",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected, "{card}");
    assert_eq!(card["column_id"], todo.as_str());
    assert_eq!(card["channel_id"], board.as_str());
    assert_eq!(card["description"], Value::Null);
    assert_eq!(card["assignee_id"], Value::Null);
    assert_eq!(card["labels"], json!([]));
    assert_eq!(card["due_date"], Value::Null);
    assert_eq!(card["created_by"], team.member.id.as_str());
    let cid = text(&card["id"]);
    assert_eq!(api.get_card(&team.owner, &board, &cid).await, card);

    // Validation.
    let path = column_cards_path(&board, todo);
    let eleven: Vec<String> = (0..11).map(|i| format!("l{i}")).collect();
    for (body, field) in [
        (json!({"title": " "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (
            json!({"title": "t", "description": "d".repeat(10_001)}),
            "description",
        ),
        (json!({"title": "t", "labels": eleven}), "labels"),
        (json!({"title": "t", "labels": ["a", "a"]}), "labels"),
        (json!({"title": "t", "labels": ["x".repeat(33)]}), "labels"),
        (json!({"title": "t", "due_date": "2030-02-31"}), "due_date"),
        (
            json!({"title": "t", "assignee_id": team.outsider.id}),
            "assignee_id",
        ),
    ] {
        let reply = api.post(&path, team.member.token(), body.clone()).await;
        reply.assert_invalid(field, &body.to_string());
    }
    for unknown in [
        json!({}),
        json!({"title": "t", "priority": "high"}),
        json!({"title": "t", "column_id": doing}),
        json!({"title": "t", "status": "done"}),
    ] {
        let reply = api.post(&path, team.member.token(), unknown.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{unknown}");
    }
    assert_eq!(
        cards_in(&api, &team.member, &board, todo).await,
        owned(&[&cid])
    );

    // Field-level PATCH; null clears; title null is refused.
    let full = api
        .patch_card(
            &team.admin,
            &board,
            &cid,
            json!({
                "title": "Renamed",
                "description": "why",
                "assignee_id": team.admin.id,
                "labels": ["ops"],
                "due_date": "2030-06-30",
            }),
        )
        .await;
    assert_eq!(full["title"], "Renamed");
    assert_eq!(full["description"], "why");
    assert_eq!(full["assignee_id"], team.admin.id.as_str());
    assert_eq!(full["labels"], json!(["ops"]));
    assert_eq!(full["due_date"], "2030-06-30");
    assert_eq!(full["column_id"], todo.as_str());
    assert_eq!(full["position"], card["position"]);
    let cleared = api
        .patch_card(
            &team.member,
            &board,
            &cid,
            json!({"description": null, "assignee_id": null, "labels": null, "due_date": null}),
        )
        .await;
    assert_eq!(cleared["title"], "Renamed");
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["assignee_id"], Value::Null);
    assert_eq!(cleared["labels"], json!([]));
    assert_eq!(cleared["due_date"], Value::Null);
    for (body, field) in [
        (json!({"title": null}), "title"),
        (json!({"labels": ["x", "x"]}), "labels"),
        (json!({"assignee_id": team.outsider.id}), "assignee_id"),
    ] {
        let reply = api
            .patch(&card_path(&board, &cid), team.member.token(), body.clone())
            .await;
        reply.assert_invalid(field, &body.to_string());
    }
    let unknown = api
        .patch(
            &card_path(&board, &cid),
            team.member.token(),
            json!({"column_id": doing}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.get_card(&team.member, &board, &cid).await, cleared);

    // Moves within a column and across columns.
    let more = create_cards(&api, &team.member, &board, todo, "C", 3).await;
    let all = [
        cid.clone(),
        more[0].clone(),
        more[1].clone(),
        more[2].clone(),
    ];
    assert_eq!(cards_in(&api, &team.member, &board, todo).await, all);
    let moved = api
        .move_card(
            &team.member,
            &board,
            &more[2],
            json!({"column_id": todo, "before_id": cid}),
        )
        .await;
    assert_eq!(moved["column_id"], todo.as_str());
    assert_eq!(
        cards_in(&api, &team.member, &board, todo).await,
        owned(&[&more[2], &cid, &more[0], &more[1]])
    );
    api.move_card(&team.member, &board, &cid, json!({"column_id": todo}))
        .await;
    assert_eq!(
        cards_in(&api, &team.member, &board, todo).await,
        owned(&[&more[2], &more[0], &more[1], &cid])
    );
    let across = api
        .move_card(&team.member, &board, &more[0], json!({"column_id": doing}))
        .await;
    assert_eq!(across["column_id"], doing.as_str());
    api.move_card(
        &team.member,
        &board,
        &more[1],
        json!({"column_id": doing, "before_id": more[0]}),
    )
    .await;
    api.move_card(
        &team.member,
        &board,
        &cid,
        json!({"column_id": doing, "after_id": more[1]}),
    )
    .await;
    assert_eq!(
        cards_in(&api, &team.member, &board, todo).await,
        owned(&[&more[2]])
    );
    assert_eq!(
        cards_in(&api, &team.member, &board, doing).await,
        owned(&[&more[1], &cid, &more[0]])
    );
    assert_eq!(
        api.get_card(&team.member, &board, &cid).await["column_id"],
        doing.as_str()
    );

    // Refused moves change nothing.
    let move_path = card_move(&board, &more[2]);
    for (body, field) in [
        (json!({"column_id": done, "before_id": cid}), "before_id"),
        (json!({"column_id": todo, "after_id": cid}), "after_id"),
        (
            json!({"column_id": doing, "before_id": ulid::Ulid::new().to_string()}),
            "before_id",
        ),
        (json!({"column_id": "nope"}), "column_id"),
    ] {
        let reply = api
            .post(&move_path, team.member.token(), body.clone())
            .await;
        reply.assert_invalid(field, &body.to_string());
    }
    for body in [
        json!({"column_id": doing, "before_id": cid, "after_id": more[0]}),
        json!({"before_id": cid}),
        json!({}),
    ] {
        let reply = api
            .post(&move_path, team.member.token(), body.clone())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            reply.body
        );
    }
    assert_eq!(
        cards_in(&api, &team.member, &board, todo).await,
        owned(&[&more[2]])
    );
    assert_eq!(
        cards_in(&api, &team.member, &board, doing).await,
        owned(&[&more[1], &cid, &more[0]])
    );

    // Deletes: the creator or an admin+; plain members 403.
    let owners = api
        .create_card(&team.owner, &board, done, json!({"title": "owner's"}))
        .await;
    let refused = api
        .delete(
            &card_path(&board, &text(&owners["id"])),
            team.member.token(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    api.delete_card(&team.member, &board, &cid).await;
    api.delete_card(&team.admin, &board, &text(&owners["id"]))
        .await;
    let gone = api.get(&card_path(&board, &cid), team.owner.token()).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let twice = api
        .delete(&card_path(&board, &cid), team.owner.token())
        .await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
    assert_eq!(
        cards_in(&api, &team.member, &board, doing).await,
        owned(&[&more[1], &more[0]])
    );
    assert!(cards_in(&api, &team.member, &board, done).await.is_empty());
}

#[tokio::test]
async fn unknown_columns_and_cards_and_other_kinds_of_channel_are_refused() {
    let api = Api::new();
    let Kanban {
        team,
        board,
        private_board,
    } = kanban_team(&api).await;
    let wid = team.workspace_id.clone();
    let columns = column_ids(&api, &team.member, &board).await;
    let card = api
        .create_card(&team.member, &board, &columns[0], json!({"title": "c"}))
        .await;
    let card_id = text(&card["id"]);
    let other = api
        .create_channel(
            &team.owner,
            &wid,
            json!({"name": "other", "kind": "kanban"}),
        )
        .await;
    let other = text(&other["id"]);
    let other_columns = column_ids(&api, &team.owner, &other).await;
    let unknown = ulid::Ulid::new().to_string();

    // A card or column of another board, or none at all: 404 (with a valid target column
    // of the board in the path, so that only the card is unknown there).
    for (method, path, body) in [
        (Method::GET, card_path(&other, &card_id), None),
        (
            Method::PATCH,
            card_path(&other, &card_id),
            Some(json!({"title": "x"})),
        ),
        (Method::DELETE, card_path(&other, &card_id), None),
        (
            Method::POST,
            card_move(&other, &card_id),
            Some(json!({"column_id": other_columns[1]})),
        ),
        (Method::GET, card_path(&board, &unknown), None),
        (Method::GET, column_cards_path(&other, &columns[0]), None),
        (
            Method::POST,
            column_cards_path(&other, &columns[0]),
            Some(json!({"title": "x"})),
        ),
        (
            Method::PATCH,
            column_path(&other, &columns[0]),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, column_path(&other, &columns[1]), None),
        (Method::GET, column_cards_path(&board, &unknown), None),
        (
            Method::POST,
            column_cards_path(&board, &unknown),
            Some(json!({"title": "x"})),
        ),
    ] {
        let reply = api
            .call(method.clone(), &path, team.owner.token(), body)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            reply.body
        );
    }
    assert_eq!(column_ids(&api, &team.member, &board).await, columns);
    assert_eq!(api.get_card(&team.member, &board, &card_id).await, card);

    // Board routes on a todo or chat channel: 409 for readers, 404 for the rest.
    let todo = api
        .create_channel(&team.owner, &wid, json!({"name": "todo", "kind": "todo"}))
        .await;
    let secret_todo = api
        .create_channel(
            &team.member,
            &wid,
            json!({"name": "secret-todo", "kind": "todo", "private": true}),
        )
        .await;
    for channel in [text(&todo["id"]), team.public_id.clone()] {
        for (method, path, body) in [
            (Method::GET, board_path(&channel), None),
            (
                Method::POST,
                columns_path(&channel),
                Some(json!({"name": "x"})),
            ),
            (Method::GET, column_cards_path(&channel, &columns[0]), None),
            (Method::GET, card_path(&channel, &card_id), None),
        ] {
            let reply = api
                .call(method.clone(), &path, team.owner.token(), body)
                .await;
            assert_eq!(reply.status, StatusCode::CONFLICT, "{method} {path}");
            assert_eq!(reply.error_code(), "conflict");
        }
    }
    let secret = board_path(&text(&secret_todo["id"]));
    assert_eq!(
        api.get(&secret, team.member.token()).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.get(&secret, team.admin.token()).await.status,
        StatusCode::NOT_FOUND
    );

    // The private board: its member only.
    let private_columns = column_ids(&api, &team.member, &private_board).await;
    let secret_card = api
        .create_card(
            &team.member,
            &private_board,
            &private_columns[0],
            json!({"title": "s"}),
        )
        .await;
    let secret_card = text(&secret_card["id"]);
    for (method, path, body) in [
        (Method::GET, board_path(&private_board), None),
        (
            Method::POST,
            columns_path(&private_board),
            Some(json!({"name": "x"})),
        ),
        (
            Method::PATCH,
            column_path(&private_board, &private_columns[0]),
            Some(json!({"name": "x"})),
        ),
        (
            Method::DELETE,
            column_path(&private_board, &private_columns[2]),
            None,
        ),
        (
            Method::GET,
            column_cards_path(&private_board, &private_columns[0]),
            None,
        ),
        (
            Method::POST,
            column_cards_path(&private_board, &private_columns[0]),
            Some(json!({"title": "x"})),
        ),
        (Method::GET, card_path(&private_board, &secret_card), None),
        (
            Method::DELETE,
            card_path(&private_board, &secret_card),
            None,
        ),
        (
            Method::POST,
            card_move(&private_board, &secret_card),
            Some(json!({"column_id": private_columns[1]})),
        ),
    ] {
        for user in [&team.admin, &team.owner, &team.outsider] {
            let reply = api
                .call(method.clone(), &path, user.token(), body.clone())
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        }
        let anonymous = api.call(method.clone(), &path, None, body).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    assert_eq!(
        column_ids(&api, &team.member, &private_board).await,
        private_columns
    );
    assert_eq!(
        cards_in(&api, &team.member, &private_board, &private_columns[0]).await,
        owned(&[&secret_card])
    );

    // An assignee must be able to read the board: the owner is not in the private one.
    let refused = api
        .post(
            &column_cards_path(&private_board, &private_columns[0]),
            team.member.token(),
            json!({"title": "x", "assignee_id": team.owner.id}),
        )
        .await;
    refused.assert_invalid("assignee_id", "a non-member of the private board");
    let refused = api
        .patch(
            &card_path(&private_board, &secret_card),
            team.member.token(),
            json!({"assignee_id": team.owner.id}),
        )
        .await;
    refused.assert_invalid("assignee_id", "a non-member of the private board");

    // A workspace member who has not joined the public board reads but does not write.
    let reader = api.register_user().await;
    api.add_to_workspace(&team.owner, &wid, &reader, "member")
        .await;
    api.board(&reader, &board).await;
    api.get_card(&reader, &board, &card_id).await;
    for (method, path, body) in [
        (Method::POST, columns_path(&board), json!({"name": "x"})),
        (
            Method::POST,
            column_cards_path(&board, &columns[0]),
            json!({"title": "x"}),
        ),
        (
            Method::PATCH,
            card_path(&board, &card_id),
            json!({"title": "x"}),
        ),
        (
            Method::POST,
            card_move(&board, &card_id),
            json!({"column_id": columns[1]}),
        ),
    ] {
        let reply = api
            .call(method.clone(), &path, reader.token(), Some(body))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
}

#[tokio::test]
async fn the_board_holds_100_cards_per_column_and_the_column_pages_the_rest() {
    let api = Api::new();
    let Kanban { team, board, .. } = kanban_team(&api).await;
    let columns = column_ids(&api, &team.member, &board).await;
    let created = create_cards(&api, &team.member, &board, &columns[0], "K", 105).await;
    let few = create_cards(&api, &team.member, &board, &columns[1], "F", 2).await;

    let read = api.board(&team.admin, &board).await;
    let first = &read["columns"][0];
    assert_eq!(first["card_count"], 105);
    assert_eq!(ids(first["cards"].as_array().unwrap()), created[..100]);
    let cursor = text(&first["next_cursor"]);
    assert_eq!(ids(read["columns"][1]["cards"].as_array().unwrap()), few);
    assert_eq!(read["columns"][1]["next_cursor"], Value::Null);
    assert_eq!(read["columns"][2]["next_cursor"], Value::Null);

    // The board's cursor continues in the column's own list.
    let path = column_cards_path(&board, &columns[0]);
    let rest = api
        .page(&path, team.admin.token(), 100, Some(&cursor))
        .await;
    assert_eq!(rest.status, StatusCode::OK, "{:?}", rest.body);
    assert_eq!(ids(rest.body["items"].as_array().unwrap()), created[100..]);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    // And the column walks whole at any page size.
    for limit in [1, 7, 50, 100] {
        let walked = api.walk(&path, team.admin.token(), limit).await;
        assert_eq!(ids(&walked), created, "limit {limit}");
    }
    let default = api.get(&path, team.admin.token()).await;
    assert_eq!(default.body["items"].as_array().unwrap().len(), 50);
    for query in ["limit=0", "limit=101", "cursor=nope"] {
        let reply = api
            .get(&format!("{path}?{query}"), team.admin.token())
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
    }
    // A cursor of one column is no cursor of another.
    let other = column_cards_path(&board, &columns[1]);
    let crossed = api
        .page(&other, team.admin.token(), 100, Some(&cursor))
        .await;
    assert_ne!(crossed.status.as_u16() / 100, 5, "{:?}", crossed.body);
}

#[tokio::test]
async fn ten_concurrent_moves_into_a_column_with_wip_limit_3_admit_exactly_3() {
    let api = Api::new();
    let Kanban { team, board, .. } = kanban_team(&api).await;
    let columns = column_ids(&api, &team.member, &board).await;
    let doing = text(
        &api.patch_column(&team.member, &board, &columns[1], json!({"wip_limit": 3}))
            .await["id"],
    );
    let waiting = create_cards(&api, &team.member, &board, &columns[0], "W", 10).await;
    let replies = futures::future::join_all(waiting.iter().map(|card| {
        api.post(
            &card_move(&board, card),
            team.member.token(),
            json!({"column_id": doing}),
        )
    }))
    .await;
    assert_eq!(count_status(&replies, StatusCode::OK), 3, "{replies:?}");
    let refused: Vec<_> = replies
        .iter()
        .filter(|r| r.status != StatusCode::OK)
        .collect();
    assert_eq!(refused.len(), 7);
    for reply in refused {
        assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.body);
        assert_eq!(reply.error_code(), "wip_limit_reached");
    }
    let admitted: BTreeSet<String> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .map(|r| text(&r.body["id"]))
        .collect();
    let in_doing: BTreeSet<String> = cards_in(&api, &team.member, &board, &doing)
        .await
        .into_iter()
        .collect();
    assert_eq!(in_doing, admitted);
    let left = cards_in(&api, &team.member, &board, &columns[0]).await;
    assert_eq!(left.len(), 7);
    assert!(left.iter().all(|card| !admitted.contains(card)));

    // Creating in the full column is refused the same way, and writes nothing.
    let full = api
        .post(
            &column_cards_path(&board, &doing),
            team.member.token(),
            json!({"title": "one too many"}),
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert_eq!(full.error_code(), "wip_limit_reached");
    assert_eq!(cards_in(&api, &team.member, &board, &doing).await.len(), 3);

    // Ten concurrent creates into an empty column with wip_limit 3: exactly 3.
    let review = api
        .create_column(
            &team.member,
            &board,
            json!({"name": "Review", "wip_limit": 3}),
        )
        .await;
    let review = text(&review["id"]);
    let creates = futures::future::join_all((0..10).map(|i| {
        api.post(
            &column_cards_path(&board, &review),
            team.member.token(),
            json!({"title": format!("R{i}")}),
        )
    }))
    .await;
    assert_eq!(
        count_status(&creates, StatusCode::CREATED),
        3,
        "{creates:?}"
    );
    assert_eq!(
        count_status(&creates, StatusCode::CONFLICT),
        7,
        "{creates:?}"
    );
    assert!(
        creates
            .iter()
            .filter(|r| r.status == StatusCode::CONFLICT)
            .all(|r| r.error_code() == "wip_limit_reached")
    );
    assert_eq!(cards_in(&api, &team.member, &board, &review).await.len(), 3);

    // Moves out and in at once keep the counts exact: 3 leave Doing while 7 try to enter.
    let leaving: Vec<String> = admitted.iter().cloned().collect();
    let out = leaving.iter().map(|card| {
        api.post(
            &card_move(&board, card),
            team.member.token(),
            json!({"column_id": columns[2]}),
        )
    });
    let into = left.iter().map(|card| {
        api.post(
            &card_move(&board, card),
            team.member.token(),
            json!({"column_id": doing}),
        )
    });
    let (out, into) = tokio::join!(
        futures::future::join_all(out),
        futures::future::join_all(into)
    );
    assert_eq!(count_status(&out, StatusCode::OK), 3, "{out:?}");
    let entered = count_status(&into, StatusCode::OK);
    assert!(entered <= 3, "{entered} entered a column of 3");
    assert_eq!(
        count_status(&into, StatusCode::CONFLICT),
        7 - entered,
        "{into:?}"
    );
    assert_eq!(
        cards_in(&api, &team.member, &board, &doing).await.len(),
        entered
    );
    assert_eq!(
        cards_in(&api, &team.member, &board, &columns[2])
            .await
            .len(),
        3
    );
    assert_eq!(
        cards_in(&api, &team.member, &board, &columns[0])
            .await
            .len(),
        7 - entered
    );
}

#[tokio::test]
async fn a_lowered_wip_limit_keeps_its_cards_and_allows_reordering() {
    let api = Api::new();
    let Kanban { team, board, .. } = kanban_team(&api).await;
    let columns = column_ids(&api, &team.member, &board).await;
    let doing = &columns[1];
    let inside = create_cards(&api, &team.member, &board, doing, "D", 3).await;
    let outside = create_cards(&api, &team.member, &board, &columns[0], "O", 1).await;
    let lowered = api
        .patch_column(&team.member, &board, doing, json!({"wip_limit": 1}))
        .await;
    assert_eq!(lowered["wip_limit"], 1);
    assert_eq!(lowered["card_count"], 3);
    assert_eq!(cards_in(&api, &team.member, &board, doing).await, inside);

    // Reordering inside the over-full column is allowed (with an anchor or to its end).
    api.move_card(
        &team.member,
        &board,
        &inside[2],
        json!({"column_id": doing, "before_id": inside[0]}),
    )
    .await;
    api.move_card(
        &team.member,
        &board,
        &inside[0],
        json!({"column_id": doing}),
    )
    .await;
    assert_eq!(
        cards_in(&api, &team.member, &board, doing).await,
        owned(&[&inside[2], &inside[1], &inside[0]])
    );
    // Editing a card in it is too.
    api.patch_card(&team.member, &board, &inside[1], json!({"title": "edited"}))
        .await;

    // Nothing comes in until it is below its limit.
    let path = card_move(&board, &outside[0]);
    let refused = api
        .post(&path, team.member.token(), json!({"column_id": doing}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.error_code(), "wip_limit_reached");
    api.move_card(
        &team.member,
        &board,
        &inside[0],
        json!({"column_id": columns[2]}),
    )
    .await;
    api.move_card(
        &team.member,
        &board,
        &inside[1],
        json!({"column_id": columns[2]}),
    )
    .await;
    let still = api
        .post(&path, team.member.token(), json!({"column_id": doing}))
        .await;
    assert_eq!(still.status, StatusCode::CONFLICT, "at its limit of 1");
    api.delete_card(&team.member, &board, &inside[2]).await;
    api.move_card(
        &team.member,
        &board,
        &outside[0],
        json!({"column_id": doing}),
    )
    .await;
    assert_eq!(
        cards_in(&api, &team.member, &board, doing).await,
        owned(&[&outside[0]])
    );

    // Lifting the limit lets any number in.
    api.patch_column(&team.member, &board, doing, json!({"wip_limit": null}))
        .await;
    for card in cards_in(&api, &team.member, &board, &columns[2]).await {
        api.move_card(&team.member, &board, &card, json!({"column_id": doing}))
            .await;
    }
    assert_eq!(cards_in(&api, &team.member, &board, doing).await.len(), 3);
}

/// The next frame of `kind` about `id` on `socket`, skipping others.
async fn event(socket: &mut Socket, kind: &str, id: &str) -> Value {
    let frames = frames_until(socket, |f| f["type"] == kind && f["data"]["id"] == id).await;
    frames.last().unwrap().clone()
}

#[tokio::test]
async fn column_and_card_events_reach_the_channels_subscribers() {
    let api = Api::new();
    let Kanban { team, board, .. } = kanban_team(&api).await;
    let columns = column_ids(&api, &team.member, &board).await;
    let mut socket = connect_subscribed(&api, &team.admin, &[&board]).await;

    let column = api
        .create_column(&team.member, &board, json!({"name": "Review"}))
        .await;
    let col = text(&column["id"]);
    let created = event(&mut socket, "column.created", &col).await;
    assert_eq!(created["channel_id"], board.as_str());
    assert_eq!(created["data"]["name"], "Review");
    assert_eq!(created["data"]["channel_id"], board.as_str());
    let renamed = api
        .patch_column(
            &team.member,
            &board,
            &col,
            json!({"name": "QA", "wip_limit": 4}),
        )
        .await;
    let updated = event(&mut socket, "column.updated", &col).await;
    assert_eq!(updated["data"]["name"], "QA");
    assert_eq!(updated["data"]["wip_limit"], renamed["wip_limit"]);
    api.move_column(&team.member, &board, &col, json!({"before_id": columns[0]}))
        .await;
    let moved = event(&mut socket, "column.updated", &col).await;
    assert_ne!(moved["data"]["position"], updated["data"]["position"]);

    let card = api
        .create_card(&team.member, &board, &columns[0], json!({"title": "live"}))
        .await;
    let card_id = text(&card["id"]);
    let created = event(&mut socket, "card.created", &card_id).await;
    assert_eq!(created["channel_id"], board.as_str());
    assert_eq!(created["data"], card);
    let patched = api
        .patch_card(&team.member, &board, &card_id, json!({"labels": ["a"]}))
        .await;
    assert_eq!(
        event(&mut socket, "card.updated", &card_id).await["data"],
        patched
    );
    let moved = api
        .move_card(&team.member, &board, &card_id, json!({"column_id": col}))
        .await;
    assert_eq!(
        event(&mut socket, "card.updated", &card_id).await["data"],
        moved
    );
    api.delete_card(&team.member, &board, &card_id).await;
    let deleted = event(&mut socket, "card.deleted", &card_id).await;
    assert_eq!(deleted["channel_id"], board.as_str());
    assert_eq!(deleted["data"]["channel_id"], board.as_str());
    assert_eq!(deleted["data"]["column_id"], col.as_str());

    api.delete_column(&team.owner, &board, &col).await;
    let deleted = event(&mut socket, "column.deleted", &col).await;
    assert_eq!(deleted["data"]["id"], col.as_str());
    assert_eq!(deleted["data"]["channel_id"], board.as_str());
}
