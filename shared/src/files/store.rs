//! File records: created pending (with a TTL), made ready once verified, their thumbnail
//! attempted and recorded, deleted.

use serde::{Deserialize, Serialize};

use aws_sdk_dynamodb::types::{
    ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};

use crate::error::{ApiError, ApiResult};
use crate::files::{FileStatus, StoredFile, ThumbnailStatus};
use crate::ids::{FileId, UserId};
use crate::keys::{self, Key};
use crate::table::{
    Store, TransactOutcome, conditional_or_old, from_attributes, item_exists, to_attribute,
    to_attributes,
};
use crate::users::store as users;

/// How many times the thumbnails function started on a file's thumbnail (removed once it
/// is settled): bounds the retries of an image that crashes or times out the function.
const THUMBNAIL_ATTEMPTS: &str = "thumbnail_attempts";

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
    /// While a thumbnail is being attempted: see [`THUMBNAIL_ATTEMPTS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thumbnail_attempts: Option<u32>,
}

/// How starting a thumbnail attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThumbnailClaim {
    /// The file is ready and its thumbnail still pending: this is attempt `attempt` (1 for
    /// the first), and `file` is the item as it is now.
    Claimed { file: Box<StoredFile>, attempt: u32 },
    /// The file is gone, or its thumbnail already settled (a redelivered record).
    Settled,
}

/// What a thumbnail attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbnailOutcome<'a> {
    /// Written at this key.
    Ready { key: &'a str },
    /// The image cannot be thumbnailed; none will be.
    Failed,
}

/// How recording a thumbnail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbnailRecord {
    Recorded,
    /// Another delivery of the same record settled it first.
    AlreadySettled,
    /// The file was deleted meanwhile.
    FileGone,
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
            thumbnail_attempts: None,
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

    /// Counts one more attempt at a ready file's pending thumbnail and reads the file as it
    /// is now, in one conditional update.
    pub async fn claim_thumbnail(&self, file_id: FileId) -> ApiResult<ThumbnailClaim> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::file(file_id))?))
            .update_expression("ADD #attempts :one")
            .condition_expression(format!(
                "{} AND #status = :ready AND #thumbnail = :pending",
                item_exists()
            ))
            .expression_attribute_names("#attempts", THUMBNAIL_ATTEMPTS)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#thumbnail", "thumbnail")
            .expression_attribute_values(":one", to_attribute(&1u32)?)
            .expression_attribute_values(":ready", to_attribute(&FileStatus::Ready)?)
            .expression_attribute_values(":pending", to_attribute(&ThumbnailStatus::Pending)?)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let Ok(output) = conditional_or_old("UpdateItem", result)? else {
            return Ok(ThumbnailClaim::Settled);
        };
        let item = output
            .attributes
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("UpdateItem returned no item")))?;
        let item: FileItem = from_attributes(item)?;
        Ok(ThumbnailClaim::Claimed {
            attempt: item.thumbnail_attempts.unwrap_or(1),
            file: Box::new(item.file),
        })
    }

    /// Settles a pending thumbnail (ready with its key, or failed), once: a second delivery
    /// finds it settled and changes nothing.
    pub async fn record_thumbnail(
        &self,
        file_id: FileId,
        outcome: ThumbnailOutcome<'_>,
    ) -> ApiResult<ThumbnailRecord> {
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::file(file_id))?))
            .condition_expression(format!("{} AND #thumbnail = :pending", item_exists()))
            .expression_attribute_names("#thumbnail", "thumbnail")
            .expression_attribute_names("#attempts", THUMBNAIL_ATTEMPTS)
            .expression_attribute_values(":pending", to_attribute(&ThumbnailStatus::Pending)?)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let request = match outcome {
            ThumbnailOutcome::Ready { key } => request
                .update_expression("SET #thumbnail = :ready, #key = :key REMOVE #attempts")
                .expression_attribute_names("#key", "thumbnail_key")
                .expression_attribute_values(":ready", to_attribute(&ThumbnailStatus::Ready)?)
                .expression_attribute_values(":key", to_attribute(&key)?),
            ThumbnailOutcome::Failed => request
                .update_expression("SET #thumbnail = :failed REMOVE #attempts")
                .expression_attribute_values(":failed", to_attribute(&ThumbnailStatus::Failed)?),
        };
        Ok(
            match conditional_or_old("UpdateItem", request.send().await)? {
                Ok(_) => ThumbnailRecord::Recorded,
                Err(Some(_)) => ThumbnailRecord::AlreadySettled,
                Err(None) => ThumbnailRecord::FileGone,
            },
        )
    }

    pub async fn delete_file(&self, file_id: FileId, actor: UserId) -> ApiResult<()> {
        // For the activity log: who deleted it.
        self.note_deletion(&keys::file(file_id), actor).await?;
        self.delete_keys(&[keys::file(file_id)]).await
    }
}
