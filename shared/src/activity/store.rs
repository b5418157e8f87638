//! Activity storage: entries under their workspace (TTL), indexed by actor; and the
//! deletion notes that tell the log who deleted something (a delete's stream record
//! carries only the item as it was).

use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};

use crate::activity::Activity;
use crate::error::ApiResult;
use crate::ids::{UserId, WorkspaceId};
use crate::keys::{self, Gsi1Key, Key};
use crate::table::{Page, PageRequest, Store, conditional, item_is_new, to_attributes};

/// How long a deletion note is kept: longer than a stream record is retried.
const NOTE_SECONDS: i64 = 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct ActivityItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    by_actor: Gsi1Key,
    #[serde(rename = "type")]
    entity: String,
    expires_at: i64,
    #[serde(flatten)]
    activity: Activity,
}

#[derive(Debug, Serialize, Deserialize)]
struct DeletionNoteItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    actor_id: UserId,
    expires_at: i64,
}

fn deletion_note(key: &Key, actor: UserId) -> DeletionNoteItem {
    DeletionNoteItem {
        key: keys::deletion_note(key),
        entity: keys::entity::DELETION_NOTE.into(),
        actor_id: actor,
        expires_at: crate::clock::now().timestamp() + NOTE_SECONDS,
    }
}

/// The deletion note of the item with `key` as a Put for the delete's own transaction, so
/// the note exists exactly when the delete happens.
pub(crate) fn deletion_note_put(
    table: &str,
    key: &Key,
    actor: UserId,
) -> ApiResult<aws_sdk_dynamodb::types::TransactWriteItem> {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(to_attributes(&deletion_note(key, actor))?))
        .build()
        .map_err(crate::error::ApiError::internal)?;
    Ok(aws_sdk_dynamodb::types::TransactWriteItem::builder()
        .put(put)
        .build())
}

impl Store {
    /// Writes an activity entry once: its id derives from its stream record, so a
    /// redelivery finds it there and writes nothing.
    pub async fn record_activity(&self, activity: &Activity, expires_at: i64) -> ApiResult<()> {
        let item = ActivityItem {
            key: keys::activity(activity.workspace_id, activity.id),
            by_actor: keys::activity_by_actor(
                activity.workspace_id,
                activity.actor_id,
                activity.id,
            ),
            entity: keys::entity::ACTIVITY.into(),
            expires_at,
            activity: activity.clone(),
        };
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_attributes(&item)?))
            .condition_expression(item_is_new())
            .return_values(ReturnValue::None)
            .send()
            .await;
        conditional("PutItem", result)?;
        Ok(())
    }

    /// A page of a workspace's activity (or one actor's), newest first.
    pub async fn list_activity(
        &self,
        workspace_id: WorkspaceId,
        actor: Option<UserId>,
        page: &PageRequest,
    ) -> ApiResult<Page<Activity>> {
        let partition = match actor {
            Some(actor) => keys::actor_activity(workspace_id, actor),
            None => keys::workspace_activity(workspace_id),
        };
        let page: Page<ActivityItem> = self.query_page(&partition, page, false).await?;
        Ok(page.map(|item| item.activity))
    }

    /// Notes who is deleting the item with `key`, just before the delete (for deletes that
    /// are not transactions; a transaction takes [`deletion_note_put`] instead).
    pub(crate) async fn note_deletion(&self, key: &Key, actor: UserId) -> ApiResult<()> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_attributes(&deletion_note(key, actor))?))
            .send()
            .await
            .map_err(|e| crate::table::dynamo_error("PutItem", e))?;
        Ok(())
    }

    /// Takes back a note whose delete did not happen.
    pub(crate) async fn forget_deletion(&self, key: &Key) -> ApiResult<()> {
        self.delete_keys(&[keys::deletion_note(key)]).await
    }

    /// Who deleted the item with `key`, if a note says.
    pub async fn deletion_actor(&self, key: &Key) -> ApiResult<Option<UserId>> {
        let note: Option<DeletionNoteItem> = self.get(keys::deletion_note(key)).await?;
        Ok(note.map(|note| note.actor_id))
    }
}
