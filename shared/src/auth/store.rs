//! Refresh tokens (stored by digest, grouped in revocable families) and single-use
//! WebSocket tickets.

use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::ids::FamilyId;
use crate::ids::UserId;
use crate::keys::{self, Key};
use crate::table::{
    Store, TransactOutcome, conditional, from_attributes, item_exists, put_new, to_attribute,
    to_attributes,
};

/// A refresh token as stored: only the digest of its secret is kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshToken {
    pub token_hash: String,
    pub user_id: UserId,
    pub family_id: FamilyId,
    pub created_at: DateTime<Utc>,
    /// Epoch seconds; also the table's TTL attribute.
    pub expires_at: i64,
    /// Set when the token has been exchanged; presenting it again is reuse. Never stored
    /// as NULL: rotation's condition is `attribute_not_exists(used_at)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
struct RefreshTokenItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    token: RefreshToken,
}

#[derive(Serialize, Deserialize)]
struct RefreshFamilyItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    family_id: FamilyId,
    user_id: UserId,
    created_at: DateTime<Utc>,
    revoked: bool,
    /// Epoch seconds: the expiry of the family's newest token.
    expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct TicketItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    user_id: UserId,
    expires_at: i64,
}

/// How an attempt to exchange a refresh token ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRotation {
    Rotated,
    /// The old token had already been exchanged (possibly concurrently).
    AlreadyUsed,
    /// The family was revoked (logout or detected reuse).
    FamilyRevoked,
}

/// How a ticket redemption ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketRedemption {
    Redeemed(UserId),
    /// Unknown, already used or expired.
    Refused,
}

pub(crate) fn family_put(table: &str, first: &RefreshToken) -> ApiResult<TransactWriteItem> {
    let family = RefreshFamilyItem {
        key: keys::refresh_family(first.family_id),
        entity: keys::entity::REFRESH_FAMILY.into(),
        family_id: first.family_id,
        user_id: first.user_id,
        created_at: first.created_at,
        revoked: false,
        expires_at: first.expires_at,
    };
    put_new(table, &family)
}

pub(crate) fn token_put(table: &str, token: &RefreshToken) -> ApiResult<TransactWriteItem> {
    let item = RefreshTokenItem {
        key: keys::refresh_token(&token.token_hash),
        entity: keys::entity::REFRESH_TOKEN.into(),
        token: token.clone(),
    };
    put_new(table, &item)
}

impl Store {
    /// Starts a session: a new family with its first token.
    pub async fn start_session(&self, first: &RefreshToken) -> ApiResult<()> {
        let outcome = self
            .transact(vec![
                family_put(self.table(), first)?,
                token_put(self.table(), first)?,
            ])
            .await?;
        match outcome {
            TransactOutcome::Committed => Ok(()),
            TransactOutcome::ConditionFailed(codes) => {
                Err(TransactOutcome::cancelled("session creation", &codes))
            }
        }
    }

    pub async fn get_refresh_token(&self, token_hash: &str) -> ApiResult<Option<RefreshToken>> {
        let item: Option<RefreshTokenItem> = self.get(keys::refresh_token(token_hash)).await?;
        Ok(item.map(|item| item.token))
    }

    /// Marks `old` used and adds `new` to the same family, in one transaction that also
    /// requires the family not to be revoked.
    pub async fn rotate_refresh_token(
        &self,
        old: &RefreshToken,
        new: &RefreshToken,
        now: DateTime<Utc>,
    ) -> ApiResult<RefreshRotation> {
        let mark_used = Update::builder()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::refresh_token(&old.token_hash))?))
            .update_expression("SET used_at = :now")
            .condition_expression(format!(
                "{} AND attribute_not_exists(used_at)",
                item_exists()
            ))
            .expression_attribute_values(":now", to_attribute(&now)?)
            .build()
            .map_err(ApiError::internal)?;
        let extend_family = Update::builder()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::refresh_family(old.family_id))?))
            .update_expression("SET #expires_at = :expires_at")
            .condition_expression(format!("{} AND revoked = :false", item_exists()))
            .expression_attribute_names("#expires_at", keys::EXPIRES_AT)
            .expression_attribute_values(":expires_at", to_attribute(&new.expires_at)?)
            .expression_attribute_values(":false", to_attribute(&false)?)
            .build()
            .map_err(ApiError::internal)?;
        const MARK_USED: usize = 0;
        const FAMILY: usize = 1;
        let outcome = self
            .transact(vec![
                TransactWriteItem::builder().update(mark_used).build(),
                TransactWriteItem::builder().update(extend_family).build(),
                token_put(self.table(), new)?,
            ])
            .await?;
        Ok(match outcome {
            TransactOutcome::Committed => RefreshRotation::Rotated,
            _ if outcome.failed_at(MARK_USED) => RefreshRotation::AlreadyUsed,
            _ if outcome.failed_at(FAMILY) => RefreshRotation::FamilyRevoked,
            TransactOutcome::ConditionFailed(codes) => {
                return Err(TransactOutcome::cancelled("refresh rotation", &codes));
            }
        })
    }

    /// Revokes every token of a family at once: rotation checks the family's flag.
    pub async fn revoke_family(&self, family_id: FamilyId) -> ApiResult<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::refresh_family(family_id))?))
            .update_expression("SET revoked = :true")
            .condition_expression(item_exists())
            .expression_attribute_values(":true", to_attribute(&true)?)
            .send()
            .await;
        // A family that expired and was removed is as revoked as it gets.
        conditional("UpdateItem", result).map(|_| ())
    }

    pub async fn put_ws_ticket(
        &self,
        ticket_hash: &str,
        user_id: UserId,
        expires_at: i64,
    ) -> ApiResult<()> {
        let item = TicketItem {
            key: keys::ws_ticket(ticket_hash),
            entity: keys::entity::WS_TICKET.into(),
            user_id,
            expires_at,
        };
        self.put_new_item(&item).await
    }

    /// Consumes a ticket: a conditional delete that succeeds once, and only before expiry.
    pub async fn redeem_ws_ticket(
        &self,
        ticket_hash: &str,
        now_epoch: i64,
    ) -> ApiResult<TicketRedemption> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::ws_ticket(ticket_hash))?))
            .condition_expression(format!("{} AND #expires_at > :now", item_exists()))
            .expression_attribute_names("#expires_at", keys::EXPIRES_AT)
            .expression_attribute_values(":now", to_attribute(&now_epoch)?)
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match conditional("DeleteItem", result)?.and_then(|output| output.attributes) {
            Some(item) => Ok(TicketRedemption::Redeemed(
                from_attributes::<TicketItem>(item)?.user_id,
            )),
            None => Ok(TicketRedemption::Refused),
        }
    }
}
