//! Every route's AWS calls, counted by the gateway (`COUNT_AWS_CALLS=1`, the
//! `x-huddle-aws-calls` answer header) and compared with README's table "Round trips per
//! route": the test drives each operation of `openapi.json` once, in an order that gives
//! it real data, and fails when a route makes more calls, or more of them one after
//! another, than the table says, when a route is missing from the table or the table names
//! one that does not exist. No route may Scan.
//!
//! `HUDDLE_WRITE_ROUNDTRIPS=1` rewrites the table from what was measured (then read the
//! diff: a route that grew needs a reason, not a new number).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use huddle_tests::uploads::{put_upload, raw_client};
use huddle_tests::{Api, TestUser, eventually, unique_email};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const README: &str = "README.md";
const OPENAPI: &str = "openapi.json";
const TABLE_BEGIN: &str = "<!-- round trips: begin -->";
const TABLE_END: &str = "<!-- round trips: end -->";

/// What one answer's header says: DynamoDB calls in the longest chain of calls made one
/// after another, all AWS calls, and their names in the order they were made.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Calls {
    sequential: usize,
    total: usize,
    names: String,
}

impl Calls {
    fn row(&self, route: &str) -> String {
        format!(
            "| `{route}` | {} | {} | {} |",
            self.sequential, self.total, self.names
        )
    }
}

/// `route -> calls` from README's table.
fn readme_table(readme: &str) -> BTreeMap<String, Calls> {
    let table = readme
        .split(TABLE_BEGIN)
        .nth(1)
        .and_then(|rest| rest.split(TABLE_END).next())
        .expect("README's round-trip table markers");
    table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_owned(),
                Calls {
                    sequential: cells[2].parse().unwrap(),
                    total: cells[3].parse().unwrap(),
                    names: cells[4].to_owned(),
                },
            )
        })
        .collect()
}

/// Every operation the API describes, as `METHOD /path`.
fn described_routes() -> BTreeSet<String> {
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(huddle_tests::repo_file(OPENAPI)).unwrap())
            .unwrap();
    let mut routes = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

/// The calls of one answer, from its header; an answer without the header made none
/// (the routes that never reach AWS are not wrapped by the counter).
fn calls_of(headers: &HeaderMap) -> Calls {
    let Some(header) = headers.get("x-huddle-aws-calls") else {
        return Calls {
            sequential: 0,
            total: 0,
            names: "none".into(),
        };
    };
    let header = header.to_str().unwrap();
    let field = |name: &str| {
        header
            .split("; ")
            .find_map(|part| part.strip_prefix(&format!("{name}=")))
            .unwrap_or_default()
            .to_owned()
    };
    let names = field("calls");
    assert!(
        !names.split(',').any(|call| call == "Scan"),
        "a Scan: {header}"
    );
    let total = field("dynamodb").parse::<usize>().unwrap() + field("s3").parse::<usize>().unwrap();
    Calls {
        sequential: field("sequential").parse().unwrap(),
        total,
        names: if names.is_empty() {
            "none".into()
        } else {
            names.replace(',', ", ")
        },
    }
}

/// Drives routes one at a time, recording each one's calls; every route once.
struct Driver {
    api: Api,
    /// Does not follow redirects: a download answers 302 itself.
    http: reqwest::Client,
    /// README's table (empty when it is being rewritten).
    listed: BTreeMap<String, Calls>,
    measured: BTreeMap<String, Calls>,
}

/// How often a route whose calls chained further than listed is called again.
const SECOND_LOOKS: usize = 3;

impl Driver {
    /// One call: its status, its JSON body (null when empty or not JSON) and its calls.
    async fn call(
        &self,
        method: &Method,
        path: &str,
        user: Option<&TestUser>,
        body: Option<&Value>,
    ) -> (StatusCode, Value, Calls) {
        let mut request = self.http.request(method.clone(), self.api.url(path));
        if let Some(user) = user {
            request = request.bearer_auth(&user.access_token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the gateway is not reachable");
        let status = response.status();
        let calls = calls_of(response.headers());
        let bytes = response.bytes().await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body, calls)
    }

    /// Calls `route` (`METHOD /template`) at `path`; the answer must be a success or a
    /// redirect. Returns the JSON body.
    ///
    /// *Sequential* is read off the calls' times, so on a loaded machine two calls made at
    /// once can look chained (one finished before the other's first poll). When a route
    /// chained further than listed, with the same calls, it is called again (those that
    /// can be: a repeat that fails is not counted) and the shortest chain stands: a route
    /// that really grew chains further every time.
    async fn drive(
        &mut self,
        route: &str,
        path: &str,
        user: Option<&TestUser>,
        body: Option<Value>,
    ) -> Value {
        let method = Method::from_bytes(route.split(' ').next().unwrap().as_bytes()).unwrap();
        let (status, reply, mut calls) = self.call(&method, path, user, body.as_ref()).await;
        assert!(
            status.is_success() || status == StatusCode::FOUND,
            "{route} ({path}): {status} {reply}"
        );
        assert_ne!(status, StatusCode::ACCEPTED, "{route}");
        if let Some(listed) = self.listed.get(route) {
            for _ in 0..SECOND_LOOKS {
                let same_calls = listed.total == calls.total && listed.names == calls.names;
                if !same_calls || calls.sequential <= listed.sequential {
                    break;
                }
                let (again, _, calls_again) = self.call(&method, path, user, body.as_ref()).await;
                if !(again.is_success() || again == StatusCode::FOUND) {
                    break;
                }
                if calls_again.total == calls.total && calls_again.names == calls.names {
                    calls.sequential = calls.sequential.min(calls_again.sequential);
                }
            }
        }
        assert!(
            self.measured.insert(route.to_owned(), calls).is_none(),
            "{route} driven twice"
        );
        reply
    }
}

fn text(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
        .to_owned()
}

#[tokio::test]
async fn every_route_makes_the_calls_readme_lists() {
    let api = Api::new();
    let (owner, member, outsider, extra) = tokio::join!(
        api.register_user(),
        api.register_user(),
        api.register_user(),
        api.register_user()
    );
    let workspace = api.workspace_with(&owner, &[&member]).await;
    let wid = text(&workspace, "id");
    let channel = |name: &'static str, kind: &'static str| {
        let (api, owner, wid) = (&api, &owner, &wid);
        async move {
            text(
                &api.create_channel(owner, wid, json!({"name": name, "kind": kind}))
                    .await,
                "id",
            )
        }
    };
    let (chat, todo, kanban, doc, talk) = tokio::join!(
        channel("rt-chat", "chat"),
        channel("rt-todo", "todo"),
        channel("rt-kanban", "kanban"),
        channel("rt-doc", "doc"),
        channel("rt-talk", "chat")
    );
    let first = text(&api.post_text(&owner, &chat, "first words").await, "id");
    // A mention, so that the owner has a notification to read.
    api.join(&member, &talk).await;
    api.post_text(&member, &talk, &format!("<@{}> look", owner.id))
        .await;

    let listed = if std::env::var_os("HUDDLE_WRITE_ROUNDTRIPS").is_some() {
        BTreeMap::new()
    } else {
        readme_table(&std::fs::read_to_string(huddle_tests::repo_file(README)).unwrap())
    };
    let mut run = Driver {
        api: Api::new(),
        http: raw_client(),
        listed,
        measured: BTreeMap::new(),
    };
    let (o, m) = (Some(&owner), Some(&member));

    // No AWS at all.
    run.drive("GET /v1/health", "/v1/health", None, None).await;
    run.drive("GET /v1/openapi.json", "/v1/openapi.json", None, None)
        .await;
    run.drive("GET /docs", "/docs", None, None).await;
    run.drive("GET /docs/{file}", "/docs/swagger-ui.css", None, None)
        .await;

    // Sign-in.
    let (email, password) = (unique_email(), "a long enough password".to_owned());
    let account = json!({"email": email, "password": password, "display_name": "Newcomer"});
    run.drive(
        "POST /v1/auth/register",
        "/v1/auth/register",
        None,
        Some(account),
    )
    .await;
    let login = json!({"email": &email, "password": &password});
    let session = run
        .drive("POST /v1/auth/login", "/v1/auth/login", None, Some(login))
        .await;
    let refresh = json!({"refresh_token": session["tokens"]["refresh_token"]});
    let rotated = run
        .drive(
            "POST /v1/auth/refresh",
            "/v1/auth/refresh",
            None,
            Some(refresh),
        )
        .await;
    let mut newcomer = TestUser::from_session(&session, email, password);
    newcomer.access_token = text(&rotated["tokens"], "access_token");
    let logout = json!({"refresh_token": rotated["tokens"]["refresh_token"]});
    run.drive(
        "POST /v1/auth/logout",
        "/v1/auth/logout",
        Some(&newcomer),
        Some(logout),
    )
    .await;
    run.drive("POST /v1/auth/ws-ticket", "/v1/auth/ws-ticket", o, None)
        .await;

    // Users.
    run.drive("GET /v1/users/me", "/v1/users/me", o, None).await;
    let name = json!({"display_name": "Owner"});
    run.drive("PATCH /v1/users/me", "/v1/users/me", o, Some(name))
        .await;
    let profile = format!("/v1/users/{}", member.id);
    run.drive("GET /v1/users/{user_id}", &profile, o, None)
        .await;
    let png = b"\x89PNG\r\n\x1a\n-a-picture-".to_vec();
    let avatar = json!({"content_type": "image/png", "size": png.len()});
    let ticket = run
        .drive(
            "POST /v1/users/me/avatar",
            "/v1/users/me/avatar",
            o,
            Some(avatar),
        )
        .await;
    assert_eq!(
        put_upload(&ticket["upload"], png, None).await,
        StatusCode::OK
    );
    let completed = api
        .post(
            &format!("/v1/files/{}/complete", text(&ticket, "file_id")),
            owner.token(),
            json!({}),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    let owner_avatar = format!("/v1/users/{}/avatar", owner.id);
    run.drive("GET /v1/users/{user_id}/avatar", &owner_avatar, o, None)
        .await;

    // Workspaces, members and invites.
    run.drive("GET /v1/workspaces", "/v1/workspaces", o, None)
        .await;
    let spare_workspace = run
        .drive(
            "POST /v1/workspaces",
            "/v1/workspaces",
            o,
            Some(json!({"name": "rt-spare"})),
        )
        .await;
    let ws = format!("/v1/workspaces/{wid}");
    run.drive("GET /v1/workspaces/{workspace_id}", &ws, o, None)
        .await;
    let rename = json!({"name": "rt-renamed"});
    run.drive("PATCH /v1/workspaces/{workspace_id}", &ws, o, Some(rename))
        .await;
    let members = format!("{ws}/members");
    run.drive(
        "GET /v1/workspaces/{workspace_id}/members",
        &members,
        o,
        None,
    )
    .await;
    let add = json!({"user_id": extra.id});
    run.drive(
        "POST /v1/workspaces/{workspace_id}/members",
        &members,
        o,
        Some(add),
    )
    .await;
    let extra_member = format!("{members}/{}", extra.id);
    run.drive(
        "PATCH /v1/workspaces/{workspace_id}/members/{user_id}",
        &extra_member,
        o,
        Some(json!({"role": "admin"})),
    )
    .await;
    run.drive(
        "DELETE /v1/workspaces/{workspace_id}/members/{user_id}",
        &extra_member,
        o,
        None,
    )
    .await;
    let invites = format!("{ws}/invites");
    let invite = run
        .drive(
            "POST /v1/workspaces/{workspace_id}/invites",
            &invites,
            o,
            Some(json!({})),
        )
        .await;
    run.drive(
        "GET /v1/workspaces/{workspace_id}/invites",
        &invites,
        o,
        None,
    )
    .await;
    let code = text(&invite, "code");
    let at_invite = format!("/v1/invites/{code}");
    run.drive("GET /v1/invites/{code}", &at_invite, Some(&outsider), None)
        .await;
    run.drive(
        "POST /v1/invites/{code}/accept",
        &format!("{at_invite}/accept"),
        Some(&outsider),
        None,
    )
    .await;
    let doomed_invite = api.create_invite(&owner, &wid, json!({})).await;
    run.drive(
        "DELETE /v1/workspaces/{workspace_id}/invites/{code}",
        &format!("{invites}/{}", text(&doomed_invite, "code")),
        o,
        None,
    )
    .await;

    // Channels.
    let channels = format!("{ws}/channels");
    run.drive(
        "GET /v1/workspaces/{workspace_id}/channels",
        &channels,
        o,
        None,
    )
    .await;
    let spare_channel = run
        .drive(
            "POST /v1/workspaces/{workspace_id}/channels",
            &channels,
            o,
            Some(json!({"name": "rt-spare", "kind": "chat"})),
        )
        .await;
    let spare = text(&spare_channel, "id");
    let dm = json!({"user_ids": [member.id]});
    run.drive(
        "POST /v1/workspaces/{workspace_id}/dms",
        &format!("{ws}/dms"),
        o,
        Some(dm),
    )
    .await;
    run.drive(
        "GET /v1/workspaces/{workspace_id}/presence",
        &format!("{ws}/presence"),
        o,
        None,
    )
    .await;
    let ch = format!("/v1/channels/{chat}");
    run.drive("GET /v1/channels/{channel_id}", &ch, o, None)
        .await;
    let topic = json!({"topic": "round trips"});
    run.drive("PATCH /v1/channels/{channel_id}", &ch, o, Some(topic))
        .await;
    run.drive(
        "POST /v1/channels/{channel_id}/join",
        &format!("{ch}/join"),
        m,
        None,
    )
    .await;
    run.drive(
        "GET /v1/channels/{channel_id}/members",
        &format!("{ch}/members"),
        o,
        None,
    )
    .await;
    let spare_members = format!("/v1/channels/{spare}/members");
    run.drive(
        "POST /v1/channels/{channel_id}/members",
        &spare_members,
        o,
        Some(json!({"user_id": member.id})),
    )
    .await;
    run.drive(
        "DELETE /v1/channels/{channel_id}/members/{user_id}",
        &format!("{spare_members}/{}", member.id),
        o,
        None,
    )
    .await;
    api.join(&outsider, &chat).await;
    run.drive(
        "POST /v1/channels/{channel_id}/leave",
        &format!("{ch}/leave"),
        Some(&outsider),
        None,
    )
    .await;
    run.drive(
        "PUT /v1/channels/{channel_id}/notification-level",
        &format!("{ch}/notification-level"),
        m,
        Some(json!({"level": "mentions"})),
    )
    .await;

    // Messages.
    let messages = format!("{ch}/messages");
    let sent = run
        .drive(
            "POST /v1/channels/{channel_id}/messages",
            &messages,
            o,
            Some(json!({"content": "hello round trips"})),
        )
        .await;
    let sent = text(&sent, "id");
    run.drive("GET /v1/channels/{channel_id}/messages", &messages, o, None)
        .await;
    let message = format!("{messages}/{first}");
    run.drive(
        "GET /v1/channels/{channel_id}/messages/{message_id}",
        &message,
        o,
        None,
    )
    .await;
    run.drive(
        "PATCH /v1/channels/{channel_id}/messages/{message_id}",
        &message,
        o,
        Some(json!({"content": "first words, edited"})),
    )
    .await;
    run.drive(
        "GET /v1/channels/{channel_id}/messages/{message_id}/history",
        &format!("{message}/history"),
        o,
        None,
    )
    .await;
    let reaction = format!("{message}/reactions/tada");
    run.drive(
        "PUT /v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
        &reaction,
        o,
        None,
    )
    .await;
    run.drive(
        "DELETE /v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
        &reaction,
        o,
        None,
    )
    .await;
    api.send_message(
        &member,
        &chat,
        json!({"content": "a reply", "parent_id": first}),
    )
    .await;
    run.drive(
        "GET /v1/channels/{channel_id}/messages/{message_id}/replies",
        &format!("{message}/replies"),
        o,
        None,
    )
    .await;
    let pin = format!("{ch}/pins/{first}");
    run.drive(
        "PUT /v1/channels/{channel_id}/pins/{message_id}",
        &pin,
        o,
        None,
    )
    .await;
    run.drive(
        "GET /v1/channels/{channel_id}/pins",
        &format!("{ch}/pins"),
        o,
        None,
    )
    .await;
    run.drive(
        "DELETE /v1/channels/{channel_id}/pins/{message_id}",
        &pin,
        o,
        None,
    )
    .await;
    run.drive(
        "PUT /v1/channels/{channel_id}/read",
        &format!("{ch}/read"),
        o,
        Some(json!({"message_id": sent})),
    )
    .await;
    run.drive(
        "DELETE /v1/channels/{channel_id}/messages/{message_id}",
        &format!("{messages}/{sent}"),
        o,
        None,
    )
    .await;
    run.drive(
        "GET /v1/workspaces/{workspace_id}/search",
        &format!("{ws}/search?q=first"),
        o,
        None,
    )
    .await;

    // Files.
    let body = b"twelve bytes".to_vec();
    let upload = json!({"filename": "notes.txt", "content_type": "text/plain", "size": body.len()});
    let ticket = run
        .drive(
            "POST /v1/channels/{channel_id}/uploads",
            &format!("{ch}/uploads"),
            o,
            Some(upload),
        )
        .await;
    assert_eq!(
        put_upload(&ticket["upload"], body, None).await,
        StatusCode::OK
    );
    let file = format!("/v1/files/{}", text(&ticket, "file_id"));
    run.drive(
        "POST /v1/files/{file_id}/complete",
        &format!("{file}/complete"),
        o,
        None,
    )
    .await;
    run.drive("GET /v1/files/{file_id}", &file, o, None).await;
    run.drive("DELETE /v1/files/{file_id}", &file, o, None)
        .await;

    // Tasks.
    let tasks = format!("/v1/channels/{todo}/tasks");
    let task = json!({"title": "one", "assignee_id": owner.id, "due_date": "2030-01-01"});
    let one = run
        .drive(
            "POST /v1/channels/{channel_id}/tasks",
            &tasks,
            o,
            Some(task),
        )
        .await;
    let two = api
        .post(&tasks, owner.token(), json!({"title": "two"}))
        .await;
    let (one, two) = (text(&one, "id"), text(&two.body, "id"));
    run.drive("GET /v1/channels/{channel_id}/tasks", &tasks, o, None)
        .await;
    let task = format!("{tasks}/{one}");
    run.drive(
        "GET /v1/channels/{channel_id}/tasks/{task_id}",
        &task,
        o,
        None,
    )
    .await;
    run.drive(
        "PATCH /v1/channels/{channel_id}/tasks/{task_id}",
        &task,
        o,
        Some(json!({"title": "one, renamed"})),
    )
    .await;
    run.drive(
        "POST /v1/channels/{channel_id}/tasks/{task_id}/move",
        &format!("{task}/move"),
        o,
        Some(json!({"after_id": two})),
    )
    .await;
    run.drive(
        "POST /v1/channels/{channel_id}/tasks/{task_id}/complete",
        &format!("{task}/complete"),
        o,
        None,
    )
    .await;
    run.drive(
        "POST /v1/channels/{channel_id}/tasks/{task_id}/reopen",
        &format!("{task}/reopen"),
        o,
        None,
    )
    .await;
    run.drive(
        "GET /v1/channels/{channel_id}/stats",
        &format!("/v1/channels/{todo}/stats"),
        o,
        None,
    )
    .await;
    run.drive(
        "GET /v1/workspaces/{workspace_id}/my-work",
        &format!("{ws}/my-work"),
        o,
        None,
    )
    .await;
    run.drive(
        "GET /v1/workspaces/{workspace_id}/workload",
        &format!("{ws}/workload"),
        o,
        None,
    )
    .await;
    run.drive(
        "DELETE /v1/channels/{channel_id}/tasks/{task_id}",
        &format!("{tasks}/{two}"),
        o,
        None,
    )
    .await;

    // Boards.
    let kb = format!("/v1/channels/{kanban}");
    let board = run
        .drive(
            "GET /v1/channels/{channel_id}/board",
            &format!("{kb}/board"),
            o,
            None,
        )
        .await;
    let first_column = text(&board["columns"][0], "id");
    let column = run
        .drive(
            "POST /v1/channels/{channel_id}/columns",
            &format!("{kb}/columns"),
            o,
            Some(json!({"name": "Review"})),
        )
        .await;
    let column = format!("{kb}/columns/{}", text(&column, "id"));
    run.drive(
        "PATCH /v1/channels/{channel_id}/columns/{column_id}",
        &column,
        o,
        Some(json!({"name": "Review, renamed"})),
    )
    .await;
    run.drive(
        "POST /v1/channels/{channel_id}/columns/{column_id}/move",
        &format!("{column}/move"),
        o,
        Some(json!({"before_id": first_column})),
    )
    .await;
    let cards = format!("{kb}/columns/{first_column}/cards");
    let card = run
        .drive(
            "POST /v1/channels/{channel_id}/columns/{column_id}/cards",
            &cards,
            o,
            Some(json!({"title": "one"})),
        )
        .await;
    let other = api
        .post(&cards, owner.token(), json!({"title": "two"}))
        .await;
    let (card, other) = (text(&card, "id"), text(&other.body, "id"));
    run.drive(
        "GET /v1/channels/{channel_id}/columns/{column_id}/cards",
        &cards,
        o,
        None,
    )
    .await;
    let card = format!("{kb}/cards/{card}");
    run.drive(
        "GET /v1/channels/{channel_id}/cards/{card_id}",
        &card,
        o,
        None,
    )
    .await;
    run.drive(
        "PATCH /v1/channels/{channel_id}/cards/{card_id}",
        &card,
        o,
        Some(json!({"title": "one, renamed"})),
    )
    .await;
    run.drive(
        "POST /v1/channels/{channel_id}/cards/{card_id}/move",
        &format!("{card}/move"),
        o,
        Some(json!({"column_id": first_column, "after_id": other})),
    )
    .await;
    run.drive(
        "DELETE /v1/channels/{channel_id}/cards/{card_id}",
        &card,
        o,
        None,
    )
    .await;
    run.drive(
        "DELETE /v1/channels/{channel_id}/columns/{column_id}",
        &column,
        o,
        None,
    )
    .await;

    // Documents.
    let document = format!("/v1/channels/{doc}/document");
    // The measured save is a later one, as most are: the first made the document.
    let first_save = json!({"content": "# Notes\n", "base_version": 0});
    api.call(Method::PUT, &document, owner.token(), Some(first_save))
        .await;
    let save = json!({"content": "# Notes\n\nMore.\n", "base_version": 1});
    run.drive(
        "PUT /v1/channels/{channel_id}/document",
        &document,
        o,
        Some(save),
    )
    .await;
    run.drive("GET /v1/channels/{channel_id}/document", &document, o, None)
        .await;
    run.drive(
        "POST /v1/channels/{channel_id}/document/sync",
        &format!("{document}/sync"),
        o,
        Some(json!({"state_vector": ""})),
    )
    .await;
    let revisions = format!("{document}/revisions");
    run.drive(
        "GET /v1/channels/{channel_id}/document/revisions",
        &revisions,
        o,
        None,
    )
    .await;
    run.drive(
        "GET /v1/channels/{channel_id}/document/revisions/{version}",
        &format!("{revisions}/1"),
        o,
        None,
    )
    .await;
    run.drive(
        "POST /v1/channels/{channel_id}/document/revisions/{version}/restore",
        &format!("{revisions}/1/restore"),
        o,
        None,
    )
    .await;

    // Notifications (the mention's arrives through the table's stream) and the activity
    // log (also written from the stream).
    eventually("the mention's notification", || async {
        let page = api.get("/v1/notifications", owner.token()).await;
        page.body["items"][0]["id"].is_string()
    })
    .await;
    let notifications = api.get("/v1/notifications", owner.token()).await;
    let notification = text(&notifications.body["items"][0], "id");
    eventually("the activity log", || async {
        let page = api.get(&format!("{ws}/activity"), owner.token()).await;
        page.body["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
    })
    .await;
    run.drive("GET /v1/notifications", "/v1/notifications", o, None)
        .await;
    run.drive(
        "GET /v1/notifications/unread-count",
        "/v1/notifications/unread-count",
        o,
        None,
    )
    .await;
    run.drive(
        "POST /v1/notifications/{notification_id}/read",
        &format!("/v1/notifications/{notification}/read"),
        o,
        None,
    )
    .await;
    run.drive(
        "POST /v1/notifications/read-all",
        "/v1/notifications/read-all",
        o,
        None,
    )
    .await;
    run.drive(
        "GET /v1/workspaces/{workspace_id}/activity",
        &format!("{ws}/activity"),
        o,
        None,
    )
    .await;

    // Deletes last.
    run.drive(
        "DELETE /v1/channels/{channel_id}",
        &format!("/v1/channels/{spare}"),
        o,
        None,
    )
    .await;
    run.drive(
        "DELETE /v1/workspaces/{workspace_id}",
        &format!("/v1/workspaces/{}", text(&spare_workspace, "id")),
        o,
        None,
    )
    .await;

    compare_with_readme(&run.measured);
}

/// Holds the measured calls to README's table (or rewrites the table when asked).
fn compare_with_readme(measured: &BTreeMap<String, Calls>) {
    let described = described_routes();
    let driven: BTreeSet<String> = measured.keys().cloned().collect();
    assert_eq!(
        described.difference(&driven).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "routes the test does not drive"
    );
    assert_eq!(
        driven.difference(&described).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "routes driven that openapi.json does not describe"
    );
    let readme = std::fs::read_to_string(huddle_tests::repo_file(README)).unwrap();
    if std::env::var_os("HUDDLE_WRITE_ROUNDTRIPS").is_some() {
        let (head, rest) = readme.split_once(TABLE_BEGIN).unwrap();
        let (_, tail) = rest.split_once(TABLE_END).unwrap();
        let mut table =
            String::from("\n| route | sequential | total | calls |\n|---|---|---|---|\n");
        for (route, calls) in measured {
            table.push_str(&calls.row(route));
            table.push('\n');
        }
        std::fs::write(
            huddle_tests::repo_file(README),
            format!("{head}{TABLE_BEGIN}{table}{TABLE_END}{tail}"),
        )
        .unwrap();
        return;
    }
    let listed = readme_table(&readme);
    let mut differences = Vec::new();
    for (route, calls) in measured {
        match listed.get(route) {
            Some(row) if row == calls => {}
            Some(row) => {
                differences.push(format!("{route}: measured {calls:?}, README lists {row:?}"))
            }
            None => differences.push(format!("{route}: measured {calls:?}, not in README")),
        }
    }
    for route in listed.keys().filter(|route| !measured.contains_key(*route)) {
        differences.push(format!("{route}: in README, not a route"));
    }
    assert!(
        differences.is_empty(),
        "README's round-trip table and the routes differ \
         (HUDDLE_WRITE_ROUNDTRIPS=1 rewrites it):\n{}",
        differences.join("\n")
    );
}

#[test]
fn every_described_route_is_listed_once() {
    let listed = readme_table(&std::fs::read_to_string(huddle_tests::repo_file(README)).unwrap());
    let described = described_routes();
    let listed: BTreeSet<String> = listed.into_keys().collect();
    assert_eq!(listed, described);
}
