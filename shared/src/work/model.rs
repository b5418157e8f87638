//! What tasks and cards share: priorities, the footprint an item leaves on the counters and
//! indexes, and the views of stats, my-work and workload.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};

use crate::boards::CardView;
use crate::ids::{ColumnId, UserId};
use crate::tasks::TaskView;

/// A task's priority.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::Low, Self::Medium, Self::High, Self::Urgent];

    /// The totals attribute counting open tasks of this priority.
    pub fn counter(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
}

/// What one task or card contributes to its channel's counters, the workspace workload,
/// the due markers and its assignee's work list. Cards are always open and have no
/// priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    pub item_id: String,
    pub done: bool,
    pub priority: Option<Priority>,
    pub assignee: Option<UserId>,
    pub due: Option<NaiveDate>,
}

impl Footprint {
    /// The due date as keys hold it, `YYYY-MM-DD`.
    pub fn due_key(&self) -> Option<String> {
        self.due.map(|due| due.format("%Y-%m-%d").to_string())
    }

    /// An open item with a due date has a due marker.
    pub fn due_marker_date(&self) -> Option<String> {
        if self.done { None } else { self.due_key() }
    }
}

/// Open and done counts of one assignee.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDone {
    #[serde(default)]
    pub open: i64,
    #[serde(default)]
    pub done: i64,
}

/// `by_priority` of todo stats: open tasks per priority.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ByPriority {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub urgent: u64,
}

/// One assignee's tasks in todo stats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AssigneeStats {
    pub user_id: UserId,
    pub open: u64,
    pub done: u64,
}

/// One assignee's cards in kanban stats (cards count as open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AssigneeOpen {
    pub user_id: UserId,
    pub open: u64,
}

/// One column in kanban stats, in board order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ColumnStats {
    pub column_id: ColumnId,
    pub name: String,
    /// Cards in the column.
    pub count: u64,
    /// `null` when the column has no WIP limit.
    #[schema(minimum = 1, maximum = 1000)]
    pub wip_limit: Option<u32>,
}

/// `GET /v1/channels/{cid}/stats` of a todo channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TodoStats {
    pub total: u64,
    pub open: u64,
    pub done: u64,
    /// `done` of `total` in percent, rounded down; 0 when there are no tasks.
    #[schema(maximum = 100)]
    pub completion_percent: u64,
    /// Open tasks due before today (UTC).
    pub overdue: u64,
    /// Open tasks per priority.
    pub by_priority: ByPriority,
    /// Assignees with tasks, by user id.
    pub by_assignee: Vec<AssigneeStats>,
}

/// `GET /v1/channels/{cid}/stats` of a kanban channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct KanbanStats {
    pub total: u64,
    /// Cards due before today (UTC).
    pub overdue: u64,
    pub by_column: Vec<ColumnStats>,
    /// Assignees with cards, by user id.
    pub by_assignee: Vec<AssigneeOpen>,
}

/// The stats of a todo or kanban channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ChannelStats {
    Todo(TodoStats),
    Kanban(KanbanStats),
}

/// One row of `GET /v1/workspaces/{wid}/workload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WorkloadRow {
    pub user_id: UserId,
    /// Open tasks and cards assigned to the user.
    pub open: u64,
    /// Done tasks assigned to the user.
    pub done: u64,
    /// Open tasks and cards assigned to the user, due before today (UTC).
    pub overdue: u64,
}

/// One item of `GET /v1/workspaces/{wid}/my-work`: a task or a card, with its kind.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorkItemView {
    Task(TaskView),
    Card(CardView),
}

/// The schema of a request's `labels` (`null` or absent: none): at most 10 unique labels
/// of 1 to 32 characters, no control characters (what [`crate::work::check_labels`]
/// accepts).
pub(crate) fn labels_schema() -> utoipa::openapi::Array {
    ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Array,
            Type::Null,
        ]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(crate::work::LABEL_MAX)),
        )
        .max_items(Some(crate::work::LABELS_MAX))
        .unique_items(true)
        .description(Some(
            "At most 10 unique labels of 1 to 32 characters (not blank, no control \
             characters); `null` means none",
        ))
        .build()
}

/// Counts as stored may not go below zero in a view.
pub(crate) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
