//! Channels, their members, read markers and counters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{ChannelId, MessageId, UserId, WorkspaceId};
use crate::notifications::NotificationLevel;

/// What a channel is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Chat,
    Voice,
    Todo,
    Doc,
    Kanban,
    /// Created only through the DM route.
    Dm,
}

/// A channel as stored. The counters are maintained by message sends (`ADD`), never by
/// counting messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub kind: ChannelKind,
    pub private: bool,
    #[serde(default)]
    pub topic: Option<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub member_count: u64,
    /// Top-level messages ever posted (a monotonic counter).
    #[serde(default)]
    pub message_count: u64,
    #[serde(default)]
    pub last_message_id: Option<MessageId>,
    #[serde(default)]
    pub last_message_at: Option<DateTime<Utc>>,
    /// The workspace's `general` channel, which every member stays in.
    #[serde(default)]
    pub general: bool,
    /// For DMs: the member set, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dm_members: Vec<UserId>,
}

impl Channel {
    /// Read by its members only (private channels and DMs); other workspace members read
    /// the rest.
    pub fn members_only(&self) -> bool {
        self.private || self.kind == ChannelKind::Dm
    }
}

/// A user's membership of a channel, with the read marker and counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelMember {
    pub channel_id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub joined_at: DateTime<Utc>,
    /// The channel's `message_count` when the member last read up to the latest message.
    #[serde(default)]
    pub read_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_message_id: Option<MessageId>,
    /// Mentions of this member since they last read.
    #[serde(default)]
    pub mention_count: u64,
    /// What this member hears of the channel; absent: the default for its kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_level: Option<NotificationLevel>,
}

/// A channel as the API returns it, with the caller's view of it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChannelView {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub kind: ChannelKind,
    pub private: bool,
    pub topic: Option<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub member_count: u64,
    pub last_message_at: Option<DateTime<Utc>>,
    /// For DMs only: every member, the caller included.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub dm_members: Vec<UserId>,
    /// Whether the caller is a member.
    pub joined: bool,
    /// Top-level messages since the caller's read marker (0 when not a member).
    pub unread_count: u64,
    /// Mentions of the caller since they last read (0 when not a member).
    pub mention_count: u64,
    /// The caller's read marker.
    pub last_read_message_id: Option<MessageId>,
    /// The caller's notification level (the kind's default when not a member or unset).
    pub notification_level: NotificationLevel,
}

impl ChannelView {
    pub fn new(channel: Channel, membership: Option<&ChannelMember>) -> Self {
        let notification_level = membership
            .and_then(|member| member.notification_level)
            .unwrap_or_else(|| NotificationLevel::default_for(channel.kind));
        let (unread_count, mention_count, last_read) = match membership {
            Some(member) => (
                channel.message_count.saturating_sub(member.read_count),
                member.mention_count,
                member.last_read_message_id,
            ),
            None => (0, 0, None),
        };
        Self {
            id: channel.id,
            workspace_id: channel.workspace_id,
            name: channel.name,
            kind: channel.kind,
            private: channel.private,
            topic: channel.topic,
            created_by: channel.created_by,
            created_at: channel.created_at,
            updated_at: channel.updated_at,
            member_count: channel.member_count,
            last_message_at: channel.last_message_at,
            dm_members: channel.dm_members,
            joined: membership.is_some(),
            unread_count,
            mention_count,
            last_read_message_id: last_read,
            notification_level,
        }
    }
}

/// `/v1/channels/{channel_id}/members/{user_id}`.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ChannelMemberPath {
    /// The channel.
    pub channel_id: ChannelId,
    /// The member.
    pub user_id: UserId,
}
