//! Notification storage: one item per notification under its recipient (TTL 90 days), a
//! sparse index of the unread ones, an unread counter moved in the same transaction as
//! every change of a notification's read state, and notification levels on channel
//! memberships (with a sparse index of the members at level `all`).

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channels::ChannelMember;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, MessageId, NotificationId, UserId, WorkspaceId};
use crate::keys::{self, Gsi2Key, Key};
use crate::notifications::{Notification, NotificationLevel};
use crate::table::{
    Item, Page, PageRequest, Store, TransactOutcome, conditional, item_exists, put_new, take_item,
    to_attribute, to_attributes, update_of,
};
use crate::workspaces::WorkspaceMember;

/// How long an expiry marker is kept: longer than any stream record is retried.
const EXPIRY_MARKER_SECONDS: i64 = 2 * 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct NotificationItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    unread: Option<Gsi2Key>,
    #[serde(rename = "type")]
    entity: String,
    expires_at: i64,
    #[serde(flatten)]
    notification: Notification,
}

#[derive(Debug, Serialize)]
struct ExpiryMarkerItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    expires_at: i64,
}

#[derive(Debug, Default, Deserialize)]
struct CounterItem {
    #[serde(default)]
    unread: i64,
}

/// A thread's starter, as the parent message holds it.
#[derive(Debug, Deserialize)]
struct ThreadItem {
    author_id: UserId,
}

/// Someone who replied in a thread, and their first reply.
#[derive(Debug, Deserialize)]
struct ParticipantItem {
    user_id: UserId,
    first_reply: MessageId,
}

/// How delivering a notification ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// It was delivered before (a redelivered stream record).
    Duplicate,
}

/// How marking a notification read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMark {
    Marked,
    AlreadyRead,
    Missing,
}

/// What a user can see of a channel: their workspace membership and channel membership.
#[derive(Debug, Clone, Default)]
pub struct ReaderState {
    pub in_workspace: bool,
    pub member: Option<ChannelMember>,
}

fn counter_add(table: &str, user: UserId, delta: i64) -> ApiResult<TransactWriteItem> {
    let update = update_of(table, &keys::notification_counter(user))?
        .update_expression("SET #type = :type ADD unread :delta")
        .expression_attribute_names("#type", keys::TYPE)
        .expression_attribute_values(":type", to_attribute(&keys::entity::NOTIFICATION_COUNTER)?)
        .expression_attribute_values(":delta", to_attribute(&delta)?)
        .build()
        .map_err(ApiError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

impl Store {
    /// Writes a notification (its id derives from its source event) and counts it unread,
    /// in one transaction; a second delivery of the same event finds it there and changes
    /// nothing.
    pub async fn deliver_notification(
        &self,
        notification: &Notification,
        expires_at: i64,
    ) -> ApiResult<Delivery> {
        const NOTIFICATION: usize = 0;
        let table = self.table();
        let item = NotificationItem {
            key: keys::notification(notification.user_id, notification.id),
            unread: Some(keys::unread_notification(
                notification.user_id,
                notification.id,
            )),
            entity: keys::entity::NOTIFICATION.into(),
            expires_at,
            notification: notification.clone(),
        };
        let outcome = self
            .transact(vec![
                put_new(table, &item)?,
                counter_add(table, notification.user_id, 1)?,
            ])
            .await?;
        match outcome {
            TransactOutcome::Committed => Ok(Delivery::Delivered),
            _ if outcome.failed_at(NOTIFICATION) => Ok(Delivery::Duplicate),
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("notification delivery", &codes))
            }
        }
    }

    /// Marks one notification read and counts it off, in one transaction conditioned on it
    /// being unread, so concurrent reads (and read-all) count each notification once.
    pub async fn mark_notification_read(
        &self,
        user: UserId,
        notification: NotificationId,
    ) -> ApiResult<ReadMark> {
        const NOTIFICATION: usize = 0;
        let table = self.table();
        let key = keys::notification(user, notification);
        let update = update_of(table, &key)?
            .update_expression("SET #read = :true REMOVE #gsi2pk, #gsi2sk")
            .condition_expression(format!("{} AND #read = :false", item_exists()))
            .expression_attribute_names("#read", "read")
            .expression_attribute_names("#gsi2pk", keys::GSI2PK)
            .expression_attribute_names("#gsi2sk", keys::GSI2SK)
            .expression_attribute_values(":true", to_attribute(&true)?)
            .expression_attribute_values(":false", to_attribute(&false)?)
            .build()
            .map_err(ApiError::internal)?;
        let outcome = self
            .transact(vec![
                TransactWriteItem::builder().update(update).build(),
                counter_add(table, user, -1)?,
            ])
            .await?;
        match outcome {
            TransactOutcome::Committed => Ok(ReadMark::Marked),
            _ if outcome.failed_at(NOTIFICATION) => {
                let found: Option<NotificationItem> = self.get(key).await?;
                Ok(if found.is_some() {
                    ReadMark::AlreadyRead
                } else {
                    ReadMark::Missing
                })
            }
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("notification read", &codes))
            }
        }
    }

    /// Up to `limit` of a user's unread notification ids, from the sparse index (which may
    /// lag a moment behind: marking one already read is harmless).
    pub async fn unread_notification_ids(
        &self,
        user: UserId,
        limit: i32,
    ) -> ApiResult<Vec<NotificationId>> {
        let page: Page<NotificationItem> = self
            .query_page(
                &keys::user_unread_notifications(user),
                &PageRequest {
                    limit,
                    cursor: None,
                },
                true,
            )
            .await?;
        Ok(page
            .items
            .into_iter()
            .map(|item| item.notification.id)
            .collect())
    }

    /// The user's unread counter: one GetItem.
    pub async fn unread_notification_count(&self, user: UserId) -> ApiResult<i64> {
        let counter: Option<CounterItem> = self.get(keys::notification_counter(user)).await?;
        Ok(counter.unwrap_or_default().unread)
    }

    /// A page of a user's notifications (all, or the unread ones from the sparse index),
    /// newest first, that `select` keeps.
    pub async fn list_notifications<U, F, Fut>(
        &self,
        user: UserId,
        unread_only: bool,
        page: &PageRequest,
        mut select: F,
    ) -> ApiResult<Page<U>>
    where
        F: FnMut(Vec<Notification>) -> Fut,
        Fut: Future<Output = ApiResult<Vec<Option<U>>>>,
    {
        let partition = if unread_only {
            keys::user_unread_notifications(user)
        } else {
            keys::user_notifications(user)
        };
        self.query_selected(&partition, page, false, |items: Vec<NotificationItem>| {
            select(items.into_iter().map(|item| item.notification).collect())
        })
        .await
    }

    /// Gives back the unread count of a notification the TTL removed while unread, once
    /// (an expiry marker is written in the same transaction, so a redelivered record
    /// changes nothing).
    pub async fn release_expired_notification(
        &self,
        notification: &Notification,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let table = self.table();
        let marker = ExpiryMarkerItem {
            key: keys::expiry_marker(notification.user_id, notification.id),
            entity: keys::entity::EXPIRY_MARKER.into(),
            expires_at: now.timestamp() + EXPIRY_MARKER_SECONDS,
        };
        match self
            .transact(vec![
                put_new(table, &marker)?,
                counter_add(table, notification.user_id, -1)?,
            ])
            .await?
        {
            // A marker already there: given back before.
            TransactOutcome::Committed | TransactOutcome::ConditionFailed(_) => Ok(()),
        }
    }

    /// Sets a member's notification level (and its place in the sparse index of members at
    /// `all`, which DMs do not use: their members are on the channel). `false` if the user
    /// is not a member.
    pub async fn set_notification_level(
        &self,
        channel: ChannelId,
        user: UserId,
        level: NotificationLevel,
        indexed: bool,
    ) -> ApiResult<bool> {
        let index = keys::level_all_member(channel, user);
        let update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::channel_member(channel, user))?))
            .condition_expression(item_exists())
            .expression_attribute_names("#level", "notification_level")
            .expression_attribute_names("#gsi2pk", keys::GSI2PK)
            .expression_attribute_names("#gsi2sk", keys::GSI2SK)
            .expression_attribute_values(":level", to_attribute(&level)?);
        let update = if indexed && level == NotificationLevel::All {
            update
                .update_expression("SET #level = :level, #gsi2pk = :pk, #gsi2sk = :sk")
                .expression_attribute_values(":pk", to_attribute(&index.gsi2pk)?)
                .expression_attribute_values(":sk", to_attribute(&index.gsi2sk)?)
        } else {
            update.update_expression("SET #level = :level REMOVE #gsi2pk, #gsi2sk")
        };
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }

    /// The members of a channel at level `all`, at most `max`.
    pub async fn level_all_members(
        &self,
        channel: ChannelId,
        max: usize,
    ) -> ApiResult<Vec<UserId>> {
        let members: Vec<ChannelMember> = self
            .query_all(&keys::level_all_members(channel), max)
            .await?;
        Ok(members
            .into_iter()
            .map(|member| member.user_id)
            .take(max)
            .collect())
    }

    /// Whether each user can read the channel: their workspace and channel memberships, in
    /// one batch read.
    pub async fn reader_states(
        &self,
        workspace: WorkspaceId,
        channel: ChannelId,
        users: &[UserId],
    ) -> ApiResult<HashMap<UserId, ReaderState>> {
        let keys: Vec<Key> = users
            .iter()
            .flat_map(|user| {
                [
                    keys::workspace_member(workspace, *user),
                    keys::channel_member(channel, *user),
                ]
            })
            .collect();
        let mut items: Vec<Item> = self.batch_get_items(&keys).await?;
        let mut states = HashMap::with_capacity(users.len());
        for user in users {
            let in_workspace: Option<WorkspaceMember> =
                take_item(&mut items, &keys::workspace_member(workspace, *user))?;
            let member: Option<ChannelMember> =
                take_item(&mut items, &keys::channel_member(channel, *user))?;
            states.insert(
                *user,
                ReaderState {
                    in_workspace: in_workspace.is_some(),
                    member,
                },
            );
        }
        Ok(states)
    }

    /// A thread's starter and the people who replied in it before `reply` (at most
    /// `max` of them, earliest first, from at most `read_max` participant items); `None`
    /// if the parent is gone. The parent and the participants are read in parallel.
    pub async fn thread_people(
        &self,
        channel: ChannelId,
        parent: MessageId,
        reply: MessageId,
        max: usize,
        read_max: usize,
    ) -> ApiResult<Option<(UserId, Vec<UserId>)>> {
        let participants = keys::thread_participants(channel, parent);
        let (thread, participants) = tokio::try_join!(
            self.get::<ThreadItem>(keys::message(channel, parent)),
            self.query_all::<ParticipantItem>(&participants, read_max),
        )?;
        let Some(thread) = thread else {
            return Ok(None);
        };
        let mut earlier: Vec<ParticipantItem> = participants
            .into_iter()
            .filter(|p| p.first_reply < reply)
            .collect();
        earlier.sort_by_key(|p| p.first_reply);
        let repliers = earlier.into_iter().take(max).map(|p| p.user_id).collect();
        Ok(Some((thread.author_id, repliers)))
    }
}
