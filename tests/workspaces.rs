//! Workspaces, members, roles and invites against the real local stack.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::ids::{UserId, WorkspaceId};
use huddle_shared::invites::Invite;
use huddle_tests::{Api, app_state, count_status, eventually};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn creating_a_workspace_makes_the_caller_owner_of_it_and_of_general() {
    let api = Api::new();
    let owner = api.register_user().await;
    let reply = api
        .post(
            "/v1/workspaces",
            owner.token(),
            json!({"name": "  Acme  ", "description": "Rockets"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let workspace = reply.body;
    assert_eq!(workspace["name"], "Acme");
    assert_eq!(workspace["description"], "Rockets");
    assert_eq!(workspace["my_role"], "owner");
    assert_eq!(workspace["owner_id"], owner.id.as_str());
    let id = workspace["id"].as_str().unwrap();

    let channels = api
        .get(&format!("/v1/workspaces/{id}/channels"), owner.token())
        .await;
    assert_eq!(channels.status, StatusCode::OK);
    let items = channels.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "general");
    assert_eq!(items[0]["id"], workspace["general_channel_id"]);
    assert_eq!(items[0]["joined"], true);
    assert_eq!(items[0]["private"], false);
    assert_eq!(items[0]["member_count"], 1);
    assert_eq!(items[0]["unread_count"], 0);
    assert_eq!(items[0]["mention_count"], 0);

    let mine = api.get("/v1/workspaces", owner.token()).await;
    assert_eq!(mine.body["items"][0]["id"], id);
    assert_eq!(mine.body["items"][0]["my_role"], "owner");
    assert_eq!(mine.body["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn workspace_input_is_validated() {
    let api = Api::new();
    let owner = api.register_user().await;
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "x".repeat(81)}), "name"),
        (
            json!({"name": "ok", "description": "d".repeat(1001)}),
            "description",
        ),
        (json!({"name": 5}), "name"),
    ] {
        let reply = api
            .post("/v1/workspaces", owner.token(), body.clone())
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.error_fields(), [field], "{body}");
    }
    let workspace = api.create_workspace(&owner, "Valid").await;
    let id = workspace["id"].as_str().unwrap();
    let null_name = api
        .patch(
            &format!("/v1/workspaces/{id}"),
            owner.token(),
            json!({"name": null}),
        )
        .await;
    assert_eq!(null_name.status, StatusCode::BAD_REQUEST);
    let bad_id = api.get("/v1/workspaces/not-a-ulid", owner.token()).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    let unknown = api
        .get(
            &format!("/v1/workspaces/{}", WorkspaceId::generate()),
            owner.token(),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for bad in ["limit=0", "limit=101", "limit=x", "cursor=garbage"] {
        let reply = api
            .get(&format!("/v1/workspaces?{bad}"), owner.token())
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let patched = api
        .patch(
            &format!("/v1/workspaces/{id}"),
            owner.token(),
            json!({"name": "Renamed", "description": null}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.body["name"], "Renamed");
    assert_eq!(patched.body["description"], serde_json::Value::Null);
}

#[tokio::test]
async fn my_workspaces_paginate_without_repeats() {
    let api = Api::new();
    let user = api.register_user().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(api.create_workspace(&user, &format!("W{i}")).await["id"].clone());
    }
    let walked = api.walk("/v1/workspaces", user.token(), 2).await;
    let ids: Vec<_> = walked.iter().map(|w| w["id"].clone()).collect();
    assert_eq!(ids, created);
}

#[tokio::test]
async fn members_are_added_by_id_or_email_and_listed_with_profiles() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let wid = &team.workspace_id;
    let newcomer = api.register_user().await;

    let by_email = api
        .post(
            &format!("/v1/workspaces/{wid}/members"),
            team.admin.token(),
            json!({"email": newcomer.email.to_uppercase()}),
        )
        .await;
    assert_eq!(by_email.status, StatusCode::CREATED, "{:?}", by_email.body);
    assert_eq!(by_email.body["user"]["id"], newcomer.id.as_str());
    assert_eq!(by_email.body["role"], "member");
    assert!(by_email.body["user"].get("email").is_none());

    let again = api
        .post(
            &format!("/v1/workspaces/{wid}/members"),
            team.admin.token(),
            json!({"user_id": newcomer.id}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let unknown = api
        .post(
            &format!("/v1/workspaces/{wid}/members"),
            team.admin.token(),
            json!({"user_id": UserId::generate()}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for body in [
        json!({}),
        json!({"user_id": newcomer.id, "email": newcomer.email}),
        json!({"user_id": newcomer.id, "role": "owner"}),
        json!({"user_id": newcomer.id, "role": "superuser"}),
        json!({"email": "not-an-email"}),
    ] {
        let reply = api
            .post(
                &format!("/v1/workspaces/{wid}/members"),
                team.owner.token(),
                body.clone(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
    }

    // The newcomer is in the workspace and in general.
    let workspace = api.get_workspace(&newcomer, wid).await;
    assert_eq!(workspace["my_role"], "member");
    let general = api.get_channel(&newcomer, &team.general_id).await;
    assert_eq!(general["joined"], true);
    assert_eq!(general["member_count"], 4);

    let members = api
        .walk(
            &format!("/v1/workspaces/{wid}/members"),
            newcomer.token(),
            2,
        )
        .await;
    assert_eq!(members.len(), 4);
    let roles: Vec<(&str, &str)> = members
        .iter()
        .map(|m| {
            (
                m["user"]["id"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(roles.contains(&(team.owner.id.as_str(), "owner")));
    assert!(roles.contains(&(team.admin.id.as_str(), "admin")));
    assert!(
        members
            .iter()
            .all(|m| m["joined_at"].is_string() && m["user"]["display_name"].is_string())
    );
}

#[tokio::test]
async fn ownership_moves_by_transfer_and_the_owner_never_leaves() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let wid = &team.workspace_id;

    let transfer = api
        .patch(
            &format!("/v1/workspaces/{wid}/members/{}", team.admin.id),
            team.owner.token(),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(transfer.status, StatusCode::OK, "{:?}", transfer.body);
    assert_eq!(transfer.body["role"], "owner");

    let old_owner = api.get_workspace(&team.owner, wid).await;
    assert_eq!(old_owner["my_role"], "admin");
    let new_owner = api.get_workspace(&team.admin, wid).await;
    assert_eq!(new_owner["my_role"], "owner");
    assert_eq!(new_owner["owner_id"], team.admin.id.as_str());

    // The old owner is an admin now: no delete, no demoting the new owner.
    assert_eq!(
        api.delete(&format!("/v1/workspaces/{wid}"), team.owner.token())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let demote = api
        .patch(
            &format!("/v1/workspaces/{wid}/members/{}", team.admin.id),
            team.owner.token(),
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(demote.status, StatusCode::FORBIDDEN);
    let remove = api
        .delete(
            &format!("/v1/workspaces/{wid}/members/{}", team.admin.id),
            team.owner.token(),
        )
        .await;
    assert_eq!(remove.status, StatusCode::FORBIDDEN);
    let leave = api
        .delete(
            &format!("/v1/workspaces/{wid}/members/{}", team.admin.id),
            team.admin.token(),
        )
        .await;
    assert_eq!(leave.status, StatusCode::CONFLICT);

    // Transfer to a non-member is refused and changes nothing.
    let outsider = api
        .patch(
            &format!("/v1/workspaces/{wid}/members/{}", team.outsider.id),
            team.admin.token(),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(outsider.status, StatusCode::NOT_FOUND);
    let still = api.get_workspace(&team.admin, wid).await;
    assert_eq!(still["my_role"], "owner");

    api.delete_workspace(&team.admin, wid).await;
}

#[tokio::test]
async fn a_removed_member_loses_the_workspace_and_its_channels() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let wid = &team.workspace_id;
    // The member is in general and in their private channel.
    let join = api
        .post(
            &format!("/v1/channels/{}/join", team.public_id),
            team.member.token(),
            json!({}),
        )
        .await;
    assert_eq!(join.body["member_count"], 2);

    api.remove_from_workspace(&team.admin, wid, &team.member)
        .await;
    assert_eq!(
        api.get(&format!("/v1/workspaces/{wid}"), team.member.token())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for channel in [&team.general_id, &team.public_id, &team.private_id] {
        let reply = api
            .get(&format!("/v1/channels/{channel}"), team.member.token())
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{channel}");
    }
    let public = api.get_channel(&team.owner, &team.public_id).await;
    assert_eq!(public["member_count"], 1);
    let general = api.get_channel(&team.owner, &team.general_id).await;
    assert_eq!(general["member_count"], 2);
    let mine = api.get("/v1/workspaces", team.member.token()).await;
    assert!(
        !mine.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == wid.as_str())
    );
    let again = api
        .delete(
            &format!("/v1/workspaces/{wid}/members/{}", team.member.id),
            team.admin.token(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_deleted_workspace_is_unreachable_at_once() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let wid = &team.workspace_id;
    api.delete_workspace(&team.owner, wid).await;
    for user in [&team.owner, &team.admin, &team.member] {
        assert_eq!(
            api.get(&format!("/v1/workspaces/{wid}"), user.token())
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            api.get(&format!("/v1/workspaces/{wid}/channels"), user.token())
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        for channel in [&team.general_id, &team.public_id, &team.private_id] {
            let reply = api
                .get(&format!("/v1/channels/{channel}"), user.token())
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND);
            // A send too, though its memberships may not be cleaned up yet, and though
            // the gateway knows the channels made through the channel route (so only the
            // send's own transaction checks access there).
            let sent = api
                .post(
                    &format!("/v1/channels/{channel}/messages"),
                    user.token(),
                    json!({"content": "into a deleted workspace"}),
                )
                .await;
            assert_eq!(sent.status, StatusCode::NOT_FOUND, "{:?}", sent.body);
            if *channel != team.general_id {
                let calls = sent.headers["x-huddle-aws-calls"].to_str().unwrap();
                assert!(
                    calls.ends_with("calls=TransactWriteItems,BatchGetItem"),
                    "the write refused it, then the read explained it: {calls}"
                );
            }
        }
        let mine = api.get("/v1/workspaces", user.token()).await;
        assert!(
            !mine.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["id"] == wid.as_str())
        );
    }
    assert_eq!(
        api.delete(&format!("/v1/workspaces/{wid}"), team.owner.token())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn invites_admit_new_members_once_each_and_idempotently() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let wid = &team.workspace_id;
    let created = api
        .create_invite(&team.admin, wid, json!({"max_uses": 5}))
        .await;
    assert_eq!(created["uses"], 0);
    assert_eq!(created["max_uses"], 5);
    let code = created["code"].as_str().unwrap().to_owned();
    let expires: chrono::DateTime<chrono::Utc> =
        created["expires_at"].as_str().unwrap().parse().unwrap();
    let hours = (expires - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((167.0..=168.0).contains(&hours), "{hours}");

    let preview = api.get(&format!("/v1/invites/{code}"), None).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert_eq!(preview.body["workspace"]["id"], wid.as_str());

    let joiner = api.register_user().await;
    let accepted = api.accept_invite(&joiner, &code).await;
    assert_eq!(accepted["role"], "member");
    assert_eq!(accepted["workspace"]["id"], wid.as_str());
    assert_eq!(accepted["workspace"]["my_role"], "member");
    let general = api.get_channel(&joiner, &team.general_id).await;
    assert_eq!(general["joined"], true);

    // Accepting again, or as an existing member, uses nothing up.
    api.accept_invite(&joiner, &code).await;
    let admin_accepts = api
        .post(
            &format!("/v1/invites/{code}/accept"),
            team.admin.token(),
            json!({}),
        )
        .await;
    assert_eq!(admin_accepts.body["role"], "admin");
    let listed = api
        .get(&format!("/v1/workspaces/{wid}/invites"), team.owner.token())
        .await;
    assert_eq!(listed.body["items"][0]["uses"], 1);

    let revoked = api
        .delete(
            &format!("/v1/workspaces/{wid}/invites/{code}"),
            team.owner.token(),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    // Revoked once: a second revocation finds nothing.
    let again = api
        .delete(
            &format!("/v1/workspaces/{wid}/invites/{code}"),
            team.owner.token(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.error_code(), "not_found");
    let late = api.register_user().await;
    let after_revoke = api
        .post(
            &format!("/v1/invites/{code}/accept"),
            late.token(),
            json!({}),
        )
        .await;
    assert_eq!(after_revoke.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.get(&format!("/v1/invites/{code}"), None).await.status,
        StatusCode::NOT_FOUND
    );
    for unknown in ["nope", "a%2Fb", &"x".repeat(300)] {
        let reply = api
            .post(
                &format!("/v1/invites/{unknown}/accept"),
                late.token(),
                json!({}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{unknown}");
    }
}

#[tokio::test]
async fn invite_input_is_validated() {
    let api = Api::new();
    let owner = api.register_user().await;
    let wid = api.create_workspace(&owner, "Invites").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for body in [
        json!({"expires_in_hours": 0}),
        json!({"expires_in_hours": 721}),
        json!({"max_uses": 0}),
        json!({"max_uses": -1}),
        json!({"max_uses": "3"}),
    ] {
        let reply = api
            .post(
                &format!("/v1/workspaces/{wid}/invites"),
                owner.token(),
                body.clone(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
    }
}

#[tokio::test]
async fn an_expired_invite_is_refused() {
    let api = Api::new();
    let owner = api.register_user().await;
    let wid: WorkspaceId = api.create_workspace(&owner, "Expired").await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let state = app_state().await;
    let past = huddle_shared::clock::now() - chrono::Duration::hours(1);
    let invite = Invite {
        code: huddle_shared::auth::secrets::generate().unwrap(),
        workspace_id: wid,
        created_by: owner.id.parse().unwrap(),
        created_at: past - chrono::Duration::hours(1),
        expires_at: past,
        max_uses: None,
        uses: 0,
    };
    state.store.create_invite(&invite).await.unwrap();
    let joiner = api.register_user().await;
    let reply = api
        .post(
            &format!("/v1/invites/{}/accept", invite.code),
            joiner.token(),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.get(&format!("/v1/invites/{}", invite.code), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn ten_concurrent_accepts_of_a_three_use_invite_admit_three() {
    let api = Api::new();
    let owner = api.register_user().await;
    let workspace = api.create_workspace(&owner, "Limited").await;
    let wid = workspace["id"].as_str().unwrap();
    let code = api
        .post(
            &format!("/v1/workspaces/{wid}/invites"),
            owner.token(),
            json!({"max_uses": 3}),
        )
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let joiners = futures::future::join_all((0..10).map(|_| api.register_user())).await;
    let accept_path = format!("/v1/invites/{code}/accept");
    let replies = futures::future::join_all(
        joiners
            .iter()
            .map(|joiner| api.post(&accept_path, joiner.token(), json!({}))),
    )
    .await;
    let admitted = count_status(&replies, StatusCode::OK);
    let refused = count_status(&replies, StatusCode::NOT_FOUND);
    assert_eq!(
        (admitted, refused),
        (3, 7),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );

    let members = api
        .walk(&format!("/v1/workspaces/{wid}/members"), owner.token(), 100)
        .await;
    assert_eq!(members.len(), 4);
    let general = api
        .get(
            &format!(
                "/v1/channels/{}",
                workspace["general_channel_id"].as_str().unwrap()
            ),
            owner.token(),
        )
        .await;
    assert_eq!(general.body["member_count"], 4);
    let listed = api
        .get(&format!("/v1/workspaces/{wid}/invites"), owner.token())
        .await;
    assert_eq!(listed.body["items"][0]["uses"], 3);
}

#[tokio::test]
async fn a_deleted_workspace_is_cleaned_up_behind_the_scenes() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let state = app_state().await;
    let wid: WorkspaceId = team.workspace_id.parse().unwrap();
    let member: UserId = team.member.id.parse().unwrap();
    let message = api
        .post(
            &format!("/v1/channels/{}/messages", team.general_id),
            team.member.token(),
            json!({"content": "left behind"}),
        )
        .await;
    let message_id = message.body["id"].as_str().unwrap().parse().unwrap();
    let invite = api
        .post(
            &format!("/v1/workspaces/{}/invites", team.workspace_id),
            team.owner.token(),
            json!({}),
        )
        .await;
    let code = invite.body["code"].as_str().unwrap().to_owned();
    // Sharing this workspace is what lets the member see the admin's profile.
    let profile = format!("/v1/users/{}", team.admin.id);
    assert_eq!(
        api.get(&profile, team.member.token()).await.status,
        StatusCode::OK
    );

    api.delete_workspace(&team.owner, &team.workspace_id).await;
    let general = team.general_id.parse().unwrap();
    eventually(
        "the workspace's memberships, messages and invites are removed",
        || async {
            state
                .store
                .get_workspace_member(wid, member)
                .await
                .unwrap()
                .is_none()
                && state
                    .store
                    .get_message(general, message_id)
                    .await
                    .unwrap()
                    .is_none()
                && state.store.get_invite(&code).await.unwrap().is_none()
                && state
                    .store
                    .get_channel_member(general, member)
                    .await
                    .unwrap()
                    .is_none()
        },
    )
    .await;
    assert_eq!(
        api.get(&profile, team.member.token()).await.status,
        StatusCode::NOT_FOUND
    );
}
