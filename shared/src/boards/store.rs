//! Kanban storage: columns (few per board, read in one Query), cards listed per column in
//! board order from GSI1, and the card writes that keep each column's `card_count` exact
//! and under its WIP limit in the same transaction.

use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use crate::boards::{Card, Column};
use crate::error::{ApiError, ApiResult};
use crate::ids::{CardId, ChannelId, ColumnId, UserId};
use crate::keys::{self, Gsi1Key, Gsi2Key, Key};
use crate::patch::Patch;
use crate::table::remembered::CardPlace;
use crate::table::{
    Page, PageRequest, Store, TransactOutcome, check_exists, conditional, from_attributes,
    item_exists, put_new, to_attribute, update_of,
};
use crate::work::WorkOutcome;
use crate::work::store::{WorkWrite, delete_item, put_item};

#[derive(Debug, Serialize, Deserialize)]
struct ColumnItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    column: Column,
}

impl ColumnItem {
    fn new(column: &Column) -> Self {
        Self {
            key: keys::column(column.channel_id, column.id),
            entity: keys::entity::COLUMN.into(),
            column: column.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct CardItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    order: Gsi1Key,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    assigned: Option<Gsi2Key>,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    card: Card,
}

impl CardItem {
    fn new(card: &Card) -> Self {
        let id = card.id.to_string();
        let due = card.footprint().due_key();
        Self {
            key: keys::card(card.channel_id, card.id),
            order: keys::card_order(card.column_id, &card.position, card.id),
            assigned: card.assignee_id.map(|user| {
                keys::assigned_work(card.workspace_id, user, false, due.as_deref(), &id)
            }),
            entity: keys::entity::CARD.into(),
            card: card.clone(),
        }
    }
}

/// How a column creation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnCreation {
    Created,
    /// The board holds its limit of columns.
    LimitReached,
    /// The channel is gone.
    ChannelGone,
    /// The guard at this index no longer exists.
    GuardFailed(usize),
}

/// How a column deletion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnDeletion {
    Deleted,
    /// Cards are still in it.
    NotEmpty,
    Gone,
}

/// `ADD <attribute> :delta` on a board's totals item (made if missing).
fn add_to_totals(
    channel: ChannelId,
    table: &str,
    attribute: &str,
    delta: i64,
    cap: Option<u64>,
) -> ApiResult<TransactWriteItem> {
    let update = update_of(table, &keys::work_totals(channel))?
        .update_expression("SET #type = :type, channel_id = :channel ADD #attribute :delta")
        .expression_attribute_names("#type", keys::TYPE)
        .expression_attribute_names("#attribute", attribute)
        .expression_attribute_values(":type", to_attribute(&keys::entity::WORK_TOTALS)?)
        .expression_attribute_values(":channel", to_attribute(&channel)?)
        .expression_attribute_values(":delta", to_attribute(&delta)?);
    let update = match cap {
        Some(cap) => update
            .condition_expression("attribute_not_exists(#attribute) OR #attribute < :cap")
            .expression_attribute_values(":cap", to_attribute(&cap)?),
        None => update,
    };
    Ok(TransactWriteItem::builder()
        .update(update.build().map_err(ApiError::internal)?)
        .build())
}

/// A card entering a column: one more card, on condition the column exists and is under
/// its WIP limit (or has none).
fn card_enters(table: &str, column: &Column) -> ApiResult<TransactWriteItem> {
    let update = update_of(table, &keys::column(column.channel_id, column.id))?
        .update_expression("ADD card_count :one")
        .condition_expression(format!(
            "{} AND (attribute_not_exists(wip_limit) OR attribute_not_exists(card_count) \
             OR card_count < wip_limit)",
            item_exists()
        ))
        .expression_attribute_values(":one", to_attribute(&1i64)?)
        .build()
        .map_err(ApiError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// A card leaving a column (moved away or deleted): one card fewer.
fn card_leaves(
    table: &str,
    channel_id: ChannelId,
    column_id: ColumnId,
) -> ApiResult<TransactWriteItem> {
    crate::table::add_to_counter(
        table,
        &keys::column(channel_id, column_id),
        "card_count",
        -1,
    )
}

impl Store {
    /// The writes that give a new kanban channel its first columns (in the channel's
    /// creation transaction), and count them on the board's totals.
    pub(crate) fn first_columns_writes(
        &self,
        columns: &[Column],
    ) -> ApiResult<Vec<TransactWriteItem>> {
        let mut writes = Vec::with_capacity(columns.len() + 1);
        for column in columns {
            writes.push(put_new(self.table(), &ColumnItem::new(column))?);
        }
        if let Some(first) = columns.first() {
            let count = i64::try_from(columns.len()).unwrap_or(0);
            writes.push(add_to_totals(
                first.channel_id,
                self.table(),
                "columns",
                count,
                None,
            )?);
        }
        Ok(writes)
    }

    /// A board's columns in board order (position, then id): one Query.
    pub async fn list_columns(&self, channel_id: ChannelId, max: usize) -> ApiResult<Vec<Column>> {
        let items: Vec<ColumnItem> = self
            .query_all(&keys::board_columns(channel_id), max)
            .await?;
        let mut columns: Vec<Column> = items.into_iter().map(|item| item.column).collect();
        columns.sort_by(|a, b| (&a.position, a.id).cmp(&(&b.position, b.id)));
        Ok(columns)
    }

    pub async fn get_column(
        &self,
        channel_id: ChannelId,
        column_id: ColumnId,
    ) -> ApiResult<Option<Column>> {
        let item: Option<ColumnItem> = self.get(keys::column(channel_id, column_id)).await?;
        Ok(item.map(|item| item.column))
    }

    /// Creates a column, counted on the board's totals under `max_columns`, on condition
    /// the channel and the guards (the caller's memberships) still exist.
    pub async fn create_column(
        &self,
        column: &Column,
        guards: &[Key],
        max_columns: u64,
    ) -> ApiResult<ColumnCreation> {
        const CHANNEL: usize = 1;
        const COUNT: usize = 2;
        const GUARDS: usize = 3;
        let table = self.table();
        let mut items = vec![
            put_new(table, &ColumnItem::new(column))?,
            check_exists(table, &keys::channel(column.channel_id))?,
            add_to_totals(column.channel_id, table, "columns", 1, Some(max_columns))?,
        ];
        for guard in guards {
            items.push(check_exists(table, guard)?);
        }
        let outcome = self.transact(items).await?;
        Ok(match outcome {
            TransactOutcome::Committed => ColumnCreation::Created,
            _ if outcome.failed_at(CHANNEL) => ColumnCreation::ChannelGone,
            _ if outcome.failed_at(COUNT) => ColumnCreation::LimitReached,
            TransactOutcome::ConditionFailed(ref codes) => {
                match (0..guards.len()).find(|i| outcome.failed_at(GUARDS + i)) {
                    Some(index) => ColumnCreation::GuardFailed(index),
                    None => return Err(TransactOutcome::cancelled("column creation", codes)),
                }
            }
        })
    }

    /// Renames, re-limits or moves a column (the fields given); `None` if it is gone.
    pub async fn update_column(
        &self,
        channel_id: ChannelId,
        column_id: ColumnId,
        name: Option<&str>,
        wip_limit: &Patch<u32>,
        position: Option<&str>,
        actor: UserId,
    ) -> ApiResult<Option<Column>> {
        let mut sets = vec![
            "updated_at = :now".to_owned(),
            "updated_by = :actor".to_owned(),
        ];
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(crate::table::to_attributes(&keys::column(
                channel_id, column_id,
            ))?))
            .condition_expression(item_exists())
            .expression_attribute_values(":now", to_attribute(&crate::clock::now())?)
            .expression_attribute_values(":actor", to_attribute(&actor)?)
            .return_values(ReturnValue::AllNew);
        if let Some(name) = name {
            sets.push("#name = :name".into());
            update = update
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", to_attribute(&name)?);
        }
        if let Some(position) = position {
            sets.push("#position = :position".into());
            update = update
                .expression_attribute_names("#position", "position")
                .expression_attribute_values(":position", to_attribute(&position)?);
        }
        let mut expression = format!("SET {}", sets.join(", "));
        match wip_limit {
            Patch::Set(limit) => {
                expression.push_str(", wip_limit = :wip");
                update = update.expression_attribute_values(":wip", to_attribute(limit)?);
            }
            Patch::Clear => expression.push_str(" REMOVE wip_limit"),
            Patch::Absent => {}
        }
        let result = update.update_expression(expression).send().await;
        match conditional("UpdateItem", result)? {
            Some(output) => {
                let item: ColumnItem = from_attributes(output.attributes.unwrap_or_default())?;
                Ok(Some(item.column))
            }
            None => Ok(None),
        }
    }

    /// Deletes a column if it holds no card, and counts it off the board.
    pub async fn delete_column(&self, column: &Column, actor: UserId) -> ApiResult<ColumnDeletion> {
        const COLUMN: usize = 0;
        let table = self.table();
        let key = keys::column(column.channel_id, column.id);
        // For the activity log: who deleted it.
        self.note_deletion(&key, actor).await?;
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(table)
            .set_key(Some(crate::table::to_attributes(&keys::column(
                column.channel_id,
                column.id,
            ))?))
            .condition_expression(format!(
                "{} AND (attribute_not_exists(card_count) OR card_count = :zero)",
                item_exists()
            ))
            .expression_attribute_values(":zero", to_attribute(&0i64)?)
            .build()
            .map_err(ApiError::internal)?;
        let outcome = self
            .transact(vec![
                TransactWriteItem::builder().delete(delete).build(),
                add_to_totals(column.channel_id, table, "columns", -1, None)?,
            ])
            .await?;
        if !outcome.failed_at(COLUMN) {
            return Ok(ColumnDeletion::Deleted);
        }
        self.forget_deletion(&key).await?;
        Ok(match self.get_column(column.channel_id, column.id).await? {
            Some(_) => ColumnDeletion::NotEmpty,
            None => ColumnDeletion::Gone,
        })
    }

    pub async fn get_card(
        &self,
        channel_id: ChannelId,
        card_id: CardId,
    ) -> ApiResult<Option<Card>> {
        let item: Option<CardItem> = self.get(keys::card(channel_id, card_id)).await?;
        Ok(item.map(|item| item.card))
    }

    /// Several cards of a channel in one batch read (missing ones are left out).
    pub async fn get_cards(
        &self,
        channel_id: ChannelId,
        card_ids: &[CardId],
    ) -> ApiResult<Vec<Card>> {
        let keys: Vec<Key> = card_ids
            .iter()
            .map(|id| keys::card(channel_id, *id))
            .collect();
        let items: Vec<CardItem> = self.batch_get(&keys).await?;
        Ok(items.into_iter().map(|item| item.card).collect())
    }

    /// Writes a card change with its counters; a card entering a column (created, or moved
    /// from another) counts there under the WIP limit (extra write 0: `ExtraFailed(0)`
    /// means the column is full or gone), one leaving counts off its old column.
    pub async fn save_card(
        &self,
        before: Option<&Card>,
        after: Option<&Card>,
        entering: Option<&Column>,
        guards: Vec<Key>,
    ) -> ApiResult<WorkOutcome> {
        self.write_card(before, after, entering, guards, None).await
    }

    /// Deletes a card as read, with its counters and the note of who deleted it, in one
    /// transaction.
    pub async fn delete_card(
        &self,
        before: &Card,
        guards: Vec<Key>,
        actor: UserId,
    ) -> ApiResult<WorkOutcome> {
        self.write_card(Some(before), None, None, guards, Some(actor))
            .await
    }

    async fn write_card(
        &self,
        before: Option<&Card>,
        after: Option<&Card>,
        entering: Option<&Column>,
        guards: Vec<Key>,
        deleted_by: Option<UserId>,
    ) -> ApiResult<WorkOutcome> {
        let table = self.table();
        let Some(card) = after.or(before) else {
            return Ok(WorkOutcome::Written);
        };
        let item = match (before, after) {
            (_, Some(after)) => put_item(table, &CardItem::new(after), before.map(|b| b.revision))?,
            (Some(before), None) => delete_item(
                table,
                &keys::card(before.channel_id, before.id),
                before.revision,
            )?,
            (None, None) => return Ok(WorkOutcome::Written),
        };
        let mut extra = Vec::new();
        if let Some(column) = entering {
            extra.push(card_enters(table, column)?);
        }
        let left = match (before, after) {
            (Some(before), Some(after)) if before.column_id != after.column_id => Some(before),
            (Some(before), None) => Some(before),
            _ => None,
        };
        if let Some(before) = left {
            extra.push(card_leaves(table, before.channel_id, before.column_id)?);
        }
        self.write_work(WorkWrite {
            workspace_id: card.workspace_id,
            channel_id: card.channel_id,
            item,
            before: before.map(Card::footprint),
            after: after.map(Card::footprint),
            guards,
            extra,
            deleted_by: deleted_by.map(|actor| (keys::card(card.channel_id, card.id), actor)),
        })
        .await
    }

    /// A page of a column's cards in board order.
    pub async fn column_cards(
        &self,
        column_id: ColumnId,
        page: &PageRequest,
    ) -> ApiResult<Page<Card>> {
        let page: Page<CardItem> = self
            .query_page(&keys::column_cards(column_id), page, true)
            .await?;
        Ok(page.map(|item| item.card))
    }

    /// The card next to the anchor (standing at `anchor`) in its column, after it or before
    /// it, skipping `moving`.
    pub async fn card_beside(
        &self,
        anchor_id: CardId,
        anchor: &CardPlace,
        after: bool,
        moving: CardId,
    ) -> ApiResult<Option<Card>> {
        let order = keys::card_order(anchor.column_id, &anchor.position, anchor_id);
        let list = keys::column_cards(anchor.column_id);
        let list = if after {
            list.after(&order.gsi1sk)
        } else {
            list.before(&order.gsi1sk)
        };
        let near = PageRequest {
            limit: 2,
            cursor: None,
        };
        let page: Page<CardItem> = self.query_page(&list, &near, after).await?;
        Ok(page
            .items
            .into_iter()
            .map(|item| item.card)
            .find(|card| card.id != moving))
    }

    /// The last card of a column in board order, skipping `moving`.
    pub async fn last_card(
        &self,
        column_id: ColumnId,
        moving: Option<CardId>,
    ) -> ApiResult<Option<Card>> {
        let last = PageRequest {
            limit: 2,
            cursor: None,
        };
        let page: Page<CardItem> = self
            .query_page(&keys::column_cards(column_id), &last, false)
            .await?;
        Ok(page
            .items
            .into_iter()
            .map(|item| item.card)
            .find(|card| Some(card.id) != moving))
    }
}
