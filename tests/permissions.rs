//! The permission matrix: every workspace and channel route, called by an anonymous
//! client, a non-member, a member, an admin and the owner, each against a fresh team, with
//! the exact status asserted, so that a leak (or an over-eager denial) fails a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use huddle_tests::{Api, DocTeam, People, Team, TestUser};
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

/// One row of the matrix: a request built from a fresh team (`T`: a [`Team`], or a
/// [`DocTeam`] for the document routes), and the status each actor must get (anonymous,
/// outsider, member, admin, owner).
struct Case<T = Team> {
    name: &'static str,
    method: Method,
    path: fn(&T) -> String,
    body: fn(&T) -> Option<Value>,
    expect: [u16; 5],
}

fn no_body<T>(_: &T) -> Option<Value> {
    None
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

/// Runs every case as every actor, each call against a fresh team made by `make` (whose
/// people `base` finds); returns the mismatches.
async fn mismatches<T, F, Fut>(cases: Vec<Case<T>>, make: F, base: fn(&T) -> &Team) -> Vec<String>
where
    F: Fn(Api, People) -> Fut,
    Fut: Future<Output = T>,
{
    let api = Api::new();
    let people = People::register(&api).await;
    let runs = cases.iter().flat_map(|case| {
        ACTORS
            .iter()
            .enumerate()
            .map(move |(i, actor)| (case, i, *actor))
    });
    futures::stream::iter(runs)
        .map(|(case, index, actor)| {
            let api = api.clone();
            // A fresh team for every call: earlier calls must not decide later ones.
            let team = make(api.clone(), people.clone());
            async move {
                let team = team.await;
                let user = who(base(&team), actor);
                let reply = api
                    .call(
                        case.method.clone(),
                        &(case.path)(&team),
                        user.map(|u| u.access_token.as_str()),
                        (case.body)(&team),
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
    let failures = mismatches(
        cases(),
        |api, people| async move { api.team(&people).await },
        |team| team,
    )
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
    let failures = mismatches(
        document_cases(),
        |api, people| async move { api.doc_team(&people).await },
        |team| &team.team,
    )
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
