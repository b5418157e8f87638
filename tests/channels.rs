//! Channels, channel members, DMs and read markers against the real local stack.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_shared::ids::ChannelId;
use huddle_tests::{Api, People, TestUser, count_status, cursor_reveals};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn channel_input_is_validated() {
    let api = Api::new();
    let owner = api.register_user().await;
    let wid = api.create_workspace(&owner, "V").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/workspaces/{wid}/channels");
    for (body, field) in [
        (json!({"name": "", "kind": "chat"}), "name"),
        (json!({"name": "Upper", "kind": "chat"}), "name"),
        (json!({"name": "has space", "kind": "chat"}), "name"),
        (json!({"name": "x".repeat(81), "kind": "chat"}), "name"),
        (json!({"name": "ok", "kind": "forum"}), "kind"),
        (json!({"name": "ok", "kind": "dm"}), "kind"),
        (
            json!({"name": "ok", "kind": "chat", "topic": "t".repeat(251)}),
            "topic",
        ),
        (
            json!({"name": "ok", "kind": "chat", "private": "yes"}),
            "private",
        ),
        (json!({"name": "ok"}), "body"),
    ] {
        let reply = api.post(&path, owner.token(), body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            reply.body
        );
        if field != "body" {
            assert_eq!(reply.error_fields(), [field], "{body}: {:?}", reply.body);
        }
    }
    for kind in ["chat", "voice", "todo", "doc", "kanban"] {
        let channel = api
            .create_channel(
                &owner,
                &wid,
                json!({"name": format!("k-{kind}"), "kind": kind}),
            )
            .await;
        assert_eq!(channel["kind"], kind);
        assert_eq!(channel["joined"], true);
        assert_eq!(channel["member_count"], 1);
    }
    assert_eq!(
        api.get("/v1/channels/nope", owner.token()).await.status,
        StatusCode::BAD_REQUEST
    );
    let unknown = api
        .get(
            &format!("/v1/channels/{}", ChannelId::generate()),
            owner.token(),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn twenty_concurrent_creates_of_one_name_give_one_channel() {
    let api = Api::new();
    let owner = api.register_user().await;
    let wid = api.create_workspace(&owner, "Race").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/workspaces/{wid}/channels");
    let replies = futures::future::join_all((0..20).map(|_| {
        api.post(
            &path,
            owner.token(),
            json!({"name": "launch", "kind": "chat"}),
        )
    }))
    .await;
    let created = count_status(&replies, StatusCode::CREATED);
    let conflicts = count_status(&replies, StatusCode::CONFLICT);
    assert_eq!(
        (created, conflicts),
        (1, 19),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let channels = api.walk(&path, owner.token(), 100).await;
    assert_eq!(channels.iter().filter(|c| c["name"] == "launch").count(), 1);
}

#[tokio::test]
async fn twenty_concurrent_joins_leave_an_exact_member_count() {
    let api = Api::new();
    let owner = api.register_user().await;
    let joiners = futures::future::join_all((0..20).map(|_| api.register_user())).await;
    let refs: Vec<&TestUser> = joiners.iter().collect();
    let workspace = api.workspace_with(&owner, &refs).await;
    let wid = workspace["id"].as_str().unwrap();
    let channel = api
        .create_channel(&owner, wid, json!({"name": "busy", "kind": "chat"}))
        .await;
    let cid = channel["id"].as_str().unwrap();
    let join_path = format!("/v1/channels/{cid}/join");
    let replies = futures::future::join_all(
        joiners
            .iter()
            .map(|joiner| api.post(&join_path, joiner.token(), json!({}))),
    )
    .await;
    assert!(
        replies.iter().all(|r| r.status == StatusCode::OK),
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    let after = api.get_channel(&owner, cid).await;
    assert_eq!(after["member_count"], 21);
    let members = api
        .walk(&format!("/v1/channels/{cid}/members"), owner.token(), 7)
        .await;
    assert_eq!(members.len(), 21);

    // Joining again changes nothing; leaving counts down exactly once.
    let again = api
        .post(
            &format!("/v1/channels/{cid}/join"),
            joiners[0].token(),
            json!({}),
        )
        .await;
    assert_eq!(again.body["member_count"], 21);
    for _ in 0..2 {
        api.leave(&joiners[0], cid).await;
    }
    let after_leave = api.get_channel(&owner, cid).await;
    assert_eq!(after_leave["member_count"], 20);
}

#[tokio::test]
async fn the_channel_list_shows_public_channels_and_my_private_ones() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let path = format!("/v1/workspaces/{}/channels", team.workspace_id);
    let names = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let member_view = api.walk(&path, team.member.token(), 1).await;
    assert_eq!(names(&member_view), ["general", "public", "private"]);
    let public = &member_view[1];
    assert_eq!(public["joined"], false);
    assert_eq!(public["unread_count"], 0);
    assert_eq!(public["mention_count"], 0);
    assert_eq!(public["last_message_at"], Value::Null);
    assert_eq!(member_view[2]["joined"], true);
    assert_eq!(member_view[2]["private"], true);

    let admin_view = api.walk(&path, team.admin.token(), 2).await;
    assert_eq!(names(&admin_view), ["general", "public"]);
}

#[tokio::test]
async fn a_members_channel_walk_never_shows_hidden_channels_in_pages_or_cursors() {
    let api = Api::new();
    let team = api.team(&People::register(&api).await).await;
    let (wid, owner) = (&team.workspace_id, &team.owner);
    // In list (creation) order, after general, public and the member's private channel:
    // channels the member may not see before, between and after ones they may.
    let mut hidden: Vec<String> = Vec::new();
    let client = &api;
    let create = move |name: &'static str, private: bool| async move {
        let body = json!({"name": name, "kind": "chat", "private": private});
        let channel = client.create_channel(owner, wid, body).await;
        channel["id"].as_str().unwrap().to_owned()
    };
    for name in ["secret-1", "secret-2", "secret-3"] {
        hidden.push(create(name, true).await);
    }
    let dm = api.open_dm(owner, wid, &[&team.admin]).await;
    hidden.push(dm["id"].as_str().unwrap().to_owned());
    create("open-1", false).await;
    hidden.push(create("secret-4", true).await);
    create("open-2", false).await;
    for name in ["secret-5", "secret-6"] {
        hidden.push(create(name, true).await);
    }
    let expected = ["general", "public", "private", "open-1", "open-2"];

    let path = format!("/v1/workspaces/{wid}/channels");
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..expected.len() {
        let page = api
            .page(&path, team.member.token(), 1, cursor.as_deref())
            .await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let items = page.body["items"].as_array().unwrap();
        // Never an empty page while visible channels remain.
        assert_eq!(items.len(), 1, "page {}: {:?}", names.len(), page.body);
        names.push(items[0]["name"].as_str().unwrap().to_owned());
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if let Some(cursor) = &cursor {
            let shown = cursor_reveals(cursor);
            for id in &hidden {
                assert!(!shown.contains(id.as_str()), "a cursor shows {id}");
            }
        }
    }
    assert_eq!(names, expected);
    // Only hidden channels follow the last visible one: the walk ends there.
    assert_eq!(cursor, None);

    for limit in [2, 3, 100] {
        let walked = api.walk(&path, team.member.token(), limit).await;
        let walked: Vec<&str> = walked.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(walked, expected, "limit {limit}");
    }
    // The owner sees everything but the member's private channel.
    let owner_view = api.walk(&path, owner.token(), 1).await;
    assert_eq!(owner_view.len(), 11);
}

#[tokio::test]
async fn renaming_moves_the_name_and_deleting_frees_it() {
    let api = Api::new();
    let owner = api.register_user().await;
    let wid = api.create_workspace(&owner, "Names").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let alpha = api
        .create_channel(&owner, &wid, json!({"name": "alpha", "kind": "chat"}))
        .await;
    let beta = api
        .create_channel(&owner, &wid, json!({"name": "beta", "kind": "doc"}))
        .await;
    let alpha_path = format!("/v1/channels/{}", alpha["id"].as_str().unwrap());

    let taken = api
        .patch(&alpha_path, owner.token(), json!({"name": "beta"}))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    let renamed = api
        .patch(
            &alpha_path,
            owner.token(),
            json!({"name": "gamma", "topic": "  Launch plans "}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["name"], "gamma");
    assert_eq!(renamed.body["topic"], "Launch plans");
    let cleared = api
        .patch(&alpha_path, owner.token(), json!({"topic": null}))
        .await;
    assert_eq!(cleared.body["topic"], Value::Null);
    assert_eq!(cleared.body["name"], "gamma");
    let bad = api
        .patch(&alpha_path, owner.token(), json!({"name": "Bad Name"}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // The old name is free again, the new one is taken.
    api.create_channel(&owner, &wid, json!({"name": "alpha", "kind": "chat"}))
        .await;
    let dup = api
        .post(
            &format!("/v1/workspaces/{wid}/channels"),
            owner.token(),
            json!({"name": "gamma", "kind": "chat"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let beta_path = format!("/v1/channels/{}", beta["id"].as_str().unwrap());
    api.must_delete(&beta_path, &owner).await;
    assert_eq!(
        api.get(&beta_path, owner.token()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.delete(&beta_path, owner.token()).await.status,
        StatusCode::NOT_FOUND
    );
    api.create_channel(&owner, &wid, json!({"name": "beta", "kind": "chat"}))
        .await;
}

#[tokio::test]
async fn channel_members_are_added_from_the_workspace_only() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let members = format!("/v1/channels/{}/members", team.private_id);

    let outsider = api
        .post(
            &members,
            team.member.token(),
            json!({"user_id": team.outsider.id}),
        )
        .await;
    assert_eq!(outsider.status, StatusCode::BAD_REQUEST);
    let added = api
        .post(
            &members,
            team.member.token(),
            json!({"user_id": team.owner.id}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["user"]["id"], team.owner.id.as_str());
    let twice = api
        .post(
            &members,
            team.member.token(),
            json!({"user_id": team.owner.id}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let bad = api
        .post(&members, team.member.token(), json!({"user_id": "nope"}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // The owner now sees the private channel, as a member.
    let seen = api.get_channel(&team.owner, &team.private_id).await;
    assert_eq!(seen["member_count"], 2);
    let listed = api.walk(&members, team.owner.token(), 100).await;
    assert_eq!(listed.len(), 2);

    api.remove_channel_member(&team.owner, &team.private_id, &team.owner)
        .await;
    let gone = api
        .get(
            &format!("/v1/channels/{}", team.private_id),
            team.owner.token(),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let not_member = api
        .delete(
            &format!("/v1/channels/{}/members/{}", team.public_id, team.member.id),
            team.admin.token(),
        )
        .await;
    assert_eq!(not_member.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_dm_is_one_channel_per_member_set() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let path = format!("/v1/workspaces/{}/dms", team.workspace_id);

    let first = api
        .post(
            &path,
            team.member.token(),
            json!({"user_ids": [team.admin.id]}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["kind"], "dm");
    assert_eq!(first.body["private"], true);
    assert_eq!(first.body["member_count"], 2);
    let mut expected_members = vec![team.member.id.clone(), team.admin.id.clone()];
    expected_members.sort();
    assert_eq!(first.body["dm_members"], json!(expected_members));

    // The same set from the other side, with the caller and duplicates named: same channel.
    let second = api
        .post(
            &path,
            team.admin.token(),
            json!({"user_ids": [team.member.id, team.member.id, team.admin.id]}),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["id"], first.body["id"]);
    let group = api
        .post(
            &path,
            team.admin.token(),
            json!({"user_ids": [team.member.id, team.owner.id]}),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED);
    assert_ne!(group.body["id"], first.body["id"]);

    let dm = format!("/v1/channels/{}", first.body["id"].as_str().unwrap());
    assert_eq!(
        api.get(&dm, team.owner.token()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post(&format!("{dm}/join"), team.owner.token(), json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post(&format!("{dm}/leave"), team.member.token(), json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    let rename = api
        .patch(&dm, team.member.token(), json!({"name": "mine"}))
        .await;
    assert_eq!(rename.status, StatusCode::FORBIDDEN);
    let owner_list = api
        .walk(
            &format!("/v1/workspaces/{}/channels", team.workspace_id),
            team.owner.token(),
            100,
        )
        .await;
    assert!(!owner_list.iter().any(|c| c["id"] == first.body["id"]));
    let member_list = api
        .walk(
            &format!("/v1/workspaces/{}/channels", team.workspace_id),
            team.member.token(),
            100,
        )
        .await;
    assert!(
        member_list
            .iter()
            .any(|c| c["id"] == first.body["id"] && c["joined"] == true)
    );

    for body in [
        json!({"user_ids": []}),
        json!({"user_ids": [team.member.id]}),
        json!({"user_ids": [team.outsider.id]}),
        json!({"user_ids": "x"}),
    ] {
        let reply = api.post(&path, team.member.token(), body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            reply.body
        );
    }
    let nine: Vec<String> = (0..9)
        .map(|_| huddle_shared::ids::UserId::generate().to_string())
        .collect();
    let too_many = api
        .post(&path, team.member.token(), json!({"user_ids": nine}))
        .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn concurrent_dm_opens_yield_one_channel() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let path = format!("/v1/workspaces/{}/dms", team.workspace_id);
    let replies = futures::future::join_all((0..10).map(|i| {
        let (caller, other) = if i % 2 == 0 {
            (&team.owner, &team.member)
        } else {
            (&team.member, &team.owner)
        };
        api.post(&path, caller.token(), json!({"user_ids": [other.id]}))
    }))
    .await;
    let created = count_status(&replies, StatusCode::CREATED);
    let existing = count_status(&replies, StatusCode::OK);
    assert_eq!(
        (created, existing),
        (1, 9),
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    let ids: std::collections::HashSet<_> = replies.iter().map(|r| r.body["id"].clone()).collect();
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn read_markers_validate_and_need_membership() {
    let api = Api::new();
    let team = api.fresh_team().await;
    let read = format!("/v1/channels/{}/read", team.general_id);
    let ok = api
        .put(
            &read,
            team.member.token(),
            json!({"message_id": "01J00000000000000000000000"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    for body in [
        json!({}),
        json!({"message_id": "nope"}),
        json!({"message_id": 1}),
    ] {
        let reply = api.put(&read, team.member.token(), body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
    }
    let channel = api.get_channel(&team.member, &team.general_id).await;
    assert_eq!(channel["unread_count"], 0);
    assert_eq!(channel["last_read_message_id"], Value::Null);
}
