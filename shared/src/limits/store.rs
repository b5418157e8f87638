//! Rate-limit buckets (one conditional `ADD` per call, in a fixed window, removed by TTL)
//! and a user's WebSocket slots (a map of connection id to expiry, pruned on each claim).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::ReturnValue;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::ids::UserId;
use crate::keys;
use crate::table::{Store, conditional, to_attribute, to_attributes};

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

#[derive(Debug, Default, Deserialize)]
struct BucketItem {
    #[serde(default)]
    hits: u64,
}

#[derive(Debug, Default, Deserialize)]
struct SlotsItem {
    #[serde(default)]
    sockets: HashMap<String, i64>,
    #[serde(default)]
    version: u64,
}

impl Store {
    /// Counts one call in a bucket if it holds fewer than `max` (one UpdateItem).
    pub async fn take_from_bucket(
        &self,
        scope: &str,
        subject: &str,
        window_start: i64,
        expires_at: i64,
        max: u64,
    ) -> ApiResult<Take> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::rate_bucket(
                scope,
                subject,
                window_start,
            ))?))
            .update_expression("SET #type = :type, expires_at = :expires ADD hits :one")
            .condition_expression("attribute_not_exists(hits) OR hits < :max")
            .expression_attribute_names("#type", keys::TYPE)
            .expression_attribute_values(":type", to_attribute(&keys::entity::RATE_BUCKET)?)
            .expression_attribute_values(":expires", to_attribute(&expires_at)?)
            .expression_attribute_values(":one", to_attribute(&1u64)?)
            .expression_attribute_values(":max", to_attribute(&max)?)
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

    /// Claims a WebSocket slot for `connection` (live until `expires_at`): prunes the
    /// slots whose sockets expired, and adds this one if fewer than `max` remain, in one
    /// UpdateItem conditioned on the version read (so concurrent claims never pass `max`).
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
        let expired: Vec<&String> = slots
            .sockets
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(id, _)| id)
            .collect();
        let live = slots.sockets.len() - expired.len();
        if u64::try_from(live).unwrap_or(u64::MAX) >= max {
            return Ok(SlotClaim::Full);
        }
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&key)?))
            .expression_attribute_names("#type", keys::TYPE)
            .expression_attribute_values(":type", to_attribute(&keys::entity::SOCKET_SLOTS)?)
            .expression_attribute_values(":one", to_attribute(&1u64)?);
        // A new item starts its map; an existing one gains an entry.
        let mut expression = if slots.version == 0 {
            update = update.expression_attribute_values(
                ":sockets",
                to_attribute(&HashMap::from([(connection.to_owned(), expires_at)]))?,
            );
            "SET #type = :type, sockets = :sockets ADD version :one".to_owned()
        } else {
            update = update
                .expression_attribute_names("#new", connection)
                .expression_attribute_values(":until", to_attribute(&expires_at)?)
                .expression_attribute_values(":version", to_attribute(&slots.version)?);
            "SET #type = :type, sockets.#new = :until ADD version :one".to_owned()
        };
        if !expired.is_empty() {
            let names: Vec<String> = (0..expired.len()).map(|i| format!("#old{i}")).collect();
            for (name, id) in names.iter().zip(&expired) {
                update = update.expression_attribute_names(name, id.as_str());
            }
            let paths: Vec<String> = names.iter().map(|name| format!("sockets.{name}")).collect();
            expression.push_str(&format!(" REMOVE {}", paths.join(", ")));
        }
        let condition = if slots.version == 0 {
            "attribute_not_exists(version)"
        } else {
            "version = :version"
        };
        let result = update
            .update_expression(expression)
            .condition_expression(condition)
            .send()
            .await;
        Ok(match conditional("UpdateItem", result)? {
            Some(_) => SlotClaim::Claimed,
            None => SlotClaim::Raced,
        })
    }

    /// Gives a socket's slot back (on disconnect). Idempotent.
    pub async fn release_socket_slot(&self, user: UserId, connection: &str) -> ApiResult<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::socket_slots(user))?))
            .update_expression("REMOVE sockets.#id ADD version :one")
            .condition_expression("attribute_exists(sockets)")
            .expression_attribute_names("#id", connection)
            .expression_attribute_values(":one", to_attribute(&1u64)?)
            .send()
            .await;
        conditional("UpdateItem", result)?;
        Ok(())
    }
}
