//! Memberships, roles and the counters kept beside them, under concurrency, against the
//! real local stack: removals racing joins, adds and DMs; ownership transfers racing
//! removals; read markers racing mentions; the per-workspace channel limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use huddle_shared::channels::ChannelKind;
use huddle_shared::ids::{ChannelId, MessageId, UserId, WorkspaceId};
use huddle_shared::keys;
use huddle_shared::workspaces::Role;
use huddle_shared::{ApiError, AppState};
use huddle_shared::{access, channels};
use huddle_tests::{Api, People, Team, TestUser, app_state, app_state_with, eventually, id, typed};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every way `user` could still reach `channel`: each must answer 404.
async fn assert_no_channel_access(api: &Api, state: &AppState, user: &TestUser, channel: &str) {
    let base = format!("/v1/channels/{channel}");
    let token = user.token();
    let replies = [
        ("get", api.get(&base, token).await),
        ("members", api.get(&format!("{base}/members"), token).await),
        (
            "messages",
            api.get(&format!("{base}/messages"), token).await,
        ),
        (
            "post",
            api.post(
                &format!("{base}/messages"),
                token,
                json!({"content": "still here?"}),
            )
            .await,
        ),
        (
            "join",
            api.post(&format!("{base}/join"), token, json!({})).await,
        ),
        (
            "read",
            api.put(
                &format!("{base}/read"),
                token,
                json!({"message_id": MessageId::generate()}),
            )
            .await,
        ),
        (
            "upload",
            api.post(
                &format!("{base}/uploads"),
                token,
                json!({"filename": "a.txt", "content_type": "text/plain", "size": 1}),
            )
            .await,
        ),
    ];
    for (what, reply) in replies {
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{what} {channel}: {:?}",
            reply.body
        );
    }
    // What a WebSocket subscribe (and every other channel route) checks.
    let user_id: UserId = user.id.parse().unwrap();
    let checked = access::channel(state, channel.parse().unwrap(), user_id).await;
    assert!(
        matches!(checked, Err(ApiError::NotFound(_))),
        "{channel}: {checked:?}"
    );
}

/// The channels of a workspace `user` is still a member of, read through the store.
async fn channel_memberships(state: &AppState, workspace: &str, user: &TestUser) -> usize {
    state
        .store
        .list_user_channel_memberships(id(&json!(workspace)), user.id.parse().unwrap())
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_channel_membership_without_the_workspace_membership_grants_nothing() {
    let api = Api::new();
    let state = app_state().await;
    let team = api.fresh_team().await;
    api.join(&team.member, &team.public_id).await;
    let dm = api
        .open_dm(&team.owner, &team.workspace_id, &[&team.member])
        .await;
    let dm_id = dm["id"].as_str().unwrap().to_owned();
    let channels = [
        team.general_id.clone(),
        team.public_id.clone(),
        team.private_id.clone(),
        dm_id,
    ];
    assert_eq!(
        channel_memberships(&state, &team.workspace_id, &team.member).await,
        4
    );

    // The state a removal that missed some channel memberships would leave: the workspace
    // membership gone, the channel memberships still there.
    let key = serde_dynamo::to_item(keys::workspace_member(
        typed(&team.workspace_id),
        typed(&team.member.id),
    ))
    .unwrap();
    state
        .store
        .client()
        .delete_item()
        .table_name(state.store.table())
        .set_key(Some(key))
        .send()
        .await
        .unwrap();

    for channel in &channels {
        assert_no_channel_access(&api, &state, &team.member, channel).await;
    }
    assert_eq!(
        api.get(
            &format!("/v1/workspaces/{}", team.workspace_id),
            team.member.token()
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // The others still read and post as before.
    api.send_message(&team.owner, &team.public_id, json!({"content": "hello"}))
        .await;

    // The removal's record on the table's stream sweeps what was left, counts included.
    eventually("the left-over channel memberships are swept", || async {
        channel_memberships(&state, &team.workspace_id, &team.member).await == 0
    })
    .await;
    let public = api.get_channel(&team.owner, &team.public_id).await;
    assert_eq!(public["member_count"], 1);
}

/// The channels a removal races with: `count` public ones the owner creates.
async fn public_channels(api: &Api, team: &Team, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let channel = api
            .create_channel(
                &team.owner,
                &team.workspace_id,
                json!({"name": format!("room-{i}"), "kind": "chat"}),
            )
            .await;
        ids.push(channel["id"].as_str().unwrap().to_owned());
    }
    ids
}

#[tokio::test]
async fn joins_adds_and_dms_racing_a_removal_leave_no_channel_access() {
    let api = Api::new();
    let state = app_state().await;
    let team = api.fresh_team().await;
    let wid = team.workspace_id.clone();
    let extras = futures::future::join_all((0..4).map(|_| api.register_user())).await;
    for extra in &extras {
        api.add_to_workspace(&team.owner, &wid, extra, "member")
            .await;
    }
    let rooms = public_channels(&api, &team, 12).await;
    let bob = team.member.clone();
    let stop = Arc::new(AtomicBool::new(false));

    // Bob leaves and rejoins every public room, over and over, from two clients.
    let joiners = (0..2).map(|lane| {
        let (api, bob, stop) = (api.clone(), bob.clone(), stop.clone());
        let rooms: Vec<String> = rooms.iter().skip(lane).step_by(2).cloned().collect();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                for room in &rooms {
                    api.post(
                        &format!("/v1/channels/{room}/leave"),
                        bob.token(),
                        json!({}),
                    )
                    .await;
                    api.post(&format!("/v1/channels/{room}/join"), bob.token(), json!({}))
                        .await;
                }
            }
        })
    });
    // The owner adds Bob to a private channel of theirs and takes him out again.
    let private = api
        .create_channel(
            &team.owner,
            &wid,
            json!({"name": "owners-room", "kind": "chat", "private": true}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let adder = {
        let (api, owner, bob, stop) = (api.clone(), team.owner.clone(), bob.clone(), stop.clone());
        let private = private.clone();
        tokio::spawn(async move {
            let members = format!("/v1/channels/{private}/members");
            while !stop.load(Ordering::Relaxed) {
                api.post(&members, owner.token(), json!({"user_id": bob.id}))
                    .await;
                api.delete(&format!("{members}/{}", bob.id), owner.token())
                    .await;
            }
        })
    };
    // The owner opens DMs with Bob and ever new sets of others, at a pace that spans the
    // removal.
    let dm_opener = {
        let (api, owner, bob, stop) = (api.clone(), team.owner.clone(), bob.clone(), stop.clone());
        let others: Vec<String> = extras.iter().map(|u| u.id.clone()).collect();
        let wid = wid.clone();
        tokio::spawn(async move {
            let mut set = 0usize;
            let mut opened = Vec::new();
            while !stop.load(Ordering::Relaxed) && set < 16 {
                let mut user_ids = vec![bob.id.clone()];
                for (bit, other) in others.iter().enumerate() {
                    if set & (1 << bit) != 0 {
                        user_ids.push(other.clone());
                    }
                }
                let reply = api
                    .post(
                        &format!("/v1/workspaces/{wid}/dms"),
                        owner.token(),
                        json!({"user_ids": user_ids}),
                    )
                    .await;
                if let Some(id) = reply.body["id"].as_str() {
                    opened.push(id.to_owned());
                }
                set += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            opened
        })
    };

    // Let the loops get going, then remove Bob while they run.
    tokio::time::sleep(Duration::from_millis(400)).await;
    api.remove_from_workspace(&team.admin, &wid, &bob).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, Ordering::Relaxed);
    for joiner in joiners {
        joiner.await.unwrap();
    }
    adder.await.unwrap();
    let dms = dm_opener.await.unwrap();
    assert!(!dms.is_empty(), "no DM was opened before the removal");

    assert_eq!(
        api.get(&format!("/v1/workspaces/{wid}"), bob.token())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let mut every = rooms.clone();
    every.extend([team.general_id.clone(), team.public_id.clone(), private]);
    every.extend(dms);
    for channel in &every {
        assert_no_channel_access(&api, &state, &bob, channel).await;
    }
    eventually("no channel membership of Bob is left", || async {
        channel_memberships(&state, &wid, &bob).await == 0
    })
    .await;
    // And the member counts stayed exact through all of it.
    for room in &rooms {
        let channel = api.get_channel(&team.owner, room).await;
        let members = api
            .walk(
                &format!("/v1/channels/{room}/members"),
                team.owner.token(),
                100,
            )
            .await;
        assert_eq!(channel["member_count"], json!(members.len()), "{room}");
    }
}

/// The workspace's owner, checked to be exactly one member who is also `owner_id`.
async fn the_one_owner(state: &AppState, workspace: WorkspaceId) -> UserId {
    let members = state
        .store
        .list_workspace_members(
            workspace,
            &huddle_shared::table::PageRequest {
                limit: 100,
                cursor: None,
            },
        )
        .await
        .unwrap();
    let owners: Vec<UserId> = members
        .items
        .iter()
        .filter(|m| m.role == Role::Owner)
        .map(|m| m.user_id)
        .collect();
    let workspace = state.store.get_workspaces(&[workspace]).await.unwrap();
    assert_eq!(owners.len(), 1, "owners: {owners:?}");
    assert_eq!(workspace[0].owner_id, owners[0]);
    owners[0]
}

#[tokio::test]
async fn transfers_racing_removals_and_leaves_keep_one_owner_who_is_a_member() {
    let api = Api::new();
    let state = app_state().await;
    let people = People::register(&api).await;
    let teams = futures::future::join_all((0..8).map(|_| api.team(&people))).await;

    // In each team, the owner hands ownership to the member while the member is removed
    // by an admin (even teams) or leaves (odd teams): all sixteen requests at once.
    let races = teams.iter().enumerate().map(|(i, team)| {
        let api = api.clone();
        async move {
            let target = format!(
                "/v1/workspaces/{}/members/{}",
                team.workspace_id, team.member.id
            );
            let remover = if i % 2 == 0 {
                &team.admin
            } else {
                &team.member
            };
            let (transfer, removal) = tokio::join!(
                api.patch(&target, team.owner.token(), json!({"role": "owner"})),
                api.delete(&target, remover.token())
            );
            (transfer.status.as_u16(), removal.status.as_u16())
        }
    });
    let outcomes = futures::future::join_all(races).await;

    for (i, (team, outcome)) in teams.iter().zip(&outcomes).enumerate() {
        let refused = if i % 2 == 0 { 403 } else { 409 };
        assert!(
            *outcome == (200, refused) || *outcome == (404, 204),
            "team {i}: transfer and removal answered {outcome:?}"
        );
        let owner = the_one_owner(&state, id(&json!(team.workspace_id))).await;
        let expected = if outcome.0 == 200 {
            &team.member
        } else {
            &team.owner
        };
        assert_eq!(owner.to_string(), expected.id, "team {i}");
        // Whoever owns it can still run it: delete the workspace.
        api.delete_workspace(expected, &team.workspace_id).await;
    }
}

#[tokio::test]
async fn the_owner_is_never_removed_even_when_the_role_was_read_before_a_transfer() {
    let api = Api::new();
    let state = app_state().await;
    let team = api.fresh_team().await;
    let wid: WorkspaceId = id(&json!(team.workspace_id));
    let member: UserId = team.member.id.parse().unwrap();
    // The transfer commits after a removal would have read the member's role...
    let transfer = api
        .patch(
            &format!("/v1/workspaces/{}/members/{}", team.workspace_id, member),
            team.owner.token(),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(transfer.status, StatusCode::OK);
    // ...and the removal's delete refuses the owner by itself.
    let removal = state
        .store
        .remove_workspace_member(wid, member, member)
        .await
        .unwrap();
    assert_eq!(removal, huddle_shared::workspaces::MemberRemoval::Owner);
    assert_eq!(the_one_owner(&state, wid).await, member);
    let gone = state
        .store
        .remove_workspace_member(wid, UserId::generate(), member)
        .await
        .unwrap();
    assert_eq!(gone, huddle_shared::workspaces::MemberRemoval::NotMember);
}

/// The team's admin posts in `general`, mentioning the member.
async fn mention(api: &Api, team: &Team, text: &str) -> Value {
    api.send_message(
        &team.admin,
        &team.general_id,
        json!({"content": format!("{text} <@{}>", team.member.id)}),
    )
    .await
}

#[tokio::test]
async fn marking_read_what_was_read_keeps_a_mention_that_landed_meanwhile() {
    let api = Api::new();
    let state = app_state().await;
    let team = api.fresh_team().await;
    let general: ChannelId = id(&json!(team.general_id));
    let member: UserId = team.member.id.parse().unwrap();
    let first = mention(&api, &team, "one").await;

    // What a mark-read reads: the channel and the member's counters...
    let read = state
        .store
        .get_channel_and_member(general, member)
        .await
        .unwrap();
    let (channel, seen) = (read.channel.unwrap(), read.member.unwrap());
    assert_eq!(channel.last_message_id, Some(id(&first["id"])));
    // ...then a mention lands before its write.
    mention(&api, &team, "two").await;
    let latest = channel.last_message_id.unwrap();
    state
        .store
        .mark_read(&seen, latest, channel.message_count, true)
        .await
        .unwrap();

    let view = api.get_channel(&team.member, &team.general_id).await;
    assert_eq!(view["last_read_message_id"], first["id"]);
    assert_eq!(view["unread_count"], 1);
    // The unread message's mention is still counted (the one read may be too: the reset
    // fell back to moving the marker alone).
    let mentions = view["mention_count"].as_u64().unwrap();
    assert!(mentions >= 1, "the unread message's mention was lost");

    // Reading up to the latest now clears both.
    api.mark_read(&team.member, &team.general_id, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        .await;
    let view = api.get_channel(&team.member, &team.general_id).await;
    assert_eq!(
        (view["unread_count"].clone(), view["mention_count"].clone()),
        (json!(0), json!(0))
    );
}

/// One trial: the member marks everything read, over and over, while two senders mention
/// them; the marking stops half way through the sends. Returns (unread, mentions).
async fn mark_read_while_mentioned(api: &Api, team: &Team) -> (u64, u64) {
    const SENDS: usize = 40;
    let channel = format!("/v1/channels/{}", team.general_id);
    let sent = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (api, member, channel, sent) = (
            api.clone(),
            team.member.clone(),
            channel.clone(),
            sent.clone(),
        );
        tokio::spawn(async move {
            while sent.load(Ordering::Relaxed) < SENDS / 2 {
                api.put(
                    &format!("{channel}/read"),
                    member.token(),
                    json!({"message_id": "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"}),
                )
                .await;
            }
        })
    };
    let senders = (0..2).map(|lane| {
        let sent = sent.clone();
        async move {
            for i in 0..SENDS / 2 {
                mention(api, team, &format!("ping {lane}-{i}")).await;
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    futures::future::join_all(senders).await;
    reader.await.unwrap();
    let view = api.get(&channel, team.member.token()).await;
    (
        view.body["unread_count"].as_u64().unwrap(),
        view.body["mention_count"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn marking_read_while_mentions_arrive_never_loses_one() {
    let api = Api::new();
    let people = People::register(&api).await;
    let teams = futures::future::join_all((0..6).map(|_| api.team(&people))).await;
    let trials = futures::future::join_all(
        teams
            .iter()
            .map(|team| mark_read_while_mentioned(&api, team)),
    )
    .await;
    // Every message mentions the member, and the marking stopped before the last ones:
    // each unread message still counts its mention (a fall-back may leave mentions of
    // read messages counted, never the other way round).
    for (unread, mentions) in &trials {
        assert!(*unread > 0, "{trials:?}");
        assert!(mentions >= unread, "unread and mentions: {trials:?}");
    }
}

fn new_channel(name: &str) -> channels::CreateChannelRequest {
    channels::CreateChannelRequest {
        name: name.to_owned(),
        kind: ChannelKind::Chat,
        private: false,
        topic: None,
    }
}

#[tokio::test]
async fn concurrent_creates_at_the_channel_limit_admit_exactly_the_limit() {
    // The gateway reads CHANNELS_PER_WORKSPACE_MAX once for the whole run, so this runs
    // the create rule (what the route calls) with a small limit of its own.
    const LIMIT: u64 = 5;
    let api = Api::new();
    let state = app_state_with(|config| config.channels_per_workspace_max = LIMIT).await;
    let people = People::register(&api).await;
    let team = api.team(&people).await; // general, public and private: 3 of 5
    let wid: WorkspaceId = id(&json!(team.workspace_id));
    let creator: UserId = team.member.id.parse().unwrap();

    let attempts = futures::future::join_all(
        (0..12).map(|i| channels::create(&state, creator, wid, new_channel(&format!("c-{i}")))),
    )
    .await;
    let created: Vec<_> = attempts.iter().filter_map(|r| r.as_ref().ok()).collect();
    let refused = attempts
        .iter()
        .filter(|r| matches!(r, Err(ApiError::Conflict(message)) if message.contains("limit")))
        .count();
    assert_eq!(
        (created.len(), refused),
        (2, 10),
        "{:?}",
        attempts
            .iter()
            .map(|r| r.as_ref().err())
            .collect::<Vec<_>>()
    );
    let workspace = api
        .get(
            &format!("/v1/workspaces/{}", team.workspace_id),
            team.member.token(),
        )
        .await;
    assert_eq!(workspace.body["channel_count"], LIMIT);
    let listed = api
        .walk(
            &format!("/v1/workspaces/{}/channels", team.workspace_id),
            team.owner.token(),
            100,
        )
        .await;
    assert_eq!(
        listed.len() as u64,
        LIMIT - 1,
        "the owner cannot see private"
    );

    // A DM does not count against the limit.
    let dm = api
        .post(
            &format!("/v1/workspaces/{}/dms", team.workspace_id),
            team.member.token(),
            json!({"user_ids": [team.admin.id]}),
        )
        .await;
    assert_eq!(dm.status, StatusCode::CREATED);
    let full = channels::create(&state, creator, wid, new_channel("after-dm")).await;
    assert!(matches!(full, Err(ApiError::Conflict(_))), "{full:?}");

    // Deleting a channel gives its slot back, once.
    api.delete_channel(&team.member, &created[0].id.to_string())
        .await;
    let again = futures::future::join_all(
        (0..4).map(|i| channels::create(&state, creator, wid, new_channel(&format!("d-{i}")))),
    )
    .await;
    assert_eq!(again.iter().filter(|r| r.is_ok()).count(), 1, "{again:?}");

    // Someone outside the workspace creates nothing and uses no slot.
    let outsider: UserId = team.outsider.id.parse().unwrap();
    let denied = channels::create(&state, outsider, wid, new_channel("outsider")).await;
    assert!(matches!(denied, Err(ApiError::NotFound(_))), "{denied:?}");
    let workspace = api.get_workspace(&team.owner, &team.workspace_id).await;
    assert_eq!(workspace["channel_count"], LIMIT);
}
