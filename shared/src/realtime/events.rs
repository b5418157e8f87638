//! Realtime events: what the broadcaster sends for each table change, and to whom. Adding
//! an event is one arm in [`events_for`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::boards::{Card, CardView, Column, ColumnView};
use crate::channels::{Channel, ChannelKind, ChannelMember};
use crate::clock;
use crate::error::ApiResult;
use crate::ids::{ChannelId, UserId};
use crate::keys;
use crate::messages::MessageView;
use crate::messages::{StoredMessage, message_from_image};
use crate::notifications::{Notification, NotificationView};
use crate::stream::{Change, ChangeKind};
use crate::tasks::{Task, TaskView};

/// A server frame: `{"type", "channel_id"?, "data", "at"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerEvent {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    pub data: Value,
    pub at: DateTime<Utc>,
}

impl ServerEvent {
    pub fn new(kind: &str, channel_id: Option<ChannelId>, data: Value) -> Self {
        Self {
            kind: kind.to_owned(),
            channel_id,
            data,
            at: clock::now(),
        }
    }

    /// An `error` frame for the connection that caused it.
    pub fn error(code: &str, message: &str) -> Self {
        Self::new("error", None, json!({"code": code, "message": message}))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Who an event goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The connections subscribed to a channel whose users may still read it (the
    /// broadcaster checks the channel, the workspace and the memberships).
    Channel(ChannelId),
    /// The connections subscribed to a channel that was just deleted: they hear of the
    /// deletion (nothing else of the channel reaches them) and their subscriptions end.
    DeletedChannel(ChannelId),
    /// Every open connection of one user.
    User(UserId),
}

/// One event for one audience.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub audience: Audience,
    pub event: ServerEvent,
}

fn message_images(change: &Change) -> ApiResult<(Option<StoredMessage>, Option<StoredMessage>)> {
    let decode =
        |image: &Option<serde_dynamo::Item>| image.clone().map(message_from_image).transpose();
    Ok((decode(&change.old)?, decode(&change.new)?))
}

fn message_data(stored: &StoredMessage) -> Value {
    // Broadcasts carry counts; `me` belongs to the REST API, which knows its reader.
    let view = MessageView::new(stored.message.clone(), &stored.reactions, None);
    serde_json::to_value(view).unwrap_or(Value::Null)
}

fn message_events(change: &Change) -> ApiResult<Vec<Outgoing>> {
    let (old, new) = message_images(change)?;
    let Some(new) = new else {
        return Ok(Vec::new()); // hard deletes are clean-up, not news
    };
    let channel = new.message.channel_id;
    let to_channel = |kind: &str, data: Value| Outgoing {
        audience: Audience::Channel(channel),
        event: ServerEvent::new(kind, Some(channel), data),
    };
    let Some(old) = old else {
        return Ok(vec![to_channel("message.created", message_data(&new))]);
    };
    let (before, after) = (&old.message, &new.message);
    if after.deleted {
        if !before.deleted {
            return Ok(vec![to_channel(
                "message.deleted",
                json!({"id": after.id, "channel_id": channel, "parent_id": after.parent_id}),
            )]);
        }
        return Ok(Vec::new());
    }
    let mut events = Vec::new();
    if before.content != after.content || before.reply_count != after.reply_count {
        events.push(to_channel("message.updated", message_data(&new)));
    }
    let emoji: std::collections::BTreeSet<&String> =
        old.reactions.keys().chain(new.reactions.keys()).collect();
    for emoji in emoji {
        let was = old.reactions.get(emoji).cloned().unwrap_or_default();
        let now = new.reactions.get(emoji).cloned().unwrap_or_default();
        for user in now.iter().filter(|u| !was.contains(u)) {
            events.push(to_channel(
                "reaction.added",
                json!({"message_id": after.id, "emoji": emoji, "user_id": user, "count": now.len()}),
            ));
        }
        for user in was.iter().filter(|u| !now.contains(u)) {
            events.push(to_channel(
                "reaction.removed",
                json!({"message_id": after.id, "emoji": emoji, "user_id": user, "count": now.len()}),
            ));
        }
    }
    if before.pinned != after.pinned {
        let kind = if after.pinned {
            "pin.added"
        } else {
            "pin.removed"
        };
        events.push(to_channel(kind, json!({"message_id": after.id})));
    }
    Ok(events)
}

fn channel_data(channel: &Channel) -> Value {
    json!({
        "id": channel.id,
        "workspace_id": channel.workspace_id,
        "name": channel.name,
        "kind": channel.kind,
        "private": channel.private,
        "topic": channel.topic,
        "member_count": channel.member_count,
    })
}

fn channel_events(change: &Change) -> ApiResult<Vec<Outgoing>> {
    let old: Option<Channel> = change.old_as()?;
    let new: Option<Channel> = change.new_as()?;
    Ok(match (old, new) {
        (None, Some(channel)) => {
            // Nobody is subscribed to a new channel yet: tell its members directly.
            let members = if channel.kind == ChannelKind::Dm {
                channel.dm_members.clone()
            } else {
                vec![channel.created_by]
            };
            members
                .into_iter()
                .map(|user| Outgoing {
                    audience: Audience::User(user),
                    event: ServerEvent::new(
                        "channel.created",
                        Some(channel.id),
                        channel_data(&channel),
                    ),
                })
                .collect()
        }
        (Some(old), Some(new)) => {
            // Counter and last-message updates are not channel news.
            let changed = old.name != new.name || old.topic != new.topic;
            if changed {
                vec![Outgoing {
                    audience: Audience::Channel(new.id),
                    event: ServerEvent::new("channel.updated", Some(new.id), channel_data(&new)),
                }]
            } else {
                Vec::new()
            }
        }
        (Some(old), None) => vec![Outgoing {
            audience: Audience::DeletedChannel(old.id),
            event: ServerEvent::new("channel.deleted", Some(old.id), json!({"id": old.id})),
        }],
        (None, None) => Vec::new(),
    })
}

fn member_events(change: &Change) -> ApiResult<Vec<Outgoing>> {
    let member_event = |kind: &str, member: ChannelMember| Outgoing {
        audience: Audience::Channel(member.channel_id),
        event: ServerEvent::new(
            kind,
            Some(member.channel_id),
            json!({"channel_id": member.channel_id, "user_id": member.user_id}),
        ),
    };
    Ok(match change.kind {
        ChangeKind::Insert => change
            .new_as::<ChannelMember>()?
            .map(|m| vec![member_event("member.joined", m)])
            .unwrap_or_default(),
        ChangeKind::Remove => change
            .old_as::<ChannelMember>()?
            .map(|m| vec![member_event("member.left", m)])
            .unwrap_or_default(),
        ChangeKind::Modify => Vec::new(), // read markers and counters
    })
}

/// `<entity>.created|updated|deleted` for a task, column or card, to its channel:
/// created and updated carry the view, deleted the ids.
fn work_events<T, V>(change: &Change, entity: &str) -> ApiResult<Vec<Outgoing>>
where
    T: serde::de::DeserializeOwned + Clone + PartialEq + Into<V>,
    V: Serialize,
    T: WorkEntity,
{
    let old: Option<T> = change.old_as()?;
    let new: Option<T> = change.new_as()?;
    let (kind, item, data) = match (&old, &new) {
        (None, Some(new)) => ("created", new, None),
        (Some(old), Some(new)) if old != new => ("updated", new, None),
        (Some(old), None) => ("deleted", old, Some(old.deleted_data())),
        _ => return Ok(Vec::new()),
    };
    let channel = item.channel_id();
    let data = match data {
        Some(data) => data,
        None => serde_json::to_value(item.clone().into()).unwrap_or(Value::Null),
    };
    Ok(vec![Outgoing {
        audience: Audience::Channel(channel),
        event: ServerEvent::new(&format!("{entity}.{kind}"), Some(channel), data),
    }])
}

/// What realtime needs of a task, column or card.
trait WorkEntity {
    fn channel_id(&self) -> ChannelId;
    /// The data of its `.deleted` event.
    fn deleted_data(&self) -> Value;
}

impl WorkEntity for Task {
    fn channel_id(&self) -> ChannelId {
        self.channel_id
    }
    fn deleted_data(&self) -> Value {
        json!({"id": self.id, "channel_id": self.channel_id})
    }
}

impl WorkEntity for Column {
    fn channel_id(&self) -> ChannelId {
        self.channel_id
    }
    fn deleted_data(&self) -> Value {
        json!({"id": self.id, "channel_id": self.channel_id})
    }
}

impl WorkEntity for Card {
    fn channel_id(&self) -> ChannelId {
        self.channel_id
    }
    fn deleted_data(&self) -> Value {
        json!({"id": self.id, "channel_id": self.channel_id, "column_id": self.column_id})
    }
}

/// `notification.created` to every open connection of its recipient.
fn notification_events(change: &Change) -> ApiResult<Vec<Outgoing>> {
    Ok(change
        .new_as::<Notification>()?
        .map(|notification| {
            let user = notification.user_id;
            let channel = notification.channel_id;
            let data =
                serde_json::to_value(NotificationView::from(notification)).unwrap_or(Value::Null);
            vec![Outgoing {
                audience: Audience::User(user),
                event: ServerEvent::new("notification.created", Some(channel), data),
            }]
        })
        .unwrap_or_default())
}

/// `document.updated` for a revision a REST save or restore wrote (live updates are
/// relayed by the WebSocket function; compactions are not news).
fn document_events(change: &Change) -> ApiResult<Vec<Outgoing>> {
    use crate::documents::{RevisionImage, RevisionReason};
    if change.kind != ChangeKind::Insert {
        return Ok(Vec::new());
    }
    let Some(revision) = change.new_as::<RevisionImage>()? else {
        return Ok(Vec::new());
    };
    if revision.reason == RevisionReason::Compaction {
        return Ok(Vec::new());
    }
    let channel = revision.channel_id;
    Ok(vec![Outgoing {
        audience: Audience::Channel(channel),
        event: ServerEvent::new(
            "document.updated",
            Some(channel),
            json!({
                "channel_id": channel,
                "version": revision.version,
                "updated_at": revision.created_at,
                "updated_by": revision.updated_by,
                "reason": revision.reason,
            }),
        ),
    }])
}

/// The events one table change produces. TTL expiries produce none.
pub fn events_for(change: &Change) -> ApiResult<Vec<Outgoing>> {
    if change.by_ttl {
        return Ok(Vec::new());
    }
    match change.entity() {
        Some(keys::entity::MESSAGE) => message_events(change),
        Some(keys::entity::CHANNEL) => channel_events(change),
        Some(keys::entity::CHANNEL_MEMBER) => member_events(change),
        Some(keys::entity::TASK) => work_events::<Task, TaskView>(change, "task"),
        Some(keys::entity::COLUMN) => work_events::<Column, ColumnView>(change, "column"),
        Some(keys::entity::CARD) => work_events::<Card, CardView>(change, "card"),
        Some(keys::entity::NOTIFICATION) if change.kind == ChangeKind::Insert => {
            notification_events(change)
        }
        Some(keys::entity::DOCUMENT_REVISION) => document_events(change),
        _ => Ok(Vec::new()),
    }
}
