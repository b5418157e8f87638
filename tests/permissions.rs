//! The permission matrix: every workspace, channel, notification, activity, task, board,
//! stats and workload route, called by an anonymous client, a non-member, a member, an
//! admin and the owner, each against a fresh team (with its todo and kanban channels for
//! the task and board rows), with the exact status asserted, so that a leak (or an
//! over-eager denial) fails a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use huddle_tests::{
    Api, DocTeam, People, Team, TestUser, board_path, card_path, column_cards_path, column_path,
    columns_path, ids, my_work_path, stats_path, task_path, tasks_path, text, workload_path,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy)]
enum Actor {
    Anonymous,
    Outsider,
    Member,
    Admin,
    Owner,
}

const ACTORS: [Actor; 5] = [
    Actor::Anonymous,
    Actor::Outsider,
    Actor::Member,
    Actor::Admin,
    Actor::Owner,
];

fn who(team: &Team, actor: Actor) -> Option<&TestUser> {
    match actor {
        Actor::Anonymous => None,
        Actor::Outsider => Some(&team.outsider),
        Actor::Member => Some(&team.member),
        Actor::Admin => Some(&team.admin),
        Actor::Owner => Some(&team.owner),
    }
}

/// One row of the matrix: a request built from a fresh fixture (a [`Team`], or a [`Work`]
/// for the task and board routes), and the status each actor must get (anonymous,
/// outsider, member, admin, owner).
struct Case<F = Team> {
    name: &'static str,
    method: Method,
    path: fn(&F) -> String,
    body: fn(&F) -> Option<Value>,
    expect: [u16; 5],
}

fn no_body<F>(_: &F) -> Option<Value> {
    None
}

/// What a row is built from: a team, perhaps with more in it.
trait Fixture {
    fn team(&self) -> &Team;
}

impl Fixture for Team {
    fn team(&self) -> &Team {
        self
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "get workspace",
            method: Method::GET,
            path: |t| format!("/v1/workspaces/{}", t.workspace_id),
            body: no_body,
            expect: [401, 404, 200, 200, 200],
        },
        Case {
            name: "patch workspace",
            method: Method::PATCH,
            path: |t| format!("/v1/workspaces/{}", t.workspace_id),
            body: |_| Some(json!({"name": "Renamed"})),
            expect: [401, 404, 403, 200, 200],
        },
        Case {
            name: "delete workspace",
            method: Method::DELETE,
            path: |t| format!("/v1/workspaces/{}", t.workspace_id),
            body: no_body,
            expect: [401, 404, 403, 403, 204],
        },
        Case {
            name: "list members",
            method: Method::GET,
            path: |t| format!("/v1/workspaces/{}/members", t.workspace_id),
            body: no_body,
            expect: [401, 404, 200, 200, 200],
        },
        Case {
            name: "add member",
            method: Method::POST,
            path: |t| format!("/v1/workspaces/{}/members", t.workspace_id),
            body: |t| Some(json!({"user_id": t.outsider.id})),
            expect: [401, 404, 403, 201, 201],
        },
        Case {
            name: "set member role",
            method: Method::PATCH,
            path: |t| format!("/v1/workspaces/{}/members/{}", t.workspace_id, t.member.id),
            body: |_| Some(json!({"role": "admin"})),
            expect: [401, 404, 403, 403, 200],
        },
        Case {
            name: "demote admin",
            method: Method::PATCH,
            path: |t| format!("/v1/workspaces/{}/members/{}", t.workspace_id, t.admin.id),
            body: |_| Some(json!({"role": "member"})),
            expect: [401, 404, 403, 403, 200],
        },
        Case {
            name: "demote owner",
            method: Method::PATCH,
            path: |t| format!("/v1/workspaces/{}/members/{}", t.workspace_id, t.owner.id),
            body: |_| Some(json!({"role": "member"})),
            expect: [401, 404, 403, 403, 409],
        },
        Case {
            name: "remove member",
            method: Method::DELETE,
            path: |t| format!("/v1/workspaces/{}/members/{}", t.workspace_id, t.member.id),
            body: no_body,
            expect: [401, 404, 204, 204, 204],
        },
        Case {
            name: "remove admin",
            method: Method::DELETE,
            path: |t| format!("/v1/workspaces/{}/members/{}", t.workspace_id, t.admin.id),
            body: no_body,
            expect: [401, 404, 403, 204, 204],
        },
        Case {
            name: "remove owner",
            method: Method::DELETE,
            path: |t| format!("/v1/workspaces/{}/members/{}", t.workspace_id, t.owner.id),
            body: no_body,
            expect: [401, 404, 403, 403, 409],
        },
        Case {
            name: "create invite",
            method: Method::POST,
            path: |t| format!("/v1/workspaces/{}/invites", t.workspace_id),
            body: |_| Some(json!({})),
            expect: [401, 404, 403, 201, 201],
        },
        Case {
            name: "list invites",
            method: Method::GET,
            path: |t| format!("/v1/workspaces/{}/invites", t.workspace_id),
            body: no_body,
            expect: [401, 404, 403, 200, 200],
        },
        Case {
            name: "create channel",
            method: Method::POST,
            path: |t| format!("/v1/workspaces/{}/channels", t.workspace_id),
            body: |_| Some(json!({"name": "fresh", "kind": "chat"})),
            expect: [401, 404, 201, 201, 201],
        },
        Case {
            name: "list channels",
            method: Method::GET,
            path: |t| format!("/v1/workspaces/{}/channels", t.workspace_id),
            body: no_body,
            expect: [401, 404, 200, 200, 200],
        },
        Case {
            name: "open dm",
            method: Method::POST,
            path: |t| format!("/v1/workspaces/{}/dms", t.workspace_id),
            body: |t| Some(json!({"user_ids": [t.owner.id, t.member.id]})),
            expect: [401, 404, 201, 201, 201],
        },
        Case {
            name: "get public channel",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}", t.public_id),
            body: no_body,
            expect: [401, 404, 200, 200, 200],
        },
        Case {
            name: "get private channel",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}", t.private_id),
            body: no_body,
            expect: [401, 404, 200, 404, 404],
        },
        Case {
            name: "patch public channel",
            method: Method::PATCH,
            path: |t| format!("/v1/channels/{}", t.public_id),
            body: |_| Some(json!({"topic": "new topic"})),
            expect: [401, 404, 403, 200, 200],
        },
        Case {
            name: "patch private channel",
            method: Method::PATCH,
            path: |t| format!("/v1/channels/{}", t.private_id),
            body: |_| Some(json!({"topic": "new topic"})),
            expect: [401, 404, 200, 404, 404],
        },
        Case {
            name: "delete public channel",
            method: Method::DELETE,
            path: |t| format!("/v1/channels/{}", t.public_id),
            body: no_body,
            expect: [401, 404, 403, 204, 204],
        },
        Case {
            name: "delete private channel",
            method: Method::DELETE,
            path: |t| format!("/v1/channels/{}", t.private_id),
            body: no_body,
            expect: [401, 404, 204, 404, 404],
        },
        Case {
            name: "delete general",
            method: Method::DELETE,
            path: |t| format!("/v1/channels/{}", t.general_id),
            body: no_body,
            expect: [401, 404, 403, 409, 409],
        },
        Case {
            name: "join public channel",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/join", t.public_id),
            body: no_body,
            expect: [401, 404, 200, 200, 200],
        },
        Case {
            name: "join private channel",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/join", t.private_id),
            body: no_body,
            expect: [401, 404, 200, 404, 404],
        },
        Case {
            name: "leave public channel",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/leave", t.public_id),
            body: no_body,
            expect: [401, 404, 204, 204, 204],
        },
        Case {
            name: "leave general",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/leave", t.general_id),
            body: no_body,
            expect: [401, 404, 409, 409, 409],
        },
        Case {
            name: "list public channel members",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}/members", t.public_id),
            body: no_body,
            expect: [401, 404, 200, 200, 200],
        },
        Case {
            name: "list private channel members",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}/members", t.private_id),
            body: no_body,
            expect: [401, 404, 200, 404, 404],
        },
        Case {
            name: "add to public channel",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/members", t.public_id),
            body: |t| Some(json!({"user_id": t.member.id})),
            expect: [401, 404, 403, 403, 201],
        },
        Case {
            name: "add to private channel",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/members", t.private_id),
            body: |t| Some(json!({"user_id": t.admin.id})),
            expect: [401, 404, 201, 404, 404],
        },
        Case {
            name: "remove from public channel",
            method: Method::DELETE,
            path: |t| format!("/v1/channels/{}/members/{}", t.public_id, t.owner.id),
            body: no_body,
            expect: [401, 404, 403, 204, 204],
        },
        Case {
            name: "remove from private channel",
            method: Method::DELETE,
            path: |t| format!("/v1/channels/{}/members/{}", t.private_id, t.member.id),
            body: no_body,
            expect: [401, 404, 204, 404, 404],
        },
        Case {
            name: "mark public channel read",
            method: Method::PUT,
            path: |t| format!("/v1/channels/{}/read", t.public_id),
            body: |_| Some(json!({"message_id": "01J00000000000000000000000"})),
            expect: [401, 404, 403, 403, 204],
        },
        Case {
            name: "mark private channel read",
            method: Method::PUT,
            path: |t| format!("/v1/channels/{}/read", t.private_id),
            body: |_| Some(json!({"message_id": "01J00000000000000000000000"})),
            expect: [401, 404, 204, 404, 404],
        },
        Case {
            name: "list my notifications",
            method: Method::GET,
            path: |_| "/v1/notifications".into(),
            body: no_body,
            expect: [401, 200, 200, 200, 200],
        },
        Case {
            name: "my unread count",
            method: Method::GET,
            path: |_| "/v1/notifications/unread-count".into(),
            body: no_body,
            expect: [401, 200, 200, 200, 200],
        },
        Case {
            name: "read an unknown notification",
            method: Method::POST,
            path: |_| "/v1/notifications/01J00000000000000000000000/read".into(),
            body: |_| Some(json!({})),
            expect: [401, 404, 404, 404, 404],
        },
        Case {
            name: "read all my notifications",
            method: Method::POST,
            path: |_| "/v1/notifications/read-all".into(),
            body: |_| Some(json!({})),
            expect: [401, 204, 204, 204, 204],
        },
        Case {
            name: "set level in public channel",
            method: Method::PUT,
            path: |t| format!("/v1/channels/{}/notification-level", t.public_id),
            body: |_| Some(json!({"level": "all"})),
            expect: [401, 404, 403, 403, 204],
        },
        Case {
            name: "set level in private channel",
            method: Method::PUT,
            path: |t| format!("/v1/channels/{}/notification-level", t.private_id),
            body: |_| Some(json!({"level": "none"})),
            expect: [401, 404, 204, 404, 404],
        },
        Case {
            name: "set level in general",
            method: Method::PUT,
            path: |t| format!("/v1/channels/{}/notification-level", t.general_id),
            body: |_| Some(json!({"level": "mentions"})),
            expect: [401, 404, 204, 204, 204],
        },
        Case {
            name: "read activity",
            method: Method::GET,
            path: |t| format!("/v1/workspaces/{}/activity", t.workspace_id),
            body: no_body,
            expect: [401, 404, 403, 200, 200],
        },
    ]
}

/// A [`Team`] with what the task, board and stats rows act on. The public channels are the
/// owner's, joined by the admin and the member; the private ones are the member's alone;
/// the lonely todo channel is the owner's alone (others read it but have not joined).
struct Work {
    team: Team,
    todo: String,
    /// The owner's tasks in `todo`, in this order.
    task: String,
    other_task: String,
    lonely_todo: String,
    lonely_task: String,
    private_todo: String,
    /// The member's task in `private_todo`.
    private_task: String,
    kanban: String,
    /// The three default columns of `kanban`.
    columns: Vec<String>,
    /// An empty column of `kanban`, created by the owner.
    spare_column: String,
    /// The owner's card in the first column.
    card: String,
    private_kanban: String,
    private_columns: Vec<String>,
    /// The member's card in the first private column.
    private_card: String,
}

impl Fixture for DocTeam {
    fn team(&self) -> &Team {
        &self.team
    }
}

impl Fixture for Work {
    fn team(&self) -> &Team {
        &self.team
    }
}

impl Work {
    async fn build(api: &Api, people: &People) -> Self {
        let team = api.team(people).await;
        let wid = team.workspace_id.as_str();
        let channel = |by: &TestUser, name: &str, kind: &str, private: bool| {
            let body = json!({"name": name, "kind": kind, "private": private});
            let by = by.clone();
            async move { text(&api.create_channel(&by, wid, body).await["id"]) }
        };
        let (todo, lonely_todo, private_todo, kanban, private_kanban) = tokio::join!(
            channel(&team.owner, "todo", "todo", false),
            channel(&team.owner, "lonely", "todo", false),
            channel(&team.member, "secret-todo", "todo", true),
            channel(&team.owner, "board", "kanban", false),
            channel(&team.member, "secret-board", "kanban", true),
        );
        tokio::join!(
            api.join(&team.admin, &todo),
            api.join(&team.member, &todo),
            api.join(&team.admin, &kanban),
            api.join(&team.member, &kanban),
        );
        let task = |by: &TestUser, channel: &str| {
            let (by, channel) = (by.clone(), channel.to_owned());
            async move { text(&api.create_task(&by, &channel, json!({"title": "t"})).await["id"]) }
        };
        let (task_id, lonely_task, private_task, board, private_board) = tokio::join!(
            task(&team.owner, &todo),
            task(&team.owner, &lonely_todo),
            task(&team.member, &private_todo),
            api.board(&team.owner, &kanban),
            api.board(&team.member, &private_kanban),
        );
        let columns = ids(board["columns"].as_array().unwrap());
        let private_columns = ids(private_board["columns"].as_array().unwrap());
        let (other_task, spare, card, private_card) = tokio::join!(
            task(&team.owner, &todo),
            api.create_column(&team.owner, &kanban, json!({"name": "Spare"})),
            api.create_card(&team.owner, &kanban, &columns[0], json!({"title": "c"})),
            api.create_card(
                &team.member,
                &private_kanban,
                &private_columns[0],
                json!({"title": "c"})
            ),
        );
        Self {
            todo,
            task: task_id,
            other_task,
            lonely_todo,
            lonely_task,
            private_todo,
            private_task,
            kanban,
            columns,
            spare_column: text(&spare["id"]),
            card: text(&card["id"]),
            private_kanban,
            private_columns,
            private_card: text(&private_card["id"]),
            team,
        }
    }
}

fn title(_: &Work) -> Option<Value> {
    Some(json!({"title": "x"}))
}

fn empty(_: &Work) -> Option<Value> {
    Some(json!({}))
}

fn work_cases() -> Vec<Case<Work>> {
    const READ: [u16; 5] = [401, 404, 200, 200, 200];
    const PRIVATE_READ: [u16; 5] = [401, 404, 200, 404, 404];
    const CREATE: [u16; 5] = [401, 404, 201, 201, 201];
    const PRIVATE_CREATE: [u16; 5] = [401, 404, 201, 404, 404];
    const NOT_JOINED: [u16; 5] = [401, 404, 403, 403, 200];
    const DELETE_OTHERS: [u16; 5] = [401, 404, 403, 204, 204];
    const PRIVATE_DELETE: [u16; 5] = [401, 404, 204, 404, 404];
    const WRONG_KIND: [u16; 5] = [401, 404, 409, 409, 409];
    const PRIVATE_WRONG_KIND: [u16; 5] = [401, 404, 409, 404, 404];
    vec![
        // Tasks.
        Case {
            name: "list tasks",
            method: Method::GET,
            path: |w| tasks_path(&w.todo),
            body: no_body,
            expect: READ,
        },
        Case {
            name: "list private tasks",
            method: Method::GET,
            path: |w| tasks_path(&w.private_todo),
            body: no_body,
            expect: PRIVATE_READ,
        },
        Case {
            name: "create task",
            method: Method::POST,
            path: |w| tasks_path(&w.todo),
            body: title,
            expect: CREATE,
        },
        Case {
            name: "create task unjoined",
            method: Method::POST,
            path: |w| tasks_path(&w.lonely_todo),
            body: title,
            expect: [401, 404, 403, 403, 201],
        },
        Case {
            name: "create private task",
            method: Method::POST,
            path: |w| tasks_path(&w.private_todo),
            body: title,
            expect: PRIVATE_CREATE,
        },
        Case {
            name: "get task",
            method: Method::GET,
            path: |w| task_path(&w.todo, &w.task),
            body: no_body,
            expect: READ,
        },
        Case {
            name: "get task unjoined",
            method: Method::GET,
            path: |w| task_path(&w.lonely_todo, &w.lonely_task),
            body: no_body,
            expect: READ,
        },
        Case {
            name: "get private task",
            method: Method::GET,
            path: |w| task_path(&w.private_todo, &w.private_task),
            body: no_body,
            expect: PRIVATE_READ,
        },
        Case {
            name: "patch task",
            method: Method::PATCH,
            path: |w| task_path(&w.todo, &w.task),
            body: title,
            expect: READ,
        },
        Case {
            name: "patch task unjoined",
            method: Method::PATCH,
            path: |w| task_path(&w.lonely_todo, &w.lonely_task),
            body: title,
            expect: NOT_JOINED,
        },
        Case {
            name: "patch private task",
            method: Method::PATCH,
            path: |w| task_path(&w.private_todo, &w.private_task),
            body: title,
            expect: PRIVATE_READ,
        },
        Case {
            name: "delete task",
            method: Method::DELETE,
            path: |w| task_path(&w.todo, &w.task),
            body: no_body,
            expect: DELETE_OTHERS,
        },
        Case {
            name: "delete private task",
            method: Method::DELETE,
            path: |w| task_path(&w.private_todo, &w.private_task),
            body: no_body,
            expect: PRIVATE_DELETE,
        },
        Case {
            name: "complete task",
            method: Method::POST,
            path: |w| format!("{}/complete", task_path(&w.todo, &w.task)),
            body: empty,
            expect: READ,
        },
        Case {
            name: "complete task unjoined",
            method: Method::POST,
            path: |w| format!("{}/complete", task_path(&w.lonely_todo, &w.lonely_task)),
            body: empty,
            expect: NOT_JOINED,
        },
        Case {
            name: "complete private task",
            method: Method::POST,
            path: |w| format!("{}/complete", task_path(&w.private_todo, &w.private_task)),
            body: empty,
            expect: PRIVATE_READ,
        },
        Case {
            name: "reopen task",
            method: Method::POST,
            path: |w| format!("{}/reopen", task_path(&w.todo, &w.task)),
            body: empty,
            expect: READ,
        },
        Case {
            name: "reopen task unjoined",
            method: Method::POST,
            path: |w| format!("{}/reopen", task_path(&w.lonely_todo, &w.lonely_task)),
            body: empty,
            expect: NOT_JOINED,
        },
        Case {
            name: "move task",
            method: Method::POST,
            path: |w| format!("{}/move", task_path(&w.todo, &w.task)),
            body: |w| Some(json!({"after_id": w.other_task})),
            expect: READ,
        },
        Case {
            name: "list tasks of a kanban channel",
            method: Method::GET,
            path: |w| tasks_path(&w.kanban),
            body: no_body,
            expect: WRONG_KIND,
        },
        Case {
            name: "create task in a kanban channel",
            method: Method::POST,
            path: |w| tasks_path(&w.kanban),
            body: title,
            expect: WRONG_KIND,
        },
        Case {
            name: "list tasks of a private kanban channel",
            method: Method::GET,
            path: |w| tasks_path(&w.private_kanban),
            body: no_body,
            expect: PRIVATE_WRONG_KIND,
        },
        Case {
            name: "list tasks of a chat channel",
            method: Method::GET,
            path: |w| tasks_path(&w.team.public_id),
            body: no_body,
            expect: WRONG_KIND,
        },
        // Boards, columns and cards.
        Case {
            name: "get board",
            method: Method::GET,
            path: |w| board_path(&w.kanban),
            body: no_body,
            expect: READ,
        },
        Case {
            name: "get private board",
            method: Method::GET,
            path: |w| board_path(&w.private_kanban),
            body: no_body,
            expect: PRIVATE_READ,
        },
        Case {
            name: "get board of a todo channel",
            method: Method::GET,
            path: |w| board_path(&w.todo),
            body: no_body,
            expect: WRONG_KIND,
        },
        Case {
            name: "get board of a private todo channel",
            method: Method::GET,
            path: |w| board_path(&w.private_todo),
            body: no_body,
            expect: PRIVATE_WRONG_KIND,
        },
        Case {
            name: "create column in a chat channel",
            method: Method::POST,
            path: |w| columns_path(&w.team.public_id),
            body: |_| Some(json!({"name": "x"})),
            expect: WRONG_KIND,
        },
        Case {
            name: "list column cards",
            method: Method::GET,
            path: |w| column_cards_path(&w.kanban, &w.columns[0]),
            body: no_body,
            expect: READ,
        },
        Case {
            name: "list private column cards",
            method: Method::GET,
            path: |w| column_cards_path(&w.private_kanban, &w.private_columns[0]),
            body: no_body,
            expect: PRIVATE_READ,
        },
        Case {
            name: "create column",
            method: Method::POST,
            path: |w| columns_path(&w.kanban),
            body: |_| Some(json!({"name": "New"})),
            expect: CREATE,
        },
        Case {
            name: "create private column",
            method: Method::POST,
            path: |w| columns_path(&w.private_kanban),
            body: |_| Some(json!({"name": "New"})),
            expect: PRIVATE_CREATE,
        },
        Case {
            name: "patch column",
            method: Method::PATCH,
            path: |w| column_path(&w.kanban, &w.columns[1]),
            body: |_| Some(json!({"name": "Doing", "wip_limit": 5})),
            expect: READ,
        },
        Case {
            name: "patch private column",
            method: Method::PATCH,
            path: |w| column_path(&w.private_kanban, &w.private_columns[1]),
            body: |_| Some(json!({"wip_limit": 5})),
            expect: PRIVATE_READ,
        },
        Case {
            name: "move column",
            method: Method::POST,
            path: |w| format!("{}/move", column_path(&w.kanban, &w.spare_column)),
            body: |w| Some(json!({"before_id": w.columns[0]})),
            expect: READ,
        },
        Case {
            name: "delete empty column",
            method: Method::DELETE,
            path: |w| column_path(&w.kanban, &w.spare_column),
            body: no_body,
            expect: DELETE_OTHERS,
        },
        Case {
            name: "delete column with cards",
            method: Method::DELETE,
            path: |w| column_path(&w.kanban, &w.columns[0]),
            body: no_body,
            expect: [401, 404, 403, 409, 409],
        },
        Case {
            name: "delete empty private column",
            method: Method::DELETE,
            path: |w| column_path(&w.private_kanban, &w.private_columns[2]),
            body: no_body,
            expect: PRIVATE_DELETE,
        },
        Case {
            name: "create card",
            method: Method::POST,
            path: |w| column_cards_path(&w.kanban, &w.columns[1]),
            body: title,
            expect: CREATE,
        },
        Case {
            name: "create private card",
            method: Method::POST,
            path: |w| column_cards_path(&w.private_kanban, &w.private_columns[1]),
            body: title,
            expect: PRIVATE_CREATE,
        },
        Case {
            name: "get card",
            method: Method::GET,
            path: |w| card_path(&w.kanban, &w.card),
            body: no_body,
            expect: READ,
        },
        Case {
            name: "get private card",
            method: Method::GET,
            path: |w| card_path(&w.private_kanban, &w.private_card),
            body: no_body,
            expect: PRIVATE_READ,
        },
        Case {
            name: "patch card",
            method: Method::PATCH,
            path: |w| card_path(&w.kanban, &w.card),
            body: title,
            expect: READ,
        },
        Case {
            name: "move card",
            method: Method::POST,
            path: |w| format!("{}/move", card_path(&w.kanban, &w.card)),
            body: |w| Some(json!({"column_id": w.columns[2]})),
            expect: READ,
        },
        Case {
            name: "move private card",
            method: Method::POST,
            path: |w| format!("{}/move", card_path(&w.private_kanban, &w.private_card)),
            body: |w| Some(json!({"column_id": w.private_columns[2]})),
            expect: PRIVATE_READ,
        },
        Case {
            name: "delete card",
            method: Method::DELETE,
            path: |w| card_path(&w.kanban, &w.card),
            body: no_body,
            expect: DELETE_OTHERS,
        },
        Case {
            name: "delete private card",
            method: Method::DELETE,
            path: |w| card_path(&w.private_kanban, &w.private_card),
            body: no_body,
            expect: PRIVATE_DELETE,
        },
        // Stats, my-work, workload.
        Case {
            name: "todo stats",
            method: Method::GET,
            path: |w| stats_path(&w.todo),
            body: no_body,
            expect: READ,
        },
        Case {
            name: "kanban stats",
            method: Method::GET,
            path: |w| stats_path(&w.kanban),
            body: no_body,
            expect: READ,
        },
        Case {
            name: "private todo stats",
            method: Method::GET,
            path: |w| stats_path(&w.private_todo),
            body: no_body,
            expect: PRIVATE_READ,
        },
        Case {
            name: "private kanban stats",
            method: Method::GET,
            path: |w| stats_path(&w.private_kanban),
            body: no_body,
            expect: PRIVATE_READ,
        },
        Case {
            name: "chat stats",
            method: Method::GET,
            path: |w| stats_path(&w.team.public_id),
            body: no_body,
            expect: WRONG_KIND,
        },
        Case {
            name: "private chat stats",
            method: Method::GET,
            path: |w| stats_path(&w.team.private_id),
            body: no_body,
            expect: PRIVATE_WRONG_KIND,
        },
        Case {
            name: "my work",
            method: Method::GET,
            path: |w| my_work_path(&w.team.workspace_id, "open"),
            body: no_body,
            expect: READ,
        },
        Case {
            name: "workload",
            method: Method::GET,
            path: |w| workload_path(&w.team.workspace_id),
            body: no_body,
            expect: [401, 404, 403, 200, 200],
        },
    ]
}

/// The document routes: `doc_id` is a public doc channel only the owner has joined;
/// `private_doc_id` a private one only the member belongs to.
fn document_cases() -> Vec<Case<DocTeam>> {
    vec![
        Case {
            name: "get public document",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}/document", t.doc_id),
            body: no_body,
            expect: [401, 404, 200, 200, 200],
        },
        Case {
            name: "get private document",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}/document", t.private_doc_id),
            body: no_body,
            expect: [401, 404, 200, 404, 404],
        },
        Case {
            name: "get the document of a chat channel",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}/document", t.public_id),
            body: no_body,
            expect: [401, 404, 409, 409, 409],
        },
        Case {
            name: "save public document",
            method: Method::PUT,
            path: |t| format!("/v1/channels/{}/document", t.doc_id),
            body: |_| Some(json!({"content": "hello", "base_version": 0})),
            expect: [401, 404, 403, 403, 200],
        },
        Case {
            name: "save private document",
            method: Method::PUT,
            path: |t| format!("/v1/channels/{}/document", t.private_doc_id),
            body: |_| Some(json!({"content": "hello", "base_version": 0})),
            expect: [401, 404, 200, 404, 404],
        },
        Case {
            name: "save the document of a chat channel",
            method: Method::PUT,
            path: |t| format!("/v1/channels/{}/document", t.public_id),
            body: |_| Some(json!({"content": "hello", "base_version": 0})),
            expect: [401, 404, 409, 409, 409],
        },
        Case {
            name: "list public document revisions",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}/document/revisions", t.doc_id),
            body: no_body,
            expect: [401, 404, 200, 200, 200],
        },
        Case {
            name: "list private document revisions",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}/document/revisions", t.private_doc_id),
            body: no_body,
            expect: [401, 404, 200, 404, 404],
        },
        Case {
            name: "get a missing revision of a private document",
            method: Method::GET,
            path: |t| format!("/v1/channels/{}/document/revisions/1", t.private_doc_id),
            body: no_body,
            expect: [401, 404, 404, 404, 404],
        },
        Case {
            name: "restore a missing revision of the public document",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/document/revisions/1/restore", t.doc_id),
            body: no_body,
            expect: [401, 404, 403, 403, 404],
        },
        Case {
            name: "sync public document",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/document/sync", t.doc_id),
            body: |_| Some(json!({"state_vector": ""})),
            expect: [401, 404, 200, 200, 200],
        },
        Case {
            name: "sync private document",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/document/sync", t.private_doc_id),
            body: |_| Some(json!({"state_vector": ""})),
            expect: [401, 404, 200, 404, 404],
        },
        Case {
            name: "sync the document of a chat channel",
            method: Method::POST,
            path: |t| format!("/v1/channels/{}/document/sync", t.public_id),
            body: |_| Some(json!({"state_vector": ""})),
            expect: [401, 404, 409, 409, 409],
        },
    ]
}

/// Reading a notification is for its recipient alone: the others who could see the same
/// message have no notification of it (404), whatever their role.
#[tokio::test]
async fn a_notification_is_read_by_its_recipient_only() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let text = format!("<@{}> for your eyes", team.member.id);
    let message = api.post_text(&team.owner, &team.general_id, &text).await;
    let (api_ref, member) = (&api, &team.member);
    huddle_tests::eventually("the notification", move || async move {
        !api_ref.notifications(member, "").await.is_empty()
    })
    .await;
    let note = api.notifications(member, "").await.remove(0);
    assert_eq!(note["message_id"], message["id"]);
    let path = format!("/v1/notifications/{}/read", note["id"].as_str().unwrap());
    for (user, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(&team.outsider), StatusCode::NOT_FOUND),
        (Some(&team.admin), StatusCode::NOT_FOUND),
        (Some(&team.owner), StatusCode::NOT_FOUND),
    ] {
        let reply = api
            .post(&path, user.map(|u| u.access_token.as_str()), json!({}))
            .await;
        assert_eq!(reply.status, expected, "{user:?}: {:?}", reply.body);
    }
    assert_eq!(api.unread_count(member).await, 1);
    api.read_notification(member, note["id"].as_str().unwrap())
        .await;
    assert_eq!(api.unread_count(member).await, 0);
}

/// Calls every case as every actor, each against a fresh fixture from `fixture`; returns
/// the mismatches.
async fn mismatches<F, Fut>(
    api: &Api,
    cases: &[Case<F>],
    fixture: impl Fn(Api, People) -> Fut + Copy,
) -> Vec<String>
where
    F: Fixture,
    Fut: Future<Output = F>,
{
    let people = People::register(api).await;
    let runs = cases.iter().flat_map(|case| {
        ACTORS
            .iter()
            .enumerate()
            .map(move |(i, actor)| (case, i, *actor))
    });
    futures::stream::iter(runs)
        .map(|(case, index, actor)| {
            let api = api.clone();
            let people = people.clone();
            async move {
                // A fresh fixture for every call: earlier calls must not decide later ones.
                let built = fixture(api.clone(), people).await;
                let user = who(built.team(), actor);
                let reply = api
                    .call(
                        case.method.clone(),
                        &(case.path)(&built),
                        user.map(|u| u.access_token.as_str()),
                        (case.body)(&built),
                    )
                    .await;
                let expected = case.expect[index];
                (reply.status.as_u16() != expected).then(|| {
                    format!(
                        "{} as {actor:?}: expected {expected}, got {} {}",
                        case.name, reply.status, reply.body
                    )
                })
            }
        })
        .buffer_unordered(6)
        .filter_map(|failure| async move { failure })
        .collect()
        .await
}

#[tokio::test]
async fn every_route_answers_each_role_exactly() {
    let api = Api::new();
    let failures = mismatches(&api, &cases(), |api, people| async move {
        api.team(&people).await
    })
    .await;
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_task_board_and_stats_route_answers_each_role_exactly() {
    let api = Api::new();
    let failures = mismatches(&api, &work_cases(), |api, people| async move {
        Work::build(&api, &people).await
    })
    .await;
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_document_route_answers_each_role_exactly() {
    let api = Api::new();
    let failures = mismatches(&api, &document_cases(), |api, people| async move {
        api.doc_team(&people).await
    })
    .await;
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn invite_routes_check_the_code_and_the_caller() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let invite = api
        .post(
            &format!("/v1/workspaces/{}/invites", team.workspace_id),
            team.admin.token(),
            json!({}),
        )
        .await;
    let code = invite.body["code"].as_str().unwrap().to_owned();
    let revoke = format!("/v1/workspaces/{}/invites/{code}", team.workspace_id);
    for (user, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(&team.outsider), StatusCode::NOT_FOUND),
        (Some(&team.member), StatusCode::FORBIDDEN),
    ] {
        let reply = api
            .delete(&revoke, user.map(|u| u.access_token.as_str()))
            .await;
        assert_eq!(reply.status, expected, "{user:?}");
    }
    // Anonymous may preview but not accept.
    assert_eq!(
        api.get(&format!("/v1/invites/{code}"), None).await.status,
        StatusCode::OK
    );
    let anonymous_accept = api
        .post(&format!("/v1/invites/{code}/accept"), None, json!({}))
        .await;
    assert_eq!(anonymous_accept.status, StatusCode::UNAUTHORIZED);
    api.must_delete(&revoke, &team.admin).await;
    assert_eq!(
        api.delete(&revoke, team.admin.token()).await.status,
        StatusCode::NOT_FOUND
    );
}
