//! The permission matrix: every workspace, channel, notification and activity route,
//! called by an anonymous client, a non-member, a member, an admin and the owner, each
//! against a fresh team, with the exact status asserted, so that a leak (or an over-eager
//! denial) fails a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use huddle_tests::{Api, People, Team, TestUser};
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

/// One row of the matrix: a request built from a fresh team, and the status each actor
/// must get (anonymous, outsider, member, admin, owner).
struct Case {
    name: &'static str,
    method: Method,
    path: fn(&Team) -> String,
    body: fn(&Team) -> Option<Value>,
    expect: [u16; 5],
}

fn no_body(_: &Team) -> Option<Value> {
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

#[tokio::test]
async fn every_route_answers_each_role_exactly() {
    let api = Api::new();
    let people = People::register(&api).await;
    let cases = cases();
    let runs = cases.iter().flat_map(|case| {
        ACTORS
            .iter()
            .enumerate()
            .map(move |(i, actor)| (case, i, *actor))
    });
    let failures: Vec<String> = futures::stream::iter(runs)
        .map(|(case, index, actor)| {
            let api = api.clone();
            let people = people.clone();
            async move {
                // A fresh team for every call: earlier calls must not decide later ones.
                let team = api.team(&people).await;
                let user = who(&team, actor);
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
