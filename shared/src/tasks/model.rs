//! Tasks of todo channels, as stored and as the API shows them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{ChannelId, TaskId, UserId, WorkspaceId};
use crate::work::{Footprint, Priority};

/// Open or done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    #[default]
    Open,
    Done,
}

/// A task as stored. `revision` goes up with every write, which is conditioned on the
/// revision read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub channel_id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub status: TaskStatus,
    pub priority: Priority,
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    pub labels: Vec<String>,
    pub position: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who made the latest change (the actor of its notifications and activity).
    #[serde(default)]
    pub updated_by: Option<UserId>,
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub completed_by: Option<UserId>,
    pub revision: u64,
}

impl Task {
    pub fn is_done(&self) -> bool {
        self.status == TaskStatus::Done
    }

    /// Where the task stands: its list and position (what a neighbour lookup needs).
    pub fn place(&self) -> crate::table::remembered::TaskPlace {
        crate::table::remembered::TaskPlace {
            done: self.is_done(),
            position: self.position.clone(),
        }
    }

    /// The fields a task shares with cards, to change in place.
    pub(crate) fn fields(&mut self) -> crate::work::Fields<'_> {
        crate::work::Fields {
            title: &mut self.title,
            description: &mut self.description,
            assignee_id: &mut self.assignee_id,
            due_date: &mut self.due_date,
            labels: &mut self.labels,
        }
    }

    /// What the task contributes to counters, due markers and its assignee's list.
    pub fn footprint(&self) -> Footprint {
        Footprint {
            item_id: self.id.to_string(),
            done: self.is_done(),
            priority: Some(self.priority),
            assignee: self.assignee_id,
            due: self.due_date,
        }
    }
}

/// A task as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TaskView {
    pub id: TaskId,
    pub channel_id: ChannelId,
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    pub priority: Priority,
    pub assignee_id: Option<UserId>,
    pub due_date: Option<NaiveDate>,
    pub labels: Vec<String>,
    /// The task's place in board order (a fractional key: compare as strings).
    pub position: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the task was completed; `null` while it is open.
    pub completed_at: Option<DateTime<Utc>>,
    /// Who completed the task; `null` while it is open.
    pub completed_by: Option<UserId>,
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        Self {
            id: task.id,
            channel_id: task.channel_id,
            title: task.title,
            description: task.description,
            status: task.status,
            priority: task.priority,
            assignee_id: task.assignee_id,
            due_date: task.due_date,
            labels: task.labels,
            position: task.position,
            created_by: task.created_by,
            created_at: task.created_at,
            updated_at: task.updated_at,
            completed_at: task.completed_at,
            completed_by: task.completed_by,
        }
    }
}

/// `/v1/channels/{channel_id}/tasks/{task_id}/…`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskPath {
    /// The todo channel.
    pub channel_id: ChannelId,
    /// The task.
    pub task_id: TaskId,
}
