//! Activity log entries: who did what to what, in a workspace.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{ActivityId, ChannelId, UserId, WorkspaceId};

/// What an activity entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Target {
    /// `user`, `invite`, `channel`, `message`, `file`, `task`, `card`, `column` or
    /// `document`.
    #[serde(rename = "type")]
    #[schema(example = "channel")]
    pub kind: String,
    /// The target's id (an invite's code for invites, the channel's id for a document).
    pub id: String,
}

/// An activity entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: ActivityId,
    pub workspace_id: WorkspaceId,
    pub kind: String,
    pub actor_id: UserId,
    pub target: Target,
    #[serde(default)]
    pub channel_id: Option<ChannelId>,
    pub summary: String,
    pub at: DateTime<Utc>,
}

/// An activity entry as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ActivityView {
    pub id: ActivityId,
    /// What happened: `member.joined|left|removed|role_changed`,
    /// `invite.created|revoked|accepted`, `channel.created|updated|deleted`,
    /// `message.deleted`, `file.deleted`, `task.*`, `card.*`, `column.*`
    /// (`created|updated|deleted`) or `document.restored`.
    #[schema(example = "channel.created")]
    pub kind: String,
    /// Who acted.
    pub actor_id: UserId,
    pub target: Target,
    /// The channel it happened in, when there is one.
    pub channel_id: Option<ChannelId>,
    /// A one-line description.
    pub summary: String,
    pub at: DateTime<Utc>,
}

impl From<Activity> for ActivityView {
    fn from(activity: Activity) -> Self {
        Self {
            id: activity.id,
            kind: activity.kind,
            actor_id: activity.actor_id,
            target: activity.target,
            channel_id: activity.channel_id,
            summary: activity.summary,
            at: activity.at,
        }
    }
}
