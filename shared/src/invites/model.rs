//! Invites to a workspace.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{UserId, WorkspaceId};

/// An invite to a workspace. Revoking deletes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    pub code: String,
    pub workspace_id: WorkspaceId,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `None`: unlimited.
    #[serde(default)]
    pub max_uses: Option<u32>,
    pub uses: u32,
}
