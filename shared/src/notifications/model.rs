//! Notifications and notification levels, as stored and as the API shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::channels::ChannelKind;
use crate::ids::{CardId, ChannelId, MessageId, NotificationId, TaskId, UserId, WorkspaceId};

/// Why a notification was made. One per event and recipient: the first that applies of
/// mention, reply, dm, message (assignments have their own events).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Mention,
    Reply,
    Dm,
    Message,
    Assigned,
}

/// What a member hears of a channel: everything, mentions (and replies in their threads,
/// and assignments), or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationLevel {
    All,
    Mentions,
    None,
}

impl NotificationLevel {
    /// `all` in DMs, `mentions` elsewhere.
    pub fn default_for(kind: ChannelKind) -> Self {
        if kind == ChannelKind::Dm {
            Self::All
        } else {
            Self::Mentions
        }
    }

    /// Whether a notification of `kind` reaches a member at this level.
    pub fn admits(self, kind: NotificationKind) -> bool {
        match self {
            Self::All => true,
            Self::Mentions => matches!(
                kind,
                NotificationKind::Mention | NotificationKind::Reply | NotificationKind::Assigned
            ),
            Self::None => false,
        }
    }
}

/// A notification as stored (and as the API shows it, but for `user_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    #[serde(default)]
    pub message_id: Option<MessageId>,
    #[serde(default)]
    pub task_id: Option<TaskId>,
    #[serde(default)]
    pub card_id: Option<CardId>,
    pub actor_id: UserId,
    pub preview: String,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

/// A notification as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    /// The message it is about (mentions, replies, DMs and messages).
    pub message_id: Option<MessageId>,
    /// The task assigned (assignments in todo channels).
    pub task_id: Option<TaskId>,
    /// The card assigned (assignments on kanban boards).
    pub card_id: Option<CardId>,
    /// Who acted.
    pub actor_id: UserId,
    /// The start of the text, on one line.
    #[schema(max_length = 140)]
    pub preview: String,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            workspace_id: n.workspace_id,
            channel_id: n.channel_id,
            message_id: n.message_id,
            task_id: n.task_id,
            card_id: n.card_id,
            actor_id: n.actor_id,
            preview: n.preview,
            read: n.read,
            created_at: n.created_at,
        }
    }
}

/// `GET /v1/notifications/unread-count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnreadCount {
    /// Unread notifications (a counter kept with each write, not a count of them).
    pub count: u64,
}

/// `/v1/notifications/{notification_id}/…`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NotificationPath {
    /// The notification.
    pub notification_id: NotificationId,
}

/// A preview: the first 140 characters of a text, on one line.
pub fn preview(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() <= PREVIEW_MAX {
        return flat.to_owned();
    }
    let mut cut: String = flat.chars().take(PREVIEW_MAX - 1).collect();
    cut.push('…');
    cut
}

pub const PREVIEW_MAX: usize = 140;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_admit_kinds() {
        use NotificationKind::*;
        let mentions = NotificationLevel::Mentions;
        assert!(mentions.admits(Mention) && mentions.admits(Reply) && mentions.admits(Assigned));
        assert!(!mentions.admits(Message) && !mentions.admits(Dm));
        assert!(NotificationLevel::All.admits(Message));
        assert!(!NotificationLevel::None.admits(Mention));
        assert_eq!(
            NotificationLevel::default_for(ChannelKind::Dm),
            NotificationLevel::All
        );
        assert_eq!(
            NotificationLevel::default_for(ChannelKind::Chat),
            NotificationLevel::Mentions
        );
    }

    #[test]
    fn previews_are_short_single_lines() {
        assert_eq!(preview("hi\nthere"), "hi there");
        let long = "x".repeat(500);
        assert_eq!(preview(&long).chars().count(), PREVIEW_MAX);
    }
}
