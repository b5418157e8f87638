//! Tasks: one item each, listed in board order from GSI1 (open and done lists), indexed
//! under their assignee in GSI2; every write goes through the work transaction.

use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::ids::{ChannelId, TaskId, UserId};
use crate::keys::{self, Gsi1Key, Gsi2Key, Key};
use crate::table::remembered::TaskPlace;
use crate::table::{Page, PageRequest, Store};
use crate::tasks::Task;
use crate::work::WorkOutcome;
use crate::work::store::{WorkWrite, delete_item, put_item};

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TaskItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    order: Gsi1Key,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    assigned: Option<Gsi2Key>,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    pub(crate) task: Task,
}

impl TaskItem {
    fn new(task: &Task) -> Self {
        let id = task.id.to_string();
        let due = task.footprint().due_key();
        Self {
            key: keys::task(task.channel_id, task.id),
            order: keys::task_order(task.channel_id, task.is_done(), &task.position, task.id),
            assigned: task.assignee_id.map(|user| {
                keys::assigned_work(task.workspace_id, user, task.is_done(), due.as_deref(), &id)
            }),
            entity: keys::entity::TASK.into(),
            task: task.clone(),
        }
    }
}

impl Store {
    pub async fn get_task(
        &self,
        channel_id: ChannelId,
        task_id: TaskId,
    ) -> ApiResult<Option<Task>> {
        let item: Option<TaskItem> = self.get(keys::task(channel_id, task_id)).await?;
        Ok(item.map(|item| item.task))
    }

    /// Several tasks of a channel in one batch read (missing ones are left out).
    pub async fn get_tasks(
        &self,
        channel_id: ChannelId,
        task_ids: &[TaskId],
    ) -> ApiResult<Vec<Task>> {
        let keys: Vec<Key> = task_ids
            .iter()
            .map(|id| keys::task(channel_id, *id))
            .collect();
        let items: Vec<TaskItem> = self.batch_get(&keys).await?;
        Ok(items.into_iter().map(|item| item.task).collect())
    }

    /// Writes a new task (`before` `None`) or a changed one with its counters, conditioned
    /// on the revision read and on `guards` (memberships).
    pub async fn save_task(
        &self,
        before: Option<&Task>,
        after: Option<&Task>,
        guards: Vec<Key>,
    ) -> ApiResult<WorkOutcome> {
        self.write_task(before, after, guards, None).await
    }

    /// Deletes a task as read, with its counters and the note of who deleted it, in one
    /// transaction.
    pub async fn delete_task(
        &self,
        before: &Task,
        guards: Vec<Key>,
        actor: UserId,
    ) -> ApiResult<WorkOutcome> {
        self.write_task(Some(before), None, guards, Some(actor))
            .await
    }

    async fn write_task(
        &self,
        before: Option<&Task>,
        after: Option<&Task>,
        guards: Vec<Key>,
        deleted_by: Option<UserId>,
    ) -> ApiResult<WorkOutcome> {
        let Some(task) = after.or(before) else {
            return Ok(WorkOutcome::Written);
        };
        let item = match (before, after) {
            (_, Some(after)) => put_item(
                self.table(),
                &TaskItem::new(after),
                before.map(|b| b.revision),
            )?,
            (Some(before), None) => delete_item(
                self.table(),
                &keys::task(before.channel_id, before.id),
                before.revision,
            )?,
            (None, None) => return Ok(WorkOutcome::Written),
        };
        self.write_work(WorkWrite {
            workspace_id: task.workspace_id,
            channel_id: task.channel_id,
            item,
            before: before.map(Task::footprint),
            after: after.map(Task::footprint),
            guards,
            extra: Vec::new(),
            deleted_by: deleted_by.map(|actor| (keys::task(task.channel_id, task.id), actor)),
        })
        .await
    }

    /// A page of a channel's open (or done) tasks in board order, keeping only those
    /// `assignee` has (when given).
    pub async fn list_tasks(
        &self,
        channel_id: ChannelId,
        done: bool,
        page: &PageRequest,
        assignee: Option<UserId>,
    ) -> ApiResult<Page<Task>> {
        self.query_selected(
            &keys::channel_tasks(channel_id, done),
            page,
            true,
            |items: Vec<TaskItem>| async move {
                Ok(items
                    .into_iter()
                    .map(|item| {
                        (assignee.is_none() || item.task.assignee_id == assignee)
                            .then_some(item.task)
                    })
                    .collect())
            },
        )
        .await
    }

    /// The task next to the anchor (standing at `anchor`) in its list, after it or before
    /// it, skipping `moving`.
    pub async fn task_beside(
        &self,
        channel_id: ChannelId,
        anchor_id: TaskId,
        anchor: &TaskPlace,
        after: bool,
        moving: TaskId,
    ) -> ApiResult<Option<Task>> {
        let order = keys::task_order(channel_id, anchor.done, &anchor.position, anchor_id);
        let list = keys::channel_tasks(channel_id, anchor.done);
        let list = if after {
            list.after(&order.gsi1sk)
        } else {
            list.before(&order.gsi1sk)
        };
        let near = PageRequest {
            limit: 2,
            cursor: None,
        };
        let page: Page<TaskItem> = self.query_page(&list, &near, after).await?;
        Ok(page
            .items
            .into_iter()
            .map(|item| item.task)
            .find(|task| task.id != moving))
    }

    /// The last open task in board order, if any.
    pub async fn last_open_task(&self, channel_id: ChannelId) -> ApiResult<Option<Task>> {
        let last = PageRequest {
            limit: 1,
            cursor: None,
        };
        let page: Page<TaskItem> = self
            .query_page(&keys::channel_tasks(channel_id, false), &last, false)
            .await?;
        Ok(page.items.into_iter().next().map(|item| item.task))
    }
}
