//! WebSocket connections, channel subscriptions and presence. Connections and
//! subscriptions carry a TTL (API Gateway closes sockets after 2 h and `$disconnect` is
//! best effort); presence keeps the set of a user's live connection ids. A connection item
//! also keeps the set of channels it is subscribed to (`channels`, changed in the same
//! transaction as the subscription items, which bounds it) and the times of its last relayed
//! typing and presence frames (the throttles).

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::channels::Channel;
use crate::channels::store::ChannelItem;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::keys::{self, Gsi1Key, Gsi2Key, Key};
use crate::table::{
    Item, Page, PageRequest, Store, TransactOutcome, conditional, dynamo_error, item_exists,
    to_attribute, to_attributes,
};

/// The connection item's set of subscribed channel ids.
const CHANNELS: &str = "channels";
/// Connections whose channel sets are updated at once when subscriptions end.
const SET_UPDATES_IN_FLIGHT: usize = 16;

/// An open WebSocket connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub connection_id: String,
    pub user_id: UserId,
    pub connected_at: DateTime<Utc>,
    /// Epoch seconds; the table's TTL attribute.
    pub expires_at: i64,
    /// The channels it is subscribed to, as read. Written only by the subscription
    /// methods (a string set in the item), never by `put_connection`.
    #[serde(default, skip_serializing)]
    pub channels: Vec<ChannelId>,
}

#[derive(Serialize, Deserialize)]
struct ConnectionItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    by_user: Gsi1Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    connection: Connection,
}

/// A connection's subscription to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub connection_id: String,
    pub channel_id: ChannelId,
    /// The channel's workspace (absent on subscriptions written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<WorkspaceId>,
    pub user_id: UserId,
    pub expires_at: i64,
}

/// What a broadcast reads of a subscription: where to post and whose access decides it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Subscriber {
    pub connection_id: String,
    pub user_id: UserId,
    /// The channel's workspace (absent on subscriptions written before it was kept).
    #[serde(default)]
    pub workspace_id: Option<WorkspaceId>,
}

impl Subscriber {
    /// The subscription item's attributes a [`Subscriber`] is read from (a third of the
    /// item: its keys and index keys stay behind).
    const ATTRIBUTES: [&str; 3] = ["connection_id", "user_id", "workspace_id"];
}

#[derive(Serialize, Deserialize)]
struct SubscriptionItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    by_connection: Gsi1Key,
    /// Indexes the subscription under its user, workspace and channel.
    #[serde(flatten)]
    by_user: Option<Gsi2Key>,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    subscription: Subscription,
}

impl SubscriptionItem {
    fn new(connection: &Connection, workspace_id: WorkspaceId, channel_id: ChannelId) -> Self {
        let conn = connection.connection_id.as_str();
        Self {
            key: keys::subscription(channel_id, conn),
            by_connection: keys::subscription_by_connection(conn, channel_id),
            by_user: Some(keys::subscription_by_user(
                connection.user_id,
                workspace_id,
                channel_id,
                conn,
            )),
            entity: keys::entity::SUBSCRIPTION.into(),
            subscription: Subscription {
                connection_id: connection.connection_id.clone(),
                channel_id,
                workspace_id: Some(workspace_id),
                user_id: connection.user_id,
                expires_at: connection.expires_at,
            },
        }
    }
}

/// A per-connection rate limit on relayed frames; each keeps the time of the last frame
/// it let through on the connection item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Typing,
    Presence,
}

impl Throttle {
    fn attribute(self) -> &'static str {
        match self {
            Self::Typing => "typing_at",
            Self::Presence => "presence_at",
        }
    }
}

/// Whether a throttled frame may go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleVerdict {
    Allowed,
    /// An earlier frame went through within the interval (or the connection is gone).
    Throttled,
}

/// How a subscribe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeOutcome {
    Subscribed,
    /// The connection is gone, would pass the cap, or its set changed meanwhile: re-read
    /// the connection and decide.
    Refused,
}

/// The connection's channel set comes first in the (un)subscribe transactions.
const CONNECTION_SET: usize = 0;

/// Who among some subscribers of a channel may still receive its events.
#[derive(Debug, Clone, Default)]
pub struct AudienceCheck {
    /// The channel record (`None`: deleted).
    pub channel: Option<Channel>,
    /// The workspace record exists.
    pub workspace_exists: bool,
    pub workspace_members: HashSet<UserId>,
    /// Channel members among the users (read for channels read by members only).
    pub channel_members: HashSet<UserId>,
}

impl AudienceCheck {
    pub fn admits(&self, user_id: UserId) -> bool {
        let Some(channel) = &self.channel else {
            return false;
        };
        self.workspace_exists
            && self.workspace_members.contains(&user_id)
            && (!channel.members_only() || self.channel_members.contains(&user_id))
    }
}

/// The part of a workspace member or channel member item an audience check reads.
#[derive(Deserialize)]
struct AccessProbe {
    #[serde(default)]
    user_id: Option<UserId>,
}

fn channel_id_set(channel_ids: &[ChannelId]) -> AttributeValue {
    AttributeValue::Ss(channel_ids.iter().map(ToString::to_string).collect())
}

/// A user's presence as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: UserId,
    /// `online`, `away` or `dnd` while connected.
    #[serde(default)]
    pub status: Option<String>,
    /// The live connection ids (a string set).
    #[serde(default)]
    pub connections: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct PresenceItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    presence: Presence,
}

fn connection_set(connection_id: &str) -> AttributeValue {
    AttributeValue::Ss(vec![connection_id.to_owned()])
}

impl Store {
    /// Records a connection and adds it to the user's presence.
    pub async fn put_connection(&self, connection: &Connection) -> ApiResult<()> {
        let cid = connection.connection_id.as_str();
        let item = ConnectionItem {
            key: keys::connection(cid),
            by_user: keys::connection_by_user(connection.user_id, cid),
            entity: keys::entity::CONNECTION.into(),
            connection: connection.clone(),
        };
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_attributes(&item)?))
            .send();
        let presence = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::presence(connection.user_id))?))
            .update_expression(
                "ADD connections :connection SET #type = :type, user_id = :user, #status = if_not_exists(#status, :online)",
            )
            .expression_attribute_names("#type", keys::TYPE)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":connection", connection_set(cid))
            .expression_attribute_values(":type", to_attribute(&keys::entity::PRESENCE)?)
            .expression_attribute_values(":user", to_attribute(&connection.user_id)?)
            .expression_attribute_values(":online", to_attribute(&"online")?)
            .send();
        let (put, presence) = tokio::join!(put, presence);
        put.map_err(|e| dynamo_error("PutItem", e))?;
        presence.map_err(|e| dynamo_error("UpdateItem", e))?;
        Ok(())
    }

    /// A connection, with its channel set (strongly consistent).
    pub async fn get_connection(&self, connection_id: &str) -> ApiResult<Option<Connection>> {
        let item: Option<ConnectionItem> = self.get(keys::connection(connection_id)).await?;
        Ok(item.map(|item| item.connection))
    }

    /// Removes a connection, its subscriptions and its place in the user's presence.
    /// Idempotent: a connection already gone is fine.
    pub async fn remove_connection(&self, connection_id: &str, user_id: UserId) -> ApiResult<()> {
        let subscriptions: Vec<SubscriptionItem> = self
            .query_all(&keys::connection_subscriptions(connection_id), usize::MAX)
            .await?;
        let mut doomed: Vec<Key> = subscriptions.into_iter().map(|item| item.key).collect();
        doomed.push(keys::connection(connection_id));
        self.delete_keys(&doomed).await?;
        // Its WebSocket slot too, so the per-user cap counts live sockets only.
        self.release_socket_slot(user_id, connection_id).await?;
        self.forget_presence(connection_id, user_id).await
    }

    /// Drops a connection id from its user's presence (after `$disconnect` or a TTL expiry).
    pub async fn forget_presence(&self, connection_id: &str, user_id: UserId) -> ApiResult<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::presence(user_id))?))
            .update_expression("DELETE connections :connection")
            .condition_expression(crate::table::item_exists())
            .expression_attribute_values(":connection", connection_set(connection_id))
            .send()
            .await;
        conditional("UpdateItem", result).map(|_| ())
    }

    /// Sets the status a user shows while connected.
    pub async fn set_presence_status(&self, user_id: UserId, status: &str) -> ApiResult<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::presence(user_id))?))
            .update_expression("SET #status = :status")
            .condition_expression(crate::table::item_exists())
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", to_attribute(&status)?)
            .return_values(ReturnValue::None)
            .send()
            .await;
        conditional("UpdateItem", result).map(|_| ())
    }

    /// The presence of several users (those never connected are left out).
    pub async fn get_presences(&self, user_ids: &[UserId]) -> ApiResult<Vec<Presence>> {
        let keys: Vec<Key> = user_ids.iter().map(|id| keys::presence(*id)).collect();
        let items: Vec<PresenceItem> = self.batch_get(&keys).await?;
        Ok(items.into_iter().map(|item| item.presence).collect())
    }

    /// A user's open connections.
    pub async fn list_user_connections(&self, user_id: UserId) -> ApiResult<Vec<Connection>> {
        let items: Vec<ConnectionItem> = self
            .query_all(&keys::user_connections(user_id), 1000)
            .await?;
        Ok(items.into_iter().map(|item| item.connection).collect())
    }

    /// Subscribes a connection to channels (each with its workspace), idempotently
    /// (refreshing the TTL): the subscription items and the connection's channel set change
    /// in one transaction whose condition keeps the set at most `max` long. The channels
    /// not in `connection.channels` (the set as the caller read it) count as new, and those
    /// that were in it must still be there, so the cap holds under any concurrency.
    pub async fn subscribe(
        &self,
        connection: &Connection,
        channels: &[(WorkspaceId, ChannelId)],
        max: usize,
    ) -> ApiResult<SubscribeOutcome> {
        if channels.is_empty() {
            return Ok(SubscribeOutcome::Subscribed);
        }
        let known: HashSet<ChannelId> = connection.channels.iter().copied().collect();
        let requested: Vec<ChannelId> = channels.iter().map(|(_, cid)| *cid).collect();
        let already: Vec<ChannelId> = requested
            .iter()
            .filter(|cid| known.contains(cid))
            .copied()
            .collect();
        let fresh = requested.len() - already.len();
        let Some(room) = max.checked_sub(fresh) else {
            return Ok(SubscribeOutcome::Refused);
        };
        let mut condition = format!(
            "{} AND (attribute_not_exists(#channels) OR size(#channels) <= :room)",
            item_exists()
        );
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::connection(
                &connection.connection_id,
            ))?))
            .update_expression("ADD #channels :channels")
            .expression_attribute_names("#channels", CHANNELS)
            .expression_attribute_values(":channels", channel_id_set(&requested))
            .expression_attribute_values(":room", to_attribute(&room)?);
        for (index, cid) in already.iter().enumerate() {
            condition.push_str(&format!(" AND contains(#channels, :had{index})"));
            update = update.expression_attribute_values(format!(":had{index}"), to_attribute(cid)?);
        }
        let update = update
            .condition_expression(condition)
            .build()
            .map_err(ApiError::internal)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        for (workspace_id, channel_id) in channels {
            let item = SubscriptionItem::new(connection, *workspace_id, *channel_id);
            let put = aws_sdk_dynamodb::types::Put::builder()
                .table_name(self.table())
                .set_item(Some(to_attributes(&item)?))
                .build()
                .map_err(ApiError::internal)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        match self.transact(items).await? {
            TransactOutcome::Committed => Ok(SubscribeOutcome::Subscribed),
            outcome if outcome.failed_at(CONNECTION_SET) => Ok(SubscribeOutcome::Refused),
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("subscribe", &codes))
            }
        }
    }

    /// Unsubscribes a connection from channels: the subscription items and the channels'
    /// places in the connection's set go in one transaction. Idempotent; a connection that
    /// is gone (its subscriptions went with it) is fine.
    pub async fn unsubscribe(
        &self,
        connection_id: &str,
        channel_ids: &[ChannelId],
    ) -> ApiResult<()> {
        let unique: Vec<ChannelId> = channel_ids
            .iter()
            .copied()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if unique.is_empty() {
            return Ok(());
        }
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::connection(connection_id))?))
            .update_expression("DELETE #channels :channels")
            .condition_expression(item_exists())
            .expression_attribute_names("#channels", CHANNELS)
            .expression_attribute_values(":channels", channel_id_set(&unique))
            .build()
            .map_err(ApiError::internal)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        for channel_id in &unique {
            let delete = Delete::builder()
                .table_name(self.table())
                .set_key(Some(to_attributes(&keys::subscription(
                    *channel_id,
                    connection_id,
                ))?))
                .build()
                .map_err(ApiError::internal)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        match self.transact(items).await? {
            TransactOutcome::Committed => Ok(()),
            outcome if outcome.failed_at(CONNECTION_SET) => Ok(()),
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("unsubscribe", &codes))
            }
        }
    }

    /// Ends subscriptions, each a (connection, channel) pair: deletes their items and takes
    /// the channels out of their connections' sets. Idempotent. Not one transaction (a
    /// user's subscriptions may be more than one holds): each part can be repeated.
    pub async fn drop_subscriptions(&self, subscriptions: &[(String, ChannelId)]) -> ApiResult<()> {
        if subscriptions.is_empty() {
            return Ok(());
        }
        let doomed: Vec<Key> = subscriptions
            .iter()
            .map(|(connection, channel)| keys::subscription(*channel, connection))
            .collect();
        let mut by_connection: HashMap<String, Vec<ChannelId>> = HashMap::new();
        for (connection, channel) in subscriptions {
            let channels = by_connection.entry(connection.clone()).or_default();
            if !channels.contains(channel) {
                channels.push(*channel);
            }
        }
        let sets = futures::stream::iter(by_connection)
            .map(|(connection, channels)| async move {
                let result = self
                    .client()
                    .update_item()
                    .table_name(self.table())
                    .set_key(Some(to_attributes(&keys::connection(&connection))?))
                    .update_expression("DELETE #channels :channels")
                    .condition_expression(item_exists())
                    .expression_attribute_names("#channels", CHANNELS)
                    .expression_attribute_values(":channels", channel_id_set(&channels))
                    .send()
                    .await;
                conditional("UpdateItem", result).map(|_| ())
            })
            .buffer_unordered(SET_UPDATES_IN_FLIGHT)
            .try_collect::<Vec<()>>();
        tokio::try_join!(self.delete_keys(&doomed), sets)?;
        Ok(())
    }

    /// Ends a user's subscriptions, on every connection, to one channel of a workspace or
    /// (with `None`) to every channel of it: for a leave or a removal, before it answers.
    pub async fn end_user_subscriptions(
        &self,
        user_id: UserId,
        workspace_id: WorkspaceId,
        channel_id: Option<ChannelId>,
    ) -> ApiResult<()> {
        let partition = match channel_id {
            Some(channel_id) => keys::user_channel_subscriptions(user_id, workspace_id, channel_id),
            None => keys::user_workspace_subscriptions(user_id, workspace_id),
        };
        let items: Vec<SubscriptionItem> = self.query_all(&partition, usize::MAX).await?;
        let doomed: Vec<(String, ChannelId)> = items
            .into_iter()
            .map(|item| {
                (
                    item.subscription.connection_id,
                    item.subscription.channel_id,
                )
            })
            .collect();
        self.drop_subscriptions(&doomed).await
    }

    /// Lets one frame of a kind through per `interval_ms` on a connection: stamps the
    /// connection with `now_ms` unless an earlier frame was stamped within the interval.
    pub async fn throttle_connection(
        &self,
        connection_id: &str,
        throttle: Throttle,
        now_ms: i64,
        interval_ms: i64,
    ) -> ApiResult<ThrottleVerdict> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::connection(connection_id))?))
            .update_expression("SET #at = :now")
            .condition_expression(format!(
                "{} AND (attribute_not_exists(#at) OR #at <= :cutoff)",
                item_exists()
            ))
            .expression_attribute_names("#at", throttle.attribute())
            .expression_attribute_values(":now", to_attribute(&now_ms)?)
            .expression_attribute_values(":cutoff", to_attribute(&(now_ms - interval_ms))?)
            .send()
            .await;
        Ok(match conditional("UpdateItem", result)? {
            Some(_) => ThrottleVerdict::Allowed,
            None => ThrottleVerdict::Throttled,
        })
    }

    /// Which of `users` may receive the events of a channel of `workspace_id`, in one
    /// batch read: the workspace record, the users' workspace memberships and, for a
    /// channel read by members only (private channels and DMs), their channel memberships.
    /// Without `known`, the channel record is read in the same batch, and so are the channel
    /// memberships (whether they matter is only known from the record).
    pub async fn check_audience(
        &self,
        channel_id: ChannelId,
        workspace_id: WorkspaceId,
        users: &[UserId],
        known: Option<&Channel>,
    ) -> ApiResult<AudienceCheck> {
        let members_only = known.is_none_or(Channel::members_only);
        let mut wanted = vec![keys::workspace(workspace_id)];
        if known.is_none() {
            wanted.push(keys::channel(channel_id));
        }
        for user in users {
            wanted.push(keys::workspace_member(workspace_id, *user));
            if members_only {
                wanted.push(keys::channel_member(channel_id, *user));
            }
        }
        let items: Vec<Item> = self.batch_get_items(&wanted).await?;
        let mut check = AudienceCheck {
            channel: known.cloned(),
            ..AudienceCheck::default()
        };
        for item in items {
            let entity = item
                .get(keys::TYPE)
                .and_then(|value| value.as_s().ok())
                .cloned()
                .unwrap_or_default();
            if entity == keys::entity::CHANNEL {
                let channel: ChannelItem = crate::table::from_attributes(item)?;
                check.channel = Some(channel.channel);
                continue;
            }
            let probe: AccessProbe = crate::table::from_attributes(item)?;
            match (entity.as_str(), probe.user_id) {
                (keys::entity::WORKSPACE, _) => check.workspace_exists = true,
                (keys::entity::WORKSPACE_MEMBER, Some(user)) => {
                    check.workspace_members.insert(user);
                }
                (keys::entity::CHANNEL_MEMBER, Some(user)) => {
                    check.channel_members.insert(user);
                }
                _ => {}
            }
        }
        Ok(check)
    }

    /// The channels a connection is subscribed to.
    pub async fn list_connection_subscriptions(
        &self,
        connection_id: &str,
    ) -> ApiResult<Vec<Subscription>> {
        let items: Vec<SubscriptionItem> = self
            .query_all(&keys::connection_subscriptions(connection_id), usize::MAX)
            .await?;
        Ok(items.into_iter().map(|item| item.subscription).collect())
    }

    /// A page of the connections subscribed to a channel, as a broadcast reads them: only
    /// the [`Subscriber`] of each (a fan-out reads a thousand of them before it posts).
    pub async fn list_channel_audience(
        &self,
        channel_id: ChannelId,
        page: &PageRequest,
    ) -> ApiResult<Page<Subscriber>> {
        self.query_page_of(
            &keys::channel_subscribers(channel_id),
            page,
            true,
            &Subscriber::ATTRIBUTES,
        )
        .await
    }

    /// A page of the connections subscribed to a channel, whole.
    pub async fn list_channel_subscribers(
        &self,
        channel_id: ChannelId,
        page: &PageRequest,
    ) -> ApiResult<Page<Subscription>> {
        let page: Page<SubscriptionItem> = self
            .query_page(&keys::channel_subscribers(channel_id), page, true)
            .await?;
        Ok(page.map(|item| item.subscription))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subscription item cut down to [`Subscriber::ATTRIBUTES`], as the broadcast's
    /// projected Query returns it, still reads as the subscription's subscriber.
    #[test]
    fn a_subscriber_reads_from_its_projected_attributes() {
        let connection = Connection {
            connection_id: "L0SM9cOFvHcCIhw=".into(),
            user_id: UserId::generate(),
            connected_at: Utc::now(),
            expires_at: 1_790_000_000,
            channels: Vec::new(),
        };
        let workspace_id = WorkspaceId::generate();
        let item = SubscriptionItem::new(&connection, workspace_id, ChannelId::generate());
        let mut whole: Item = to_attributes(&item).expect("an item");
        assert!(whole.len() > Subscriber::ATTRIBUTES.len() * 2, "{whole:?}");
        whole.retain(|name, _| Subscriber::ATTRIBUTES.contains(&name.as_str()));
        assert_eq!(
            whole.len(),
            Subscriber::ATTRIBUTES.len(),
            "every attribute named exists"
        );
        let subscriber: Subscriber = serde_dynamo::from_item(whole).expect("a subscriber");
        assert_eq!(
            subscriber,
            Subscriber {
                connection_id: connection.connection_id,
                user_id: connection.user_id,
                workspace_id: Some(workspace_id),
            }
        );
    }
}
