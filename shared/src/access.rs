//! Who may see and do what: the membership checks every workspace and channel route
//! starts with. Anything the caller may not see is a 404, so a non-member never learns that
//! a workspace or a private channel exists; a visible thing the caller may not change is a
//! 403.

use std::collections::HashMap;

use crate::channels::{Channel, ChannelKind, ChannelMember};
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::state::AppState;
use crate::workspaces::{Role, Workspace, WorkspaceMember};

/// A workspace the caller belongs to, and their membership.
#[derive(Debug, Clone)]
pub struct WorkspaceAccess {
    pub workspace: Workspace,
    pub member: WorkspaceMember,
}

impl WorkspaceAccess {
    pub fn role(&self) -> Role {
        self.member.role
    }

    pub fn require_admin(&self) -> ApiResult<()> {
        if self.member.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this needs a workspace admin or the owner".into(),
            ))
        }
    }

    pub fn require_owner(&self) -> ApiResult<()> {
        if self.member.role == Role::Owner {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "only the workspace owner may do this".into(),
            ))
        }
    }
}

/// Reads the workspace and the caller's membership in one round trip.
pub async fn workspace(
    state: &AppState,
    workspace_id: WorkspaceId,
    caller: UserId,
) -> ApiResult<WorkspaceAccess> {
    match state
        .store
        .get_workspace_and_member(workspace_id, caller)
        .await?
    {
        (Some(workspace), Some(member)) => Ok(WorkspaceAccess { workspace, member }),
        _ => Err(ApiError::not_found("workspace")),
    }
}

/// A channel the caller may read, their membership of it (if any), and their membership of
/// its workspace (always: nobody outside the workspace reads any of its channels).
#[derive(Debug, Clone)]
pub struct ChannelAccess {
    pub channel: Channel,
    pub member: Option<ChannelMember>,
    pub workspace_member: WorkspaceMember,
    pub caller: UserId,
}

impl ChannelAccess {
    /// The caller's membership, or 403 (they can see the channel but have not joined).
    pub fn require_member(&self) -> ApiResult<&ChannelMember> {
        self.member
            .as_ref()
            .ok_or_else(|| ApiError::Forbidden("join the channel first".into()))
    }

    pub fn is_dm(&self) -> bool {
        self.channel.kind == ChannelKind::Dm
    }

    /// Creator, or workspace admin/owner: who may rename, re-topic or delete a channel.
    pub fn require_manager(&self) -> ApiResult<()> {
        if self.channel.created_by == self.caller && !self.is_dm() {
            return Ok(());
        }
        self.require_workspace_admin()
    }

    pub fn require_workspace_admin(&self) -> ApiResult<()> {
        if self.workspace_member.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this needs the channel's creator or a workspace admin".into(),
            ))
        }
    }
}

/// Reads the channel, the caller's membership of it, its workspace and the caller's
/// membership of that (one BatchGetItem once this process knows the channel's workspace,
/// see [`crate::table::remembered`]; two in sequence the first time). A channel
/// membership counts only alongside the workspace membership, so a channel membership left
/// behind by a removal grants nothing, and a deleted workspace ends access to all its
/// channels. Members may read any channel they belong to; other workspace members may read
/// public channels; nobody else learns the channel exists.
pub async fn channel(
    state: &AppState,
    channel_id: ChannelId,
    caller: UserId,
) -> ApiResult<ChannelAccess> {
    let found = state.store.get_channel_access(channel_id, caller).await?;
    let (Some(channel), Some(_), Some(workspace_member)) =
        (found.channel, found.workspace, found.workspace_member)
    else {
        return Err(ApiError::not_found("channel"));
    };
    let public = !channel.private && channel.kind != ChannelKind::Dm;
    if found.member.is_none() && !public {
        return Err(ApiError::not_found("channel"));
    }
    Ok(ChannelAccess {
        channel,
        member: found.member,
        workspace_member,
        caller,
    })
}

/// Which of `channel_ids` the caller may read: channels of this workspace that exist and
/// are public, or that the caller belongs to (the caller's workspace membership is checked
/// separately). One batch read.
pub async fn readable_channels(
    state: &AppState,
    workspace_id: WorkspaceId,
    caller: UserId,
    channel_ids: &[ChannelId],
) -> ApiResult<HashMap<ChannelId, bool>> {
    let found = state
        .store
        .get_channels_with_member(channel_ids, caller)
        .await?;
    Ok(channel_ids
        .iter()
        .map(|id| {
            let readable = found.get(id).is_some_and(|found| {
                found.channel.as_ref().is_some_and(|channel| {
                    channel.workspace_id == workspace_id
                        && (found.member.is_some()
                            || (!channel.private && channel.kind != ChannelKind::Dm))
                })
            });
            (*id, readable)
        })
        .collect())
}
