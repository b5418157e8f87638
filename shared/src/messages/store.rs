//! Messages: the send transaction (message, counters, idempotency marker, mentions),
//! listing by channel and thread, edits with history, soft deletes, reactions and pins.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, MessageId, UserId};
use crate::keys::{self, Gsi1Key, Gsi2Key, Key, Partition};
use crate::limits::BucketTake;
use crate::messages::{Message, MessageVersion};
use crate::table::{
    Page, PageRequest, Store, TransactOutcome, built, check_exists, conditional,
    conditional_or_old, item_exists, put_new, to_attribute, to_attributes, update_of,
};

/// Reactions are stored as one string-set attribute per emoji: `reaction:<emoji>`.
const REACTION_PREFIX: &str = "reaction:";
/// How many emoji (string sets with users) a message has: moved in the same write that
/// adds an emoji's first user or removes its last, and the condition that caps them.
const REACTION_KINDS: &str = "reaction_kinds";

/// Who reacted with which emoji.
pub type Reactions = BTreeMap<String, Vec<UserId>>;

/// A message with its reactions, as read from the table.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub message: Message,
    pub reactions: Reactions,
}

#[derive(Serialize, Deserialize)]
struct MessageItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    listing: Gsi1Key,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pin: Option<Gsi2Key>,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    message: Message,
    /// Everything else on the item; the reaction sets are picked out of it.
    #[serde(flatten, default, skip_serializing)]
    other: BTreeMap<String, serde_json::Value>,
}

impl MessageItem {
    fn new(message: &Message) -> Self {
        Self {
            key: keys::message(message.channel_id, message.id),
            listing: keys::message_listing(message.channel_id, message.parent_id, message.id),
            pin: None,
            entity: keys::entity::MESSAGE.into(),
            message: message.clone(),
            other: BTreeMap::new(),
        }
    }

    fn into_stored(self) -> StoredMessage {
        let reactions = self
            .other
            .into_iter()
            .filter_map(|(name, value)| {
                let emoji = name.strip_prefix(REACTION_PREFIX)?.to_owned();
                let users: Vec<UserId> = value
                    .as_array()?
                    .iter()
                    .filter_map(|user| user.as_str()?.parse().ok())
                    .collect();
                Some((emoji, users))
            })
            .collect();
        StoredMessage {
            message: self.message,
            reactions,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct VersionItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    version: MessageVersion,
}

#[derive(Serialize, Deserialize)]
struct ClientMarkerItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    message_id: MessageId,
}

/// Everything one send writes, in one transaction.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message: Message,
    pub client_id: Option<String>,
    /// Channel members whose mention counters go up.
    pub mentioned_members: Vec<UserId>,
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    Sent,
    /// The `client_id` was used before, for this message.
    Duplicate(MessageId),
    /// The thread's parent is gone, deleted, or itself a reply.
    ParentUnavailable,
    /// The sender is no longer a member, or the channel is gone.
    NotAllowed,
    /// The sender is no longer a member of the workspace, or it is gone.
    NotInWorkspace,
    /// The sender's rate-limit bucket is full.
    RateLimited,
}

/// How an edit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOutcome {
    Edited,
    /// Somebody edited or deleted the message since it was read.
    Stale,
}

/// How a pin or unpin ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinChange {
    Done,
    /// The message is gone or deleted.
    MessageUnavailable,
}

/// How a reaction change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionOutcome {
    /// The reaction is as asked (written now, or already so).
    Applied,
    /// The message is gone or deleted.
    MessageUnavailable,
    /// The emoji would be a new kind on a message that has the most kinds it may have.
    TooManyKinds,
}

/// Writes of one reaction change that keep colliding with concurrent ones give up after
/// this many attempts (503); each failed attempt means someone else's change went in.
const REACTION_ATTEMPTS: usize = 8;

/// What a reaction change does to a message as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReactionPlan {
    /// Already as asked.
    Nothing,
    Refuse(ReactionOutcome),
    Write(ReactionWrite),
}

/// One conditional UpdateItem; its condition is what the plan assumed about the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReactionWrite {
    /// Another user of an emoji that has users.
    Join,
    /// The first user of an emoji: a new kind, counted. `others` is how many other kinds
    /// the message had when read (the counter's value for messages from before it).
    NewKind { others: usize },
    /// One of several users leaves.
    Leave,
    /// The last user leaves: one kind fewer.
    LastOut { others: usize },
}

impl ReactionPlan {
    fn new(
        stored: &StoredMessage,
        emoji: &str,
        user_id: UserId,
        present: bool,
        max_kinds: usize,
    ) -> Self {
        if stored.message.deleted {
            return Self::Refuse(ReactionOutcome::MessageUnavailable);
        }
        let users = stored
            .reactions
            .get(emoji)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let others = stored
            .reactions
            .iter()
            .filter(|(kind, users)| kind.as_str() != emoji && !users.is_empty())
            .count();
        let mine = users.contains(&user_id);
        match (present, mine) {
            (true, true) | (false, false) => Self::Nothing,
            (true, false) if !users.is_empty() => Self::Write(ReactionWrite::Join),
            (true, false) if others >= max_kinds => Self::Refuse(ReactionOutcome::TooManyKinds),
            (true, false) => Self::Write(ReactionWrite::NewKind { others }),
            (false, true) if users.len() > 1 => Self::Write(ReactionWrite::Leave),
            (false, true) => Self::Write(ReactionWrite::LastOut { others }),
        }
    }
}

impl ReactionWrite {
    fn request(
        self,
        store: &Store,
        key: &Key,
        emoji: &str,
        user_id: UserId,
        max_kinds: usize,
    ) -> ApiResult<UpdateItemFluentBuilder> {
        let user = user_id.to_string();
        let live = format!("{} AND deleted = :false", item_exists());
        let request = store
            .client()
            .update_item()
            .table_name(store.table())
            .set_key(Some(to_attributes(key)?))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#reaction", format!("{REACTION_PREFIX}{emoji}"))
            .expression_attribute_values(":false", to_attribute(&false)?);
        let one = to_attribute(&1u64)?;
        Ok(match self {
            Self::Join => request
                .update_expression("ADD #reaction :user")
                .condition_expression(format!("{live} AND attribute_exists(#reaction)"))
                .expression_attribute_values(":user", AttributeValue::Ss(vec![user])),
            Self::NewKind { others } => request
                .update_expression(
                    "ADD #reaction :user SET #kinds = if_not_exists(#kinds, :others) + :one",
                )
                .condition_expression(format!(
                    "{live} AND attribute_not_exists(#reaction) \
                     AND (#kinds < :max OR attribute_not_exists(#kinds))"
                ))
                .expression_attribute_names("#kinds", REACTION_KINDS)
                .expression_attribute_values(":user", AttributeValue::Ss(vec![user]))
                .expression_attribute_values(":others", to_attribute(&others)?)
                .expression_attribute_values(":max", to_attribute(&max_kinds)?)
                .expression_attribute_values(":one", one),
            Self::Leave => request
                .update_expression("DELETE #reaction :user")
                .condition_expression(format!(
                    "{live} AND contains(#reaction, :member) AND size(#reaction) > :one"
                ))
                .expression_attribute_values(":user", AttributeValue::Ss(vec![user.clone()]))
                .expression_attribute_values(":member", AttributeValue::S(user))
                .expression_attribute_values(":one", one),
            Self::LastOut { others } => request
                .update_expression(
                    "REMOVE #reaction SET #kinds = if_not_exists(#kinds, :counted) - :one",
                )
                .condition_expression(format!(
                    "{live} AND contains(#reaction, :member) AND size(#reaction) = :one"
                ))
                .expression_attribute_names("#kinds", REACTION_KINDS)
                .expression_attribute_values(":member", AttributeValue::S(user))
                .expression_attribute_values(":counted", to_attribute(&(others + 1))?)
                .expression_attribute_values(":one", one),
        })
    }
}

impl Store {
    /// Sends a message: the message, the idempotency marker, the channel's counters (or the
    /// parent's reply count), the sender's read counter, the mentioned members' mention
    /// counters and the sender's rate-limit take, all in one transaction. Its conditions
    /// are the access check at the moment of the write: the channel exists, the sender
    /// belongs to it, and the workspace and the sender's membership of it exist.
    pub async fn send_message(
        &self,
        new: &NewMessage,
        rate: &BucketTake,
    ) -> ApiResult<SendOutcome> {
        let table = self.table();
        let message = &new.message;
        let mut items = vec![put_new(table, &MessageItem::new(message))?];
        let marker_index = new.client_id.as_ref().map(|client_id| {
            let marker = ClientMarkerItem {
                key: keys::client_marker(message.channel_id, message.author_id, client_id),
                entity: keys::entity::CLIENT_MARKER.into(),
                message_id: message.id,
            };
            put_new(table, &marker).map(|item| {
                items.push(item);
                items.len() - 1
            })
        });
        let marker_index = marker_index.transpose()?;
        let now = to_attribute(&message.created_at)?;
        let one = to_attribute(&1u64)?;
        let parent_index = match message.parent_id {
            None => {
                items.push(built(
                    update_of(table, &keys::channel(message.channel_id))?
                        .update_expression(
                            "ADD message_count :one SET last_message_id = :id, last_message_at = :now",
                        )
                        .condition_expression(item_exists())
                        .expression_attribute_values(":one", one.clone())
                        .expression_attribute_values(":id", to_attribute(&message.id)?)
                        .expression_attribute_values(":now", now.clone()),
                )?);
                // The sender's own message is never unread for them.
                items.push(built(
                    update_of(
                        table,
                        &keys::channel_member(message.channel_id, message.author_id),
                    )?
                    .update_expression("ADD read_count :one")
                    .condition_expression(item_exists())
                    .expression_attribute_values(":one", one.clone()),
                )?);
                None
            }
            Some(parent) => {
                items.push(built(
                    update_of(table, &keys::message(message.channel_id, parent))?
                        .update_expression("ADD reply_count :one SET last_reply_at = :now")
                        .condition_expression(format!(
                            "{} AND deleted = :false AND attribute_type(parent_id, :null)",
                            item_exists()
                        ))
                        .expression_attribute_values(":one", one.clone())
                        .expression_attribute_values(":now", now.clone())
                        .expression_attribute_values(":false", to_attribute(&false)?)
                        .expression_attribute_values(":null", AttributeValue::S("NULL".into())),
                )?);
                let index = items.len() - 1;
                // A thread reply still needs a current member: check it.
                let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(to_attributes(&keys::channel_member(
                        message.channel_id,
                        message.author_id,
                    ))?))
                    .condition_expression(item_exists())
                    .build()
                    .map_err(ApiError::internal)?;
                items.push(TransactWriteItem::builder().condition_check(check).build());
                // Nor does a reply update the channel: check that it still exists.
                items.push(check_exists(table, &keys::channel(message.channel_id))?);
                // The author takes part in the thread from this reply on (the first one
                // stays): whom later replies notify, and only those.
                items.push(built(
                    update_of(
                        table,
                        &keys::thread_participant(message.channel_id, parent, message.author_id),
                    )?
                    .update_expression(
                        "SET #type = :participant, user_id = :author, \
                         first_reply = if_not_exists(first_reply, :id)",
                    )
                    .expression_attribute_names("#type", keys::TYPE)
                    .expression_attribute_values(
                        ":participant",
                        to_attribute(&keys::entity::THREAD_PARTICIPANT)?,
                    )
                    .expression_attribute_values(":author", to_attribute(&message.author_id)?)
                    .expression_attribute_values(":id", to_attribute(&message.id)?),
                )?);
                Some(index)
            }
        };
        let in_workspace_index = items.len();
        items.push(check_exists(
            table,
            &keys::workspace_member(message.workspace_id, message.author_id),
        )?);
        let workspace_index = items.len();
        items.push(check_exists(table, &keys::workspace(message.workspace_id))?);
        let rate_index = items.len();
        items.push(rate.in_transaction(table)?);
        for member in &new.mentioned_members {
            items.push(built(
                update_of(table, &keys::channel_member(message.channel_id, *member))?
                    .update_expression("ADD mention_count :one")
                    .condition_expression(item_exists())
                    .expression_attribute_values(":one", one.clone()),
            )?);
        }
        let outcome = self.transact(items).await?;
        Ok(match outcome {
            TransactOutcome::Committed => SendOutcome::Sent,
            _ if marker_index.is_some_and(|index| outcome.failed_at(index)) => {
                let existing = match &new.client_id {
                    Some(client_id) => {
                        self.get_client_marker(message.channel_id, message.author_id, client_id)
                            .await?
                    }
                    None => None,
                };
                match existing {
                    Some(id) => SendOutcome::Duplicate(id),
                    None => {
                        return Err(ApiError::Unavailable(
                            "the message is being sent; retry".into(),
                        ));
                    }
                }
            }
            _ if outcome.failed_at(in_workspace_index) || outcome.failed_at(workspace_index) => {
                SendOutcome::NotInWorkspace
            }
            _ if parent_index.is_some_and(|index| outcome.failed_at(index)) => {
                SendOutcome::ParentUnavailable
            }
            _ if outcome.failed_at(rate_index) => SendOutcome::RateLimited,
            _ => SendOutcome::NotAllowed,
        })
    }

    async fn get_client_marker(
        &self,
        channel_id: ChannelId,
        user_id: UserId,
        client_id: &str,
    ) -> ApiResult<Option<MessageId>> {
        let marker: Option<ClientMarkerItem> = self
            .get(keys::client_marker(channel_id, user_id, client_id))
            .await?;
        Ok(marker.map(|marker| marker.message_id))
    }

    pub async fn get_message(
        &self,
        channel_id: ChannelId,
        message_id: MessageId,
    ) -> ApiResult<Option<StoredMessage>> {
        let item: Option<MessageItem> = self.get(keys::message(channel_id, message_id)).await?;
        Ok(item.map(MessageItem::into_stored))
    }

    /// A page of a channel's top-level messages below `before` or above `after` (ids, so
    /// times), newest first unless `after` is given (then oldest first).
    pub async fn list_channel_messages(
        &self,
        channel_id: ChannelId,
        before: Option<MessageId>,
        after: Option<MessageId>,
        page: &PageRequest,
    ) -> ApiResult<Page<StoredMessage>> {
        let mut partition = keys::channel_messages(channel_id);
        if let Some(before) = before {
            partition = partition.before(&before.to_string());
        }
        if let Some(after) = after {
            partition = partition.after(&after.to_string());
        }
        self.list_messages(&partition, page, after.is_some()).await
    }

    /// A page of a thread's replies, oldest first.
    pub async fn list_thread_replies(
        &self,
        channel_id: ChannelId,
        parent_id: MessageId,
        page: &PageRequest,
    ) -> ApiResult<Page<StoredMessage>> {
        self.list_messages(&keys::thread_replies(channel_id, parent_id), page, true)
            .await
    }

    /// A page of a channel's pinned messages, in pin order.
    pub async fn list_pinned_messages(
        &self,
        channel_id: ChannelId,
        page: &PageRequest,
    ) -> ApiResult<Page<StoredMessage>> {
        self.list_messages(&keys::channel_pins(channel_id), page, true)
            .await
    }

    /// A page of messages from a listing partition, newest first unless `oldest_first`.
    async fn list_messages(
        &self,
        partition: &Partition,
        page: &PageRequest,
        oldest_first: bool,
    ) -> ApiResult<Page<StoredMessage>> {
        let page: Page<MessageItem> = self.query_page(partition, page, oldest_first).await?;
        Ok(page.map(MessageItem::into_stored))
    }

    /// Replaces the content (keeping the old version), if nobody edited or deleted the
    /// message since `current` was read.
    pub async fn edit_message(
        &self,
        current: &Message,
        content: &str,
        mentions: &[UserId],
        now: DateTime<Utc>,
        version_id: &str,
    ) -> ApiResult<EditOutcome> {
        let table = self.table();
        let edit = update_of(table, &keys::message(current.channel_id, current.id))?
            .update_expression(
                "SET content = :content, mentions = :mentions, edited_at = :now ADD version :one",
            )
            .condition_expression(format!(
                "{} AND version = :version AND deleted = :false",
                item_exists()
            ))
            .expression_attribute_values(":content", to_attribute(&content)?)
            .expression_attribute_values(":mentions", to_attribute(&mentions)?)
            .expression_attribute_values(":now", to_attribute(&now)?)
            .expression_attribute_values(":one", to_attribute(&1u64)?)
            .expression_attribute_values(":version", to_attribute(&current.version)?)
            .expression_attribute_values(":false", to_attribute(&false)?);
        let version = VersionItem {
            key: keys::message_version(current.channel_id, current.id, version_id),
            entity: keys::entity::MESSAGE_VERSION.into(),
            version: MessageVersion {
                message_id: current.id,
                content: current.content.clone(),
                written_at: current.edited_at.unwrap_or(current.created_at),
                replaced_at: now,
            },
        };
        let outcome = self
            .transact(vec![built(edit)?, put_new(table, &version)?])
            .await?;
        Ok(match outcome {
            TransactOutcome::Committed => EditOutcome::Edited,
            TransactOutcome::ConditionFailed(_) => EditOutcome::Stale,
        })
    }

    /// A page of a message's earlier versions, oldest first.
    pub async fn list_message_versions(
        &self,
        channel_id: ChannelId,
        message_id: MessageId,
        page: &PageRequest,
    ) -> ApiResult<Page<MessageVersion>> {
        let partition = keys::message_versions(channel_id, message_id);
        let page: Page<VersionItem> = self.query_page(&partition, page, true).await?;
        Ok(page.map(|item| item.version))
    }

    /// Soft-deletes: empties the content, drops mentions and the pin, keeps the item (so
    /// threads and counts stay whole), then removes the edit history.
    pub async fn delete_message(&self, message: &Message, actor: UserId) -> ApiResult<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::message(
                message.channel_id,
                message.id,
            ))?))
            .update_expression(
                "SET deleted = :true, deleted_by = :actor, content = :empty, mentions = :none, \
                 pinned = :false ADD version :one REMOVE #gsi2pk, #gsi2sk",
            )
            .expression_attribute_names("#gsi2pk", keys::GSI2PK)
            .expression_attribute_names("#gsi2sk", keys::GSI2SK)
            .condition_expression(item_exists())
            .expression_attribute_values(":true", to_attribute(&true)?)
            .expression_attribute_values(":false", to_attribute(&false)?)
            .expression_attribute_values(":empty", to_attribute(&"")?)
            .expression_attribute_values(":none", to_attribute(&Vec::<UserId>::new())?)
            .expression_attribute_values(":one", to_attribute(&1u64)?)
            .expression_attribute_values(":actor", to_attribute(&actor)?)
            .send()
            .await;
        if conditional("UpdateItem", result)?.is_none() {
            return Ok(());
        }
        let versions: Vec<VersionItem> = self
            .query_all(
                &keys::message_versions(message.channel_id, message.id),
                usize::MAX,
            )
            .await?;
        let keys: Vec<Key> = versions.into_iter().map(|item| item.key).collect();
        self.delete_keys(&keys).await
    }

    /// Adds or removes one user's reaction; idempotent (a string set holds each user once).
    /// The message's `reaction_kinds` counter moves in the same UpdateItem that adds a new
    /// emoji's first user (conditioned on `reaction_kinds < max_kinds`) or removes its last,
    /// so the limit holds under any concurrency. `current` is the message as the caller
    /// read it; a write whose condition fails because the message changed meanwhile is
    /// planned again from the item as it then was.
    pub async fn set_reaction(
        &self,
        current: &StoredMessage,
        emoji: &str,
        user_id: UserId,
        present: bool,
        max_kinds: usize,
    ) -> ApiResult<ReactionOutcome> {
        let key = keys::message(current.message.channel_id, current.message.id);
        let mut state = Some(current.clone());
        for _ in 0..REACTION_ATTEMPTS {
            let plan = match &state {
                None => return Ok(ReactionOutcome::MessageUnavailable),
                Some(stored) => ReactionPlan::new(stored, emoji, user_id, present, max_kinds),
            };
            let request = match plan {
                ReactionPlan::Nothing => return Ok(ReactionOutcome::Applied),
                ReactionPlan::Refuse(outcome) => return Ok(outcome),
                ReactionPlan::Write(write) => {
                    write.request(self, &key, emoji, user_id, max_kinds)?
                }
            };
            let old = match conditional_or_old("UpdateItem", request.send().await)? {
                Ok(_) => return Ok(ReactionOutcome::Applied),
                Err(old) => old,
            };
            // The message changed since it was read: plan again from the item as it was
            // when the condition failed (or, if DynamoDB did not return it, as it is now).
            state = match old {
                Some(item) => Some(
                    serde_dynamo::from_item::<_, MessageItem>(item)
                        .map(MessageItem::into_stored)
                        .map_err(|e| {
                            ApiError::internal(anyhow::anyhow!("reading a message: {e}"))
                        })?,
                ),
                None => self
                    .get::<MessageItem>(key.clone())
                    .await?
                    .map(MessageItem::into_stored),
            };
        }
        Err(ApiError::Unavailable(
            "the message's reactions are changing; retry".into(),
        ))
    }

    /// Pins (indexing the message under the channel's pins) or unpins. Idempotent.
    pub async fn set_pinned(
        &self,
        message: &Message,
        pinned: bool,
        pin_id: &str,
    ) -> ApiResult<PinChange> {
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::message(
                message.channel_id,
                message.id,
            ))?))
            .condition_expression(format!("{} AND deleted = :false", item_exists()))
            .expression_attribute_values(":false", to_attribute(&false)?)
            .return_values(ReturnValue::None);
        if pinned {
            let index = keys::pinned_message(message.channel_id, pin_id);
            // Keep the first pin's position when pinned twice.
            request = request
                .update_expression(
                    "SET pinned = :true, #gsi2pk = :pins, #gsi2sk = if_not_exists(#gsi2sk, :pin_id)",
                )
                .expression_attribute_values(":true", to_attribute(&true)?)
                .expression_attribute_values(":pins", to_attribute(&index.gsi2pk)?)
                .expression_attribute_values(":pin_id", to_attribute(&index.gsi2sk)?);
        } else {
            request = request.update_expression("SET pinned = :false REMOVE #gsi2pk, #gsi2sk");
        }
        request = request
            .expression_attribute_names("#gsi2pk", keys::GSI2PK)
            .expression_attribute_names("#gsi2sk", keys::GSI2SK);
        Ok(match conditional("UpdateItem", request.send().await)? {
            Some(_) => PinChange::Done,
            None => PinChange::MessageUnavailable,
        })
    }
}

/// Decodes a message from a stream image.
pub fn message_from_image(image: serde_dynamo::Item) -> ApiResult<StoredMessage> {
    serde_dynamo::from_item::<_, MessageItem>(image)
        .map(MessageItem::into_stored)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("reading a message image: {e}")))
}

impl Store {
    /// Messages by (channel, id), in the order asked; missing ones are left out.
    pub async fn get_messages(
        &self,
        ids: &[(ChannelId, MessageId)],
    ) -> ApiResult<Vec<StoredMessage>> {
        let keys: Vec<Key> = ids
            .iter()
            .map(|(cid, mid)| keys::message(*cid, *mid))
            .collect();
        let items: Vec<MessageItem> = self.batch_get(&keys).await?;
        let mut found: Vec<StoredMessage> =
            items.into_iter().map(MessageItem::into_stored).collect();
        found.sort_by_key(|stored| {
            ids.iter()
                .position(|(_, mid)| *mid == stored.message.id)
                .unwrap_or(usize::MAX)
        });
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::WorkspaceId;

    /// A top-level message of its own channel and workspace.
    fn message(pinned: bool, deleted: bool) -> Message {
        Message {
            id: MessageId::generate(),
            channel_id: ChannelId::generate(),
            workspace_id: WorkspaceId::generate(),
            author_id: UserId::generate(),
            content: "hi".into(),
            parent_id: None,
            reply_count: 0,
            last_reply_at: None,
            mentions: Vec::new(),
            pinned,
            edited_at: None,
            deleted,
            created_at: crate::clock::now(),
            version: 0,
            attachments: Vec::new(),
        }
    }

    fn stored(deleted: bool, reactions: &[(&str, &[UserId])]) -> StoredMessage {
        StoredMessage {
            message: message(false, deleted),
            reactions: reactions
                .iter()
                .map(|(emoji, users)| ((*emoji).to_owned(), users.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn reaction_plans_count_kinds_only_when_an_emoji_gains_or_loses_its_last_user() {
        let (me, you) = (UserId::generate(), UserId::generate());
        let plan = |stored: &StoredMessage, emoji, present| {
            ReactionPlan::new(stored, emoji, me, present, 2)
        };
        let empty = stored(false, &[]);
        assert_eq!(
            plan(&empty, "a", true),
            ReactionPlan::Write(ReactionWrite::NewKind { others: 0 })
        );
        assert_eq!(plan(&empty, "a", false), ReactionPlan::Nothing);

        let theirs = stored(false, &[("a", &[you])]);
        assert_eq!(
            plan(&theirs, "a", true),
            ReactionPlan::Write(ReactionWrite::Join)
        );
        assert_eq!(
            plan(&theirs, "b", true),
            ReactionPlan::Write(ReactionWrite::NewKind { others: 1 })
        );

        let ours = stored(false, &[("a", &[you, me]), ("b", &[me])]);
        assert_eq!(plan(&ours, "a", true), ReactionPlan::Nothing);
        assert_eq!(
            plan(&ours, "a", false),
            ReactionPlan::Write(ReactionWrite::Leave)
        );
        assert_eq!(
            plan(&ours, "b", false),
            ReactionPlan::Write(ReactionWrite::LastOut { others: 1 })
        );
        // Full: a new kind is refused, joining and leaving are not.
        assert_eq!(
            plan(&ours, "c", true),
            ReactionPlan::Refuse(ReactionOutcome::TooManyKinds)
        );
        let full_of_theirs = stored(false, &[("a", &[you]), ("b", &[you])]);
        assert_eq!(
            plan(&full_of_theirs, "b", true),
            ReactionPlan::Write(ReactionWrite::Join)
        );

        let deleted = stored(true, &[("a", &[me])]);
        for present in [true, false] {
            assert_eq!(
                plan(&deleted, "a", present),
                ReactionPlan::Refuse(ReactionOutcome::MessageUnavailable)
            );
        }
    }

    #[test]
    fn a_pinned_message_item_reads_back_with_its_own_id() {
        let message = message(true, false);
        let mut item = MessageItem::new(&message);
        item.pin = Some(keys::pinned_message(message.channel_id, "PINID"));
        let mut attributes = to_attributes(&item).unwrap();
        attributes.insert(
            format!("{REACTION_PREFIX}thumbsup"),
            AttributeValue::Ss(vec![message.author_id.to_string()]),
        );
        let stored = message_from_image(serde_dynamo::Item::from(attributes)).unwrap();
        assert_eq!(stored.message, message);
        assert_eq!(stored.reactions["thumbsup"], vec![message.author_id]);
    }
}
