//! Workspaces, their members and roles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::users::PublicProfile;

/// A member's role. Ordered: `Member < Admin < Owner`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }
}

/// A workspace as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub owner_id: UserId,
    /// The public chat channel every member joins.
    pub general_channel_id: ChannelId,
    /// Channels the workspace holds, DMs aside (`general` included).
    // An `ADD` in the transaction that creates or deletes a channel, whose condition keeps
    // it within `CHANNELS_PER_WORKSPACE_MAX`.
    #[serde(default)]
    pub channel_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A workspace as the API returns it: with the caller's role.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkspaceView {
    #[serde(flatten)]
    pub workspace: Workspace,
    /// The caller's role in the workspace.
    pub my_role: Role,
}

/// A user's membership of a workspace, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceMember {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// Who added the member (absent: they joined themselves, as the creator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_by: Option<UserId>,
    /// The invite the member joined by, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
    /// Who last changed the member's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_changed_by: Option<UserId>,
}

/// A member as `GET /v1/workspaces/{wid}/members` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MemberView {
    pub user: PublicProfile,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// `/v1/workspaces/{workspace_id}/members/{user_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WorkspaceMemberPath {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The member.
    pub user_id: UserId,
}
