//! Messages: the stored entity, reactions, edit history and the API view.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::files::{FileView, StoredFile};
use crate::ids::{ChannelId, MessageId, UserId, WorkspaceId};

/// A message as stored. Reactions live beside it as string sets of user ids, one
/// attribute per emoji (see `messages::store`), so adding one is an idempotent `ADD`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub author_id: UserId,
    pub content: String,
    #[serde(default)]
    pub parent_id: Option<MessageId>,
    #[serde(default)]
    pub reply_count: u64,
    #[serde(default)]
    pub last_reply_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub mentions: Vec<UserId>,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub edited_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
    /// Bumped by every edit and delete: the optimistic-concurrency check of edits.
    #[serde(default)]
    pub version: u64,
    /// The files attached at send time (ready files are immutable, so a copy is exact).
    #[serde(default)]
    pub attachments: Vec<StoredFile>,
}

/// One emoji's reactions on a message, as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReactionSummary {
    pub emoji: String,
    pub count: u64,
    /// Whether the caller is among those who reacted.
    pub me: bool,
}

/// A message as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MessageView {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub author_id: UserId,
    pub content: String,
    pub parent_id: Option<MessageId>,
    pub reply_count: u64,
    pub last_reply_at: Option<DateTime<Utc>>,
    pub reactions: Vec<ReactionSummary>,
    /// Files attached to the message; `download_url` and `thumbnail_url` are filled in by
    /// the route.
    pub attachments: Vec<FileView>,
    pub mentions: Vec<UserId>,
    pub pinned: bool,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
}

impl MessageView {
    /// The view of `message` for `viewer` (whose reactions are marked `me`; none for a
    /// broadcast), given who reacted with what.
    pub fn new(
        message: Message,
        reactions: &BTreeMap<String, Vec<UserId>>,
        viewer: Option<UserId>,
    ) -> Self {
        let reactions = if message.deleted {
            Vec::new()
        } else {
            reactions
                .iter()
                .filter(|(_, users)| !users.is_empty())
                .map(|(emoji, users)| ReactionSummary {
                    emoji: emoji.clone(),
                    count: users.len() as u64,
                    me: viewer.is_some_and(|viewer| users.contains(&viewer)),
                })
                .collect()
        };
        Self {
            id: message.id,
            channel_id: message.channel_id,
            author_id: message.author_id,
            content: message.content,
            parent_id: message.parent_id,
            reply_count: message.reply_count,
            last_reply_at: message.last_reply_at,
            reactions,
            attachments: if message.deleted {
                Vec::new()
            } else {
                message
                    .attachments
                    .iter()
                    .map(|file| FileView::new(file, None, None))
                    .collect()
            },
            mentions: message.mentions,
            pinned: message.pinned,
            edited_at: message.edited_at,
            deleted: message.deleted,
            created_at: message.created_at,
        }
    }
}

/// An earlier version of an edited message (`GET .../history`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageVersion {
    pub message_id: MessageId,
    pub content: String,
    /// When this version was written (the message's creation or an earlier edit).
    pub written_at: DateTime<Utc>,
    /// When it was replaced.
    pub replaced_at: DateTime<Utc>,
}

/// `/v1/channels/{channel_id}/messages/{message_id}/…` and `/pins/{message_id}`.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MessagePath {
    /// The channel.
    pub channel_id: ChannelId,
    /// The message.
    pub message_id: MessageId,
}

/// `/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReactionPath {
    /// The channel.
    pub channel_id: ChannelId,
    /// The message.
    pub message_id: MessageId,
    /// A short name (`thumbsup`, `+1`) or one emoji character, URL-encoded.
    #[param(min_length = 1, max_length = 32)]
    pub emoji: String,
}
