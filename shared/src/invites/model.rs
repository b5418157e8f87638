//! Invites to a workspace.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{UserId, WorkspaceId};

/// An invite to a workspace. Revoking deletes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Invite {
    /// The secret that accepts the invite (`/v1/invites/{code}`).
    pub code: String,
    pub workspace_id: WorkspaceId,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `null`: unlimited.
    #[serde(default)]
    pub max_uses: Option<u32>,
    /// Acceptances so far.
    pub uses: u32,
}

/// `/v1/invites/{code}/…`
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InvitePath {
    /// The invite's code.
    pub code: String,
}

/// `/v1/workspaces/{workspace_id}/invites/{code}`
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WorkspaceInvitePath {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The invite's code.
    pub code: String,
}
