//! WebSocket connections, channel subscriptions and presence. Connections and
//! subscriptions carry a TTL (API Gateway closes sockets after 2 h and `$disconnect` is
//! best effort); presence keeps the set of a user's live connection ids.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::ids::{ChannelId, UserId};
use crate::keys::{self, Gsi1Key, Key};
use crate::table::{
    Page, PageRequest, Store, conditional, dynamo_error, to_attribute, to_attributes,
};

/// An open WebSocket connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub connection_id: String,
    pub user_id: UserId,
    pub connected_at: DateTime<Utc>,
    /// Epoch seconds; the table's TTL attribute.
    pub expires_at: i64,
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
    pub user_id: UserId,
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct SubscriptionItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    by_connection: Gsi1Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    subscription: Subscription,
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

    /// Subscribes a connection to channels (idempotent; refreshes the TTL).
    pub async fn put_subscriptions(&self, subscriptions: &[Subscription]) -> ApiResult<()> {
        let items: Vec<SubscriptionItem> = subscriptions
            .iter()
            .map(|subscription| {
                let conn = subscription.connection_id.as_str();
                SubscriptionItem {
                    key: keys::subscription(subscription.channel_id, conn),
                    by_connection: keys::subscription_by_connection(conn, subscription.channel_id),
                    entity: keys::entity::SUBSCRIPTION.into(),
                    subscription: subscription.clone(),
                }
            })
            .collect();
        self.put_items(&items).await
    }

    pub async fn delete_subscriptions(
        &self,
        connection_id: &str,
        channel_ids: &[ChannelId],
    ) -> ApiResult<()> {
        let keys: Vec<Key> = channel_ids
            .iter()
            .map(|cid| keys::subscription(*cid, connection_id))
            .collect();
        self.delete_keys(&keys).await
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

    /// A page of the connections subscribed to a channel (a broadcast's audience).
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
