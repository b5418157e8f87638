//! File records: created pending (with a TTL), made ready once verified, deleted.

use serde::{Deserialize, Serialize};

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use crate::error::{ApiError, ApiResult};
use crate::files::{FileStatus, StoredFile};
use crate::ids::{FileId, UserId};
use crate::keys::{self, Key};
use crate::table::{Store, TransactOutcome, item_exists, to_attribute, to_attributes};
use crate::users::store as users;

#[derive(Serialize, Deserialize)]
struct FileItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    file: StoredFile,
    /// Epoch seconds while pending: an abandoned upload's record expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

/// The profile change that comes with a completed avatar upload.
#[derive(Debug, Clone, Copy)]
pub struct AvatarChange<'a> {
    /// The profile's stable `avatar_url`.
    pub url: &'a str,
    pub at: DateTime<Utc>,
}

/// How marking a file ready ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileCompletion {
    Ready,
    /// The file was not pending any more (or its owner is gone).
    NotPending,
}

impl Store {
    pub async fn create_pending_file(&self, file: &StoredFile, expires_at: i64) -> ApiResult<()> {
        let item = FileItem {
            key: keys::file(file.id),
            entity: keys::entity::FILE.into(),
            file: file.clone(),
            expires_at: Some(expires_at),
        };
        self.put_new_item(&item).await
    }

    pub async fn get_file(&self, file_id: FileId) -> ApiResult<Option<StoredFile>> {
        let item: Option<FileItem> = self.get(keys::file(file_id)).await?;
        Ok(item.map(|item| item.file))
    }

    /// Several files by id (missing ones are left out).
    pub async fn get_files(&self, file_ids: &[FileId]) -> ApiResult<Vec<StoredFile>> {
        let keys: Vec<Key> = file_ids.iter().map(|id| keys::file(*id)).collect();
        let items: Vec<FileItem> = self.batch_get(&keys).await?;
        Ok(items.into_iter().map(|item| item.file).collect())
    }

    /// Pending -> ready (and no longer expiring) and, for an avatar, the owner's profile
    /// pointing at it, in one transaction (so a crash never leaves one without the other).
    pub async fn mark_file_ready(
        &self,
        file: &StoredFile,
        avatar: Option<AvatarChange<'_>>,
    ) -> ApiResult<FileCompletion> {
        let table = self.table();
        let ready = Update::builder()
            .table_name(table)
            .set_key(Some(to_attributes(&keys::file(file.id))?))
            .update_expression("SET #status = :ready REMOVE #expires_at")
            .condition_expression(format!("{} AND #status = :pending", item_exists()))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#expires_at", keys::EXPIRES_AT)
            .expression_attribute_values(":ready", to_attribute(&FileStatus::Ready)?)
            .expression_attribute_values(":pending", to_attribute(&FileStatus::Pending)?)
            .build()
            .map_err(ApiError::internal)?;
        let mut items = vec![TransactWriteItem::builder().update(ready).build()];
        if let Some(avatar) = avatar {
            items.push(users::set_avatar(
                table,
                file.uploader_id,
                avatar.url,
                &file.object_key,
                avatar.at,
            )?);
        }
        Ok(match self.transact(items).await? {
            TransactOutcome::Committed => FileCompletion::Ready,
            TransactOutcome::ConditionFailed(_) => FileCompletion::NotPending,
        })
    }

    pub async fn delete_file(&self, file_id: FileId, actor: UserId) -> ApiResult<()> {
        // For the activity log: who deleted it.
        self.note_deletion(&keys::file(file_id), actor).await?;
        self.delete_keys(&[keys::file(file_id)]).await
    }
}
