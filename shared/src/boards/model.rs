//! Kanban boards: columns and cards, as stored and as the API shows them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{CardId, ChannelId, ColumnId, UserId, WorkspaceId};
use crate::work::Footprint;

/// A column as stored. `card_count` is kept by the card writes (`ADD`), and is what the
/// WIP limit's condition reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub id: ColumnId,
    pub channel_id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub position: String,
    /// Absent when there is no limit (the conditions test for its absence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wip_limit: Option<u32>,
    #[serde(default)]
    pub card_count: i64,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who made the latest change (the actor of its activity).
    #[serde(default)]
    pub updated_by: Option<UserId>,
}

/// A column as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ColumnView {
    pub id: ColumnId,
    pub channel_id: ChannelId,
    pub name: String,
    /// The column's place on the board (a fractional key: compare as strings).
    pub position: String,
    /// `null` when the column has no WIP limit.
    #[schema(minimum = 1, maximum = 1000)]
    pub wip_limit: Option<u32>,
    /// Cards in the column.
    pub card_count: u64,
}

impl From<Column> for ColumnView {
    fn from(column: Column) -> Self {
        Self {
            id: column.id,
            channel_id: column.channel_id,
            name: column.name,
            position: column.position,
            wip_limit: column.wip_limit,
            card_count: crate::work::model::count(column.card_count),
        }
    }
}

/// A card as stored; `revision` conditions every write, as for tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub id: CardId,
    pub channel_id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub column_id: ColumnId,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    pub position: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who made the latest change (the actor of its notifications and activity).
    #[serde(default)]
    pub updated_by: Option<UserId>,
    pub revision: u64,
}

impl Card {
    /// Where the card stands: its column and position (what a neighbour lookup needs).
    pub fn place(&self) -> crate::table::remembered::CardPlace {
        crate::table::remembered::CardPlace {
            column_id: self.column_id,
            position: self.position.clone(),
        }
    }

    /// The fields a card shares with tasks, to change in place.
    pub(crate) fn fields(&mut self) -> crate::work::Fields<'_> {
        crate::work::Fields {
            title: &mut self.title,
            description: &mut self.description,
            assignee_id: &mut self.assignee_id,
            due_date: &mut self.due_date,
            labels: &mut self.labels,
        }
    }

    /// Cards are always open and have no priority.
    pub fn footprint(&self) -> Footprint {
        Footprint {
            item_id: self.id.to_string(),
            done: false,
            priority: None,
            assignee: self.assignee_id,
            due: self.due_date,
        }
    }
}

/// A card as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CardView {
    pub id: CardId,
    pub channel_id: ChannelId,
    pub column_id: ColumnId,
    pub title: String,
    pub description: Option<String>,
    pub assignee_id: Option<UserId>,
    pub labels: Vec<String>,
    pub due_date: Option<NaiveDate>,
    /// The card's place in its column (a fractional key: compare as strings).
    pub position: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Card> for CardView {
    fn from(card: Card) -> Self {
        Self {
            id: card.id,
            channel_id: card.channel_id,
            column_id: card.column_id,
            title: card.title,
            description: card.description,
            assignee_id: card.assignee_id,
            labels: card.labels,
            due_date: card.due_date,
            position: card.position,
            created_by: card.created_by,
            created_at: card.created_at,
            updated_at: card.updated_at,
        }
    }
}

/// One column of `GET /v1/channels/{cid}/board`, with its first cards.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BoardColumn {
    #[serde(flatten)]
    pub column: ColumnView,
    /// The column's first cards (at most 100), in order.
    pub cards: Vec<CardView>,
    /// The `cursor` of `GET .../columns/{column_id}/cards` for the rest; `null` when there
    /// is no more.
    pub next_cursor: Option<String>,
}

/// `GET /v1/channels/{cid}/board`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Board {
    /// Every column, in board order.
    pub columns: Vec<BoardColumn>,
}

/// `/v1/channels/{channel_id}/columns/{column_id}/…`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ColumnPath {
    /// The kanban channel.
    pub channel_id: ChannelId,
    /// The column.
    pub column_id: ColumnId,
}

/// `/v1/channels/{channel_id}/cards/{card_id}/…`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CardPath {
    /// The kanban channel.
    pub channel_id: ChannelId,
    /// The card.
    pub card_id: CardId,
}
