//! Channels: create, list (with unread and mention counts), read, rename, delete, join,
//! leave, members, DMs and read markers.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa::openapi::{Object, ObjectBuilder, Type};

use crate::access::{self, ChannelAccess};
use crate::channels::{Channel, ChannelKind, ChannelMember, ChannelView};
use crate::channels::{
    ChannelChanges, ChannelDeletion, ChannelWrite, DmOutcome, MembershipChange, ReadMarkerMove,
};
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, MessageId, UserId, WorkspaceId};
use crate::patch::Patch;
use crate::realtime;
use crate::state::AppState;
use crate::table::{Page, PageRequest};
use crate::users::PublicProfile;
use crate::users::with_profiles;
use crate::validate::Validator;
use crate::workspaces::not_members_error;

pub const NAME_MAX: usize = 80;
pub const TOPIC_MAX: usize = 250;
pub const DM_MAX_OTHERS: usize = 8;

/// `POST /v1/workspaces/{workspace_id}/channels`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    /// Unique in the workspace: lower-case letters, digits, `-` and `_`.
    #[schema(min_length = 1, max_length = 80, pattern = "^[a-z0-9_-]{1,80}$")]
    pub name: String,
    /// Any kind but `dm` (DMs are opened with `POST /v1/workspaces/{workspace_id}/dms`).
    #[schema(schema_with = creatable_kind_schema)]
    pub kind: ChannelKind,
    /// Readable by its members only.
    #[serde(default)]
    pub private: bool,
    /// No control characters but newlines; surrounding whitespace is trimmed.
    #[serde(default)]
    #[schema(
        max_length = 250,
        pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub topic: Option<String>,
}

/// The kinds `POST /v1/workspaces/{workspace_id}/channels` creates: all but `dm`.
fn creatable_kind_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["chat", "voice", "todo", "doc", "kanban"]))
        .description(Some(
            "What the channel is for (`dm` channels are opened with \
             `POST /v1/workspaces/{workspace_id}/dms`).",
        ))
        .build()
}

/// `PATCH /v1/channels/{channel_id}`: only the fields given change; a `null` topic clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannelRequest {
    /// A new name (not for DMs); cannot be `null`.
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 80, pattern = "^[a-z0-9_-]{1,80}$")]
    pub name: Patch<String>,
    /// A new topic, or `null` to clear it (no control characters but newlines; a blank one
    /// clears it too).
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 250, pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$")]
    pub topic: Patch<String>,
}

/// `POST /v1/channels/{channel_id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddChannelMemberRequest {
    /// A member of the channel's workspace.
    pub user_id: UserId,
}

/// `POST /v1/workspaces/{workspace_id}/dms`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDmRequest {
    /// The other members: 1 to 8 distinct members of the workspace (the caller's own id
    /// and repeats are ignored).
    #[schema(min_items = 1, max_items = 8)]
    pub user_ids: Vec<UserId>,
}

/// `PUT /v1/channels/{channel_id}/read`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadRequest {
    /// Read up to this message (a later id than the latest counts as the latest).
    pub message_id: MessageId,
}

/// A channel member as `GET /v1/channels/{channel_id}/members` lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelMemberView {
    pub user: PublicProfile,
    pub joined_at: chrono::DateTime<chrono::Utc>,
}

/// The DM route's answer: the channel, and whether this call created it.
#[derive(Debug, Clone)]
pub struct OpenedDm {
    pub channel: ChannelView,
    pub created: bool,
}

/// Channel names: lower-case letters, digits, `-` and `_`, 1 to 80 characters.
fn check_name(check: &mut Validator, name: &str) {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if name.is_empty() || name.len() > NAME_MAX || !valid_chars {
        check.add(
            "name",
            format!("must be 1 to {NAME_MAX} of a-z, 0-9, - and _"),
        );
    }
}

fn check_topic(check: &mut Validator, topic: Option<&String>) {
    if let Some(topic) = topic {
        check.text("topic", topic, 0, TOPIC_MAX);
    }
}

fn new_member(
    channel: &Channel,
    user_id: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> ChannelMember {
    ChannelMember {
        channel_id: channel.id,
        workspace_id: channel.workspace_id,
        user_id,
        joined_at: now,
        // A new member starts caught up: history before joining is not "unread".
        read_count: channel.message_count,
        last_read_message_id: channel.last_message_id,
        mention_count: 0,
        notification_level: None,
    }
}

fn topic_or_none(topic: Option<String>) -> Option<String> {
    topic.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `POST /v1/workspaces/{wid}/channels`: any member; the creator joins.
pub async fn create(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    request: CreateChannelRequest,
) -> ApiResult<ChannelView> {
    let mut check = Validator::new();
    check_name(&mut check, &request.name);
    check_topic(&mut check, request.topic.as_ref());
    if request.kind == ChannelKind::Dm {
        check.add("kind", "DMs are opened with POST /v1/workspaces/{wid}/dms");
    }
    check.finish()?;

    access::workspace(state, workspace_id, caller).await?;
    let now = clock::now();
    let channel = Channel {
        id: ChannelId::generate(),
        workspace_id,
        name: request.name,
        kind: request.kind,
        private: request.private,
        topic: topic_or_none(request.topic),
        created_by: caller,
        created_at: now,
        updated_at: now,
        member_count: 1,
        message_count: 0,
        last_message_id: None,
        last_message_at: None,
        general: false,
        dm_members: Vec::new(),
    };
    let creator = new_member(&channel, caller, now);
    let max = state.config.channels_per_workspace_max;
    // A kanban board starts with its first columns, in the same transaction.
    let first_writes = match channel.kind {
        ChannelKind::Kanban => state
            .store
            .first_columns_writes(&crate::boards::first_columns(&channel))?,
        _ => Vec::new(),
    };
    match state
        .store
        .create_channel(&channel, &creator, max, first_writes)
        .await?
    {
        ChannelWrite::Done(channel) => Ok(ChannelView::new(*channel, Some(&creator))),
        ChannelWrite::NameTaken => Err(ApiError::conflict(
            "a channel with this name already exists",
        )),
        ChannelWrite::LimitReached => Err(ApiError::conflict(format!(
            "this workspace holds its limit of {max} channels; delete one to make room"
        ))),
        ChannelWrite::Gone => Err(ApiError::not_found("workspace")),
    }
}

/// `GET /v1/workspaces/{wid}/channels`: public channels and the private ones (and DMs) the
/// caller belongs to, oldest first, with unread and mention counts from the counters.
/// Channels the caller may not see are left out before the page is cut, so pages are full
/// while visible channels remain, and the cursor is the position of the last one shown.
pub async fn list(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    page: PageRequest,
) -> ApiResult<Page<ChannelView>> {
    let visible = move |channels: Vec<Channel>| async move {
        let pairs: Vec<(ChannelId, UserId)> = channels.iter().map(|c| (c.id, caller)).collect();
        let mut memberships: HashMap<ChannelId, ChannelMember> = state
            .store
            .get_channel_memberships(&pairs)
            .await?
            .into_iter()
            .map(|m| (m.channel_id, m))
            .collect();
        Ok::<_, ApiError>(
            channels
                .into_iter()
                .map(|channel| {
                    let membership = memberships.remove(&channel.id);
                    let visible = membership.is_some()
                        || (!channel.private && channel.kind != ChannelKind::Dm);
                    visible.then(|| ChannelView::new(channel, membership.as_ref()))
                })
                .collect(),
        )
    };
    let (_, channels) = tokio::try_join!(
        access::workspace(state, workspace_id, caller),
        state
            .store
            .list_workspace_channels(workspace_id, &page, visible)
    )?;
    Ok(channels)
}

/// `GET /v1/channels/{cid}`: readers.
pub async fn get(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
) -> ApiResult<ChannelView> {
    let access = access::channel(state, channel_id, caller).await?;
    Ok(ChannelView::new(access.channel, access.member.as_ref()))
}

/// `PATCH /v1/channels/{cid}`: the creator or a workspace admin.
pub async fn update(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: UpdateChannelRequest,
) -> ApiResult<ChannelView> {
    let mut check = Validator::new();
    match &request.name {
        Patch::Absent => {}
        Patch::Clear => check.add("name", "cannot be null"),
        Patch::Set(name) => check_name(&mut check, name),
    }
    check_topic(&mut check, request.topic.as_set());
    check.finish()?;

    let access = access::channel(state, channel_id, caller).await?;
    access.require_manager()?;
    if access.is_dm() && !request.name.is_absent() {
        return Err(ApiError::conflict("a DM cannot be renamed"));
    }
    let changes = ChannelChanges {
        name: request.name.as_set().cloned(),
        topic: match request.topic {
            Patch::Set(topic) => match topic_or_none(Some(topic)) {
                Some(topic) => Patch::Set(topic),
                None => Patch::Clear,
            },
            other => other,
        },
    };
    match state
        .store
        .update_channel(&access.channel, &changes, clock::now(), caller)
        .await?
    {
        ChannelWrite::Done(channel) => Ok(ChannelView::new(*channel, access.member.as_ref())),
        ChannelWrite::NameTaken => Err(ApiError::conflict(
            "a channel with this name already exists",
        )),
        ChannelWrite::Gone | ChannelWrite::LimitReached => Err(ApiError::not_found("channel")),
    }
}

/// `DELETE /v1/channels/{cid}`: the creator or a workspace admin. Unreachable at once.
pub async fn delete(state: &AppState, caller: UserId, channel_id: ChannelId) -> ApiResult<()> {
    let access = access::channel(state, channel_id, caller).await?;
    access.require_manager()?;
    if access.channel.general {
        return Err(ApiError::conflict("the general channel cannot be deleted"));
    }
    if state.store.delete_channel(&access.channel, caller).await? == ChannelDeletion::Gone {
        return Err(ApiError::not_found("channel"));
    }
    Ok(())
}

/// `POST /v1/channels/{cid}/join`: public channels only; idempotent.
pub async fn join(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
) -> ApiResult<ChannelView> {
    let access = access::channel(state, channel_id, caller).await?;
    if let Some(member) = &access.member {
        return Ok(ChannelView::new(access.channel.clone(), Some(member)));
    }
    // `access::channel` only admits a non-member to a public channel.
    let member = new_member(&access.channel, caller, clock::now());
    let mut channel = access.channel;
    match state.store.join_channel(&member, None).await? {
        MembershipChange::Changed => {
            channel.member_count += 1;
            Ok(ChannelView::new(channel, Some(&member)))
        }
        MembershipChange::Unchanged => {
            let member = state.store.get_channel_member(channel_id, caller).await?;
            Ok(ChannelView::new(channel, member.as_ref()))
        }
        // Removed from the workspace (or the channel deleted) since the access check.
        MembershipChange::ChannelGone
        | MembershipChange::NotInWorkspace
        | MembershipChange::AdderNotMember => Err(ApiError::not_found("channel")),
    }
}

fn refuse_fixed_membership(access: &ChannelAccess) -> ApiResult<()> {
    if access.is_dm() {
        return Err(ApiError::conflict("a DM's members are fixed"));
    }
    Ok(())
}

fn refuse_general(access: &ChannelAccess) -> ApiResult<()> {
    if access.channel.general {
        return Err(ApiError::conflict(
            "everyone in the workspace stays in the general channel",
        ));
    }
    Ok(())
}

/// `POST /v1/channels/{cid}/leave`: idempotent; not for DMs or `general`.
pub async fn leave(state: &AppState, caller: UserId, channel_id: ChannelId) -> ApiResult<()> {
    let access = access::channel(state, channel_id, caller).await?;
    if access.member.is_none() {
        return Ok(());
    }
    refuse_fixed_membership(&access)?;
    refuse_general(&access)?;
    state.store.leave_channel(channel_id, caller).await?;
    realtime::end_channel_subscriptions(state, &access.channel, caller).await
}

/// `GET /v1/channels/{cid}/members`: readers.
pub async fn list_members(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    page: PageRequest,
) -> ApiResult<Page<ChannelMemberView>> {
    let (_, members) = tokio::try_join!(
        access::channel(state, channel_id, caller),
        state.store.list_channel_members(channel_id, &page)
    )?;
    Ok(with_profiles(state, members, |m| m.user_id)
        .await?
        .map(|(user, member)| ChannelMemberView {
            user,
            joined_at: member.joined_at,
        }))
}

/// `POST /v1/channels/{cid}/members`: a channel member adds a workspace member.
pub async fn add_member(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: AddChannelMemberRequest,
) -> ApiResult<ChannelMemberView> {
    let access = access::channel(state, channel_id, caller).await?;
    access.require_member()?;
    refuse_fixed_membership(&access)?;
    let (in_workspace, user) = tokio::try_join!(
        state
            .store
            .get_workspace_member(access.channel.workspace_id, request.user_id),
        state.store.get_user(request.user_id)
    )?;
    let (Some(_), Some(user)) = (in_workspace, user) else {
        return Err(not_members_error("user_id", &[request.user_id]));
    };
    let member = new_member(&access.channel, request.user_id, clock::now());
    match state.store.join_channel(&member, Some(caller)).await? {
        MembershipChange::Changed => Ok(ChannelMemberView {
            user: PublicProfile::from(user),
            joined_at: member.joined_at,
        }),
        MembershipChange::Unchanged => Err(ApiError::conflict(
            "the user is already a member of this channel",
        )),
        // Removed from the workspace since the check above.
        MembershipChange::NotInWorkspace => Err(not_members_error("user_id", &[request.user_id])),
        MembershipChange::ChannelGone | MembershipChange::AdderNotMember => {
            Err(ApiError::not_found("channel"))
        }
    }
}

/// `DELETE /v1/channels/{cid}/members/{uid}`: workspace admins, or the member themselves.
pub async fn remove_member(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    user_id: UserId,
) -> ApiResult<()> {
    let access = access::channel(state, channel_id, caller).await?;
    if user_id != caller {
        access.require_workspace_admin()?;
    }
    refuse_fixed_membership(&access)?;
    refuse_general(&access)?;
    match state.store.leave_channel(channel_id, user_id).await? {
        MembershipChange::Changed => {
            realtime::end_channel_subscriptions(state, &access.channel, user_id).await
        }
        _ => Err(ApiError::not_found("member")),
    }
}

/// The key that makes a DM member set unique: a digest of the sorted ids.
fn member_set_digest(members: &[UserId]) -> String {
    let joined: Vec<String> = members.iter().map(ToString::to_string).collect();
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(joined.join(",").as_bytes()))
}

/// `POST /v1/workspaces/{wid}/dms`: the DM of exactly the caller plus `user_ids`
/// (1 to 8 other workspace members), created on first use.
pub async fn open_dm(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    request: OpenDmRequest,
) -> ApiResult<OpenedDm> {
    let mut members: Vec<UserId> = request.user_ids;
    members.retain(|id| *id != caller);
    members.sort();
    members.dedup();
    let mut check = Validator::new();
    if members.is_empty() || members.len() > DM_MAX_OTHERS {
        check.add(
            "user_ids",
            format!("must name 1 to {DM_MAX_OTHERS} other members"),
        );
    }
    check.finish()?;

    let (_, found) = tokio::try_join!(
        access::workspace(state, workspace_id, caller),
        state.store.get_workspace_members(workspace_id, &members)
    )?;
    let missing: Vec<UserId> = members
        .iter()
        .filter(|id| !found.iter().any(|m| m.user_id == **id))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(not_members_error("user_ids", &missing));
    }
    members.push(caller);
    members.sort();

    let now = clock::now();
    let id = ChannelId::generate();
    let channel = Channel {
        id,
        workspace_id,
        name: format!("dm-{}", id.to_string().to_lowercase()),
        kind: ChannelKind::Dm,
        private: true,
        topic: None,
        created_by: caller,
        created_at: now,
        updated_at: now,
        member_count: members.len() as u64,
        message_count: 0,
        last_message_id: None,
        last_message_at: None,
        general: false,
        dm_members: members.clone(),
    };
    let memberships: Vec<ChannelMember> = members
        .iter()
        .map(|uid| new_member(&channel, *uid, now))
        .collect();
    let digest = member_set_digest(&members);
    match state
        .store
        .find_or_create_dm(&channel, &memberships, &digest)
        .await?
    {
        DmOutcome::Created(channel) => {
            let mine = memberships.iter().find(|m| m.user_id == caller);
            Ok(OpenedDm {
                channel: ChannelView::new(channel, mine),
                created: true,
            })
        }
        DmOutcome::Existing(channel) => {
            let mine = state.store.get_channel_member(channel.id, caller).await?;
            Ok(OpenedDm {
                channel: ChannelView::new(channel, mine.as_ref()),
                created: false,
            })
        }
        // Someone left the workspace (or was removed) since the check above.
        DmOutcome::NotInWorkspace(gone) if gone.contains(&caller) => {
            Err(ApiError::not_found("workspace"))
        }
        DmOutcome::NotInWorkspace(gone) => Err(not_members_error("user_ids", &gone)),
    }
}

/// `PUT /v1/channels/{cid}/read`: moves the caller's read marker forward (never back).
/// The marker is a position in the channel's time-ordered messages, clamped to the latest
/// message; reading up to the latest also resets the unread and mention counts.
pub async fn mark_read(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: MarkReadRequest,
) -> ApiResult<()> {
    let access = access::channel(state, channel_id, caller).await?;
    let member = access.require_member()?;
    let Some(latest) = access.channel.last_message_id else {
        return Ok(()); // nothing posted yet: nothing to mark
    };
    let position = request.message_id.min(latest);
    let caught_up = position == latest;
    let read_count = if caught_up {
        access.channel.message_count
    } else {
        member.read_count
    };
    // A marker already at or past the position stays: reading is idempotent.
    match state
        .store
        .mark_read(member, position, read_count, caught_up)
        .await?
    {
        ReadMarkerMove::Moved | ReadMarkerMove::AlreadyPast => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names() {
        for good in ["general", "a", "team-1_x", &"a".repeat(80)] {
            let mut check = Validator::new();
            check_name(&mut check, good);
            assert!(check.finish().is_ok(), "{good}");
        }
        for bad in ["", "General", "with space", "émoji", "a.b", &"a".repeat(81)] {
            let mut check = Validator::new();
            check_name(&mut check, bad);
            assert!(check.finish().is_err(), "{bad}");
        }
    }

    #[test]
    fn dm_digest_depends_on_the_set_only() {
        let (a, b) = (UserId::generate(), UserId::generate());
        let mut one = vec![a, b];
        let mut two = vec![b, a];
        one.sort();
        two.sort();
        assert_eq!(member_set_digest(&one), member_set_digest(&two));
        assert_ne!(member_set_digest(&[a]), member_set_digest(&one));
    }
}
