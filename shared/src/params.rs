//! The path parameters many areas' routes share, as the structs handlers extract with
//! [`crate::http::Path`] and the API description lists (`params(ChannelPath)`). An area's
//! own ones (a message in its channel, say) live in that area.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::ids::{ChannelId, UserId, WorkspaceId};

/// `/v1/workspaces/{workspace_id}/…`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WorkspacePath {
    /// The workspace.
    pub workspace_id: WorkspaceId,
}

/// `/v1/channels/{channel_id}/…`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ChannelPath {
    /// The channel.
    pub channel_id: ChannelId,
}

/// `/v1/users/{user_id}/…`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user.
    pub user_id: UserId,
}
