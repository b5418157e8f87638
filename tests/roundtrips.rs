//! The AWS calls of the routes a member uses every day (and the main reads), counted by the gateway
//! (`COUNT_AWS_CALLS=1`, `x-huddle-aws-calls`) and compared with README's table "Round
//! trips per route": a route that makes more calls, or more of them one after another,
//! fails here until the table says so. No route may Scan.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use huddle_tests::{Api, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// One route's call: its README name, method, concrete path, token and body.
type Call<'a> = (&'static str, Method, String, Option<&'a str>, Option<Value>);

/// `route -> (sequential, total, calls)` from README's table.
fn readme_table() -> BTreeMap<String, (usize, usize, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md at the repository root");
    let table = readme
        .split("<!-- round trips: begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- round trips: end -->").next())
        .expect("README's round-trip table markers");
    table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_owned(),
                (
                    cells[2].parse().unwrap(),
                    cells[3].parse().unwrap(),
                    cells[4].to_owned(),
                ),
            )
        })
        .collect()
}

/// `(sequential, total, calls)` of one answer, from its header.
fn measured(reply: &Reply) -> (usize, usize, String) {
    let header = reply.headers["x-huddle-aws-calls"].to_str().unwrap();
    let field = |name: &str| {
        header
            .split("; ")
            .find_map(|part| part.strip_prefix(&format!("{name}=")))
            .unwrap_or_default()
            .to_owned()
    };
    let calls = field("calls");
    assert!(
        !calls.split(',').any(|call| call == "Scan"),
        "a Scan: {header}"
    );
    (
        field("sequential").parse().unwrap(),
        field("dynamodb").parse::<usize>().unwrap() + field("s3").parse::<usize>().unwrap(),
        calls.replace(',', ", "),
    )
}

#[tokio::test]
async fn daily_routes_make_the_calls_readme_lists() {
    let api = Api::new();
    let (owner, member) = tokio::join!(api.register_user(), api.register_user());
    let token = Some(owner.access_token.as_str());
    let workspace = api.workspace_with(&owner, &[&member]).await;
    let workspace_id = workspace["id"].as_str().unwrap();
    let channel = |kind: &'static str| {
        let name = format!("rt-{kind}");
        let api = &api;
        let owner = &owner;
        async move {
            api.create_channel(owner, workspace_id, json!({"name": name, "kind": kind}))
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (chat, todo, kanban, doc) = tokio::join!(
        channel("chat"),
        channel("todo"),
        channel("kanban"),
        channel("doc")
    );
    let first = api.post_text(&owner, &chat, "first").await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    let task = |title: &'static str| {
        api.post(
            &format!("/v1/channels/{todo}/tasks"),
            token,
            json!({"title": title}),
        )
    };
    let (one, two) = (task("one").await, task("two").await);
    let board = api
        .get(&format!("/v1/channels/{kanban}/board"), token)
        .await;
    let column = board.body["columns"][0]["id"].as_str().unwrap().to_owned();
    let card = |title: &'static str| {
        api.post(
            &format!("/v1/channels/{kanban}/columns/{column}/cards"),
            token,
            json!({"title": title}),
        )
    };
    let (card_one, card_two) = (card("one").await, card("two").await);
    let id = |reply: &Reply| reply.body["id"].as_str().unwrap().to_owned();

    let member_token = Some(member.access_token.as_str());
    let routes: Vec<Call> = vec![
        (
            "POST /v1/channels/{channel_id}/messages",
            Method::POST,
            format!("/v1/channels/{chat}/messages"),
            token,
            Some(json!({"content": "hello"})),
        ),
        (
            "GET /v1/channels/{channel_id}/messages",
            Method::GET,
            format!("/v1/channels/{chat}/messages"),
            token,
            None,
        ),
        (
            "PUT /v1/channels/{channel_id}/read",
            Method::PUT,
            format!("/v1/channels/{chat}/read"),
            token,
            Some(json!({"message_id": first_id})),
        ),
        (
            "PUT /v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
            Method::PUT,
            format!("/v1/channels/{chat}/messages/{first_id}/reactions/tada"),
            token,
            None,
        ),
        (
            "POST /v1/channels/{channel_id}/join",
            Method::POST,
            format!("/v1/channels/{chat}/join"),
            member_token,
            None,
        ),
        (
            "POST /v1/channels/{channel_id}/tasks/{task_id}/move",
            Method::POST,
            format!("/v1/channels/{todo}/tasks/{}/move", id(&one)),
            token,
            Some(json!({"after_id": id(&two)})),
        ),
        (
            "POST /v1/channels/{channel_id}/cards/{card_id}/move",
            Method::POST,
            format!("/v1/channels/{kanban}/cards/{}/move", id(&card_one)),
            token,
            Some(json!({"column_id": column, "after_id": id(&card_two)})),
        ),
        (
            "PUT /v1/channels/{channel_id}/document",
            Method::PUT,
            format!("/v1/channels/{doc}/document"),
            token,
            Some(json!({"content": "# Notes\n", "base_version": 0})),
        ),
        (
            "GET /v1/users/me",
            Method::GET,
            "/v1/users/me".to_owned(),
            token,
            None,
        ),
        (
            "GET /v1/workspaces/{workspace_id}/channels",
            Method::GET,
            format!("/v1/workspaces/{workspace_id}/channels"),
            token,
            None,
        ),
        (
            "GET /v1/channels/{channel_id}",
            Method::GET,
            format!("/v1/channels/{chat}"),
            token,
            None,
        ),
        (
            "POST /v1/channels/{channel_id}/tasks",
            Method::POST,
            format!("/v1/channels/{todo}/tasks"),
            token,
            Some(json!({"title": "three"})),
        ),
        (
            "GET /v1/channels/{channel_id}/tasks",
            Method::GET,
            format!("/v1/channels/{todo}/tasks"),
            token,
            None,
        ),
        (
            "POST /v1/channels/{channel_id}/tasks/{task_id}/complete",
            Method::POST,
            format!("/v1/channels/{todo}/tasks/{}/complete", id(&two)),
            token,
            None,
        ),
        (
            "GET /v1/channels/{channel_id}/stats",
            Method::GET,
            format!("/v1/channels/{todo}/stats"),
            token,
            None,
        ),
        (
            "GET /v1/channels/{channel_id}/board",
            Method::GET,
            format!("/v1/channels/{kanban}/board"),
            token,
            None,
        ),
        (
            "GET /v1/workspaces/{workspace_id}/my-work",
            Method::GET,
            format!("/v1/workspaces/{workspace_id}/my-work"),
            token,
            None,
        ),
        (
            "GET /v1/notifications/unread-count",
            Method::GET,
            "/v1/notifications/unread-count".to_owned(),
            token,
            None,
        ),
        (
            "GET /v1/channels/{channel_id}/document",
            Method::GET,
            format!("/v1/channels/{doc}/document"),
            token,
            None,
        ),
    ];

    let table = readme_table();
    let mut differences = Vec::new();
    for (route, method, path, token, body) in routes {
        let reply = api.call(method, &path, token, body).await;
        assert!(
            reply.status.is_success(),
            "{route}: {} {}",
            reply.status,
            reply.body
        );
        assert_ne!(reply.status, StatusCode::ACCEPTED);
        let now = measured(&reply);
        match table.get(route) {
            Some(listed) if *listed == now => {}
            listed => differences.push(format!(
                "{route}: measured {now:?}, README lists {listed:?}"
            )),
        }
    }
    assert!(
        differences.is_empty(),
        "README's round-trip table and the routes differ:\n{}",
        differences.join("\n")
    );
}
