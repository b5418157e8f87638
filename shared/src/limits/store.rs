//! Rate-limit buckets (one conditional `ADD` per call, in a fixed window, removed by TTL)
//! and a user's WebSocket slots (a string set of `expiry#connection id`, pruned on each
//! claim).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem};
use serde::Deserialize;

use crate::error::ApiResult;
use crate::ids::UserId;
use crate::keys;
use crate::table::{Store, built, conditional, to_attribute, to_attributes, update_of};

/// How a bucket take ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    Taken,
    /// The bucket is full for this window.
    Full,
}

/// How a socket slot claim ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotClaim {
    Claimed,
    /// The user holds the maximum of live sockets.
    Full,
    /// The slots changed since they were read: read again.
    Raced,
}

/// One call to count in a rate-limit bucket: the bucket (a scope, a subject and the start
/// of the current window), when it may be removed, and how many calls it holds at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketTake {
    pub scope: &'static str,
    pub subject: String,
    pub window_start: i64,
    pub expires_at: i64,
    pub max: u64,
}

/// A take's update and its condition, the same alone ([`Store::take_from_bucket`]) and in
/// a transaction ([`BucketTake::in_transaction`]).
const TAKE_UPDATE: &str = "SET #type = :type, expires_at = :expires ADD hits :one";
const TAKE_CONDITION: &str = "attribute_not_exists(hits) OR hits < :max";

fn take_names() -> HashMap<String, String> {
    HashMap::from([("#type".to_owned(), keys::TYPE.to_owned())])
}

impl BucketTake {
    fn key(&self) -> keys::Key {
        keys::rate_bucket(self.scope, &self.subject, self.window_start)
    }

    fn values(&self) -> ApiResult<HashMap<String, AttributeValue>> {
        Ok(HashMap::from([
            (
                ":type".to_owned(),
                to_attribute(&keys::entity::RATE_BUCKET)?,
            ),
            (":expires".to_owned(), to_attribute(&self.expires_at)?),
            (":one".to_owned(), to_attribute(&1u64)?),
            (":max".to_owned(), to_attribute(&self.max)?),
        ]))
    }

    /// The take as one item of a transaction: the transaction is cancelled at this item
    /// (`ConditionalCheckFailed`) when the bucket is full, and counts nothing then.
    pub(crate) fn in_transaction(&self, table: &str) -> ApiResult<TransactWriteItem> {
        built(
            update_of(table, &self.key())?
                .update_expression(TAKE_UPDATE)
                .condition_expression(TAKE_CONDITION)
                .set_expression_attribute_names(Some(take_names()))
                .set_expression_attribute_values(Some(self.values()?)),
        )
    }
}

#[derive(Debug, Default, Deserialize)]
struct BucketItem {
    #[serde(default)]
    hits: u64,
}

#[derive(Debug, Default, Deserialize)]
struct SlotsItem {
    #[serde(default)]
    sockets: Vec<String>,
    #[serde(default)]
    version: u64,
}

impl Store {
    /// Counts one call in a bucket if it holds fewer than its `max` (one UpdateItem).
    pub async fn take_from_bucket(&self, bucket: &BucketTake) -> ApiResult<Take> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&bucket.key())?))
            .update_expression(TAKE_UPDATE)
            .condition_expression(TAKE_CONDITION)
            .set_expression_attribute_names(Some(take_names()))
            .set_expression_attribute_values(Some(bucket.values()?))
            .return_values(ReturnValue::None)
            .send()
            .await;
        Ok(match conditional("UpdateItem", result)? {
            Some(_) => Take::Taken,
            None => Take::Full,
        })
    }

    /// Counts one call in a bucket, whatever it holds (a failure to count).
    pub async fn add_to_bucket(
        &self,
        scope: &str,
        subject: &str,
        window_start: i64,
        expires_at: i64,
    ) -> ApiResult<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::rate_bucket(
                scope,
                subject,
                window_start,
            ))?))
            .update_expression("SET #type = :type, expires_at = :expires ADD hits :one")
            .expression_attribute_names("#type", keys::TYPE)
            .expression_attribute_values(":type", to_attribute(&keys::entity::RATE_BUCKET)?)
            .expression_attribute_values(":expires", to_attribute(&expires_at)?)
            .expression_attribute_values(":one", to_attribute(&1u64)?)
            .send()
            .await
            .map_err(|e| crate::table::dynamo_error("UpdateItem", e))?;
        Ok(())
    }

    /// How many calls a bucket holds (one GetItem).
    pub async fn bucket_hits(
        &self,
        scope: &str,
        subject: &str,
        window_start: i64,
    ) -> ApiResult<u64> {
        let bucket: Option<BucketItem> = self
            .get(keys::rate_bucket(scope, subject, window_start))
            .await?;
        Ok(bucket.unwrap_or_default().hits)
    }

    /// Claims a WebSocket slot for `connection` (live until `expires_at`): drops the
    /// slots whose sockets expired and adds this one if fewer than `max` remain, writing
    /// the whole set back in one UpdateItem conditioned on the version read (so concurrent
    /// claims never pass `max`). A slot is `<expiry>#<connection id>` in a string set (an
    /// empty set is no attribute at all, never an empty map).
    pub async fn claim_socket_slot(
        &self,
        user: UserId,
        connection: &str,
        expires_at: i64,
        now: i64,
        max: u64,
    ) -> ApiResult<SlotClaim> {
        let key = keys::socket_slots(user);
        let slots: SlotsItem = self.get(key.clone()).await?.unwrap_or_default();
        let mut live: Vec<String> = slots
            .sockets
            .into_iter()
            .filter(|slot| slot_expiry(slot).is_some_and(|until| until > now))
            .collect();
        if u64::try_from(live.len()).unwrap_or(u64::MAX) >= max {
            return Ok(SlotClaim::Full);
        }
        live.push(slot(expires_at, connection));
        let update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&key)?))
            .update_expression("SET #type = :type, sockets = :sockets ADD version :one")
            .expression_attribute_names("#type", keys::TYPE)
            .expression_attribute_values(":type", to_attribute(&keys::entity::SOCKET_SLOTS)?)
            .expression_attribute_values(":sockets", AttributeValue::Ss(live))
            .expression_attribute_values(":one", to_attribute(&1u64)?);
        let update = if slots.version == 0 {
            update.condition_expression("attribute_not_exists(version)")
        } else {
            update
                .condition_expression("version = :version")
                .expression_attribute_values(":version", to_attribute(&slots.version)?)
        };
        Ok(match conditional("UpdateItem", update.send().await)? {
            Some(_) => SlotClaim::Claimed,
            None => SlotClaim::Raced,
        })
    }

    /// Gives a socket's slot back (on disconnect, or when the socket is found gone).
    /// Idempotent; bumps the version so a claim in flight reads again.
    pub async fn release_socket_slot(&self, user: UserId, connection: &str) -> ApiResult<()> {
        let key = keys::socket_slots(user);
        let Some(slots) = self.get::<SlotsItem>(key.clone()).await? else {
            return Ok(());
        };
        let mine: Vec<String> = slots
            .sockets
            .into_iter()
            .filter(|slot| slot_connection(slot) == Some(connection))
            .collect();
        if mine.is_empty() {
            return Ok(());
        }
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&key)?))
            .update_expression("DELETE sockets :mine ADD version :one")
            .expression_attribute_values(":mine", AttributeValue::Ss(mine))
            .expression_attribute_values(":one", to_attribute(&1u64)?)
            .send()
            .await
            .map_err(|e| crate::table::dynamo_error("UpdateItem", e))?;
        Ok(())
    }
}

/// A slot: `<expiry epoch seconds>#<connection id>`.
fn slot(expires_at: i64, connection: &str) -> String {
    format!("{expires_at}#{connection}")
}

fn slot_expiry(slot: &str) -> Option<i64> {
    slot.split_once('#')?.0.parse().ok()
}

fn slot_connection(slot: &str) -> Option<&str> {
    Some(slot.split_once('#')?.1)
}
