//! Activity log entries: who did what to what, in a workspace.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ActivityId, ChannelId, UserId, WorkspaceId};

/// What an activity entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: String,
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityView {
    pub id: ActivityId,
    pub kind: String,
    pub actor_id: UserId,
    pub target: Target,
    pub channel_id: Option<ChannelId>,
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
