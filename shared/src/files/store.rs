//! File records: created pending (with a TTL), made ready once verified, deleted.

use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::files::{FileStatus, StoredFile};
use crate::ids::FileId;
use crate::keys::{self, Key};
use crate::table::{Store, conditional, item_exists, to_attribute, to_attributes};

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

    /// Pending -> ready (and no longer expiring). `false` if it was not pending.
    pub async fn mark_file_ready(&self, file_id: FileId) -> ApiResult<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(to_attributes(&keys::file(file_id))?))
            .update_expression("SET #status = :ready REMOVE #expires_at")
            .condition_expression(format!("{} AND #status = :pending", item_exists()))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#expires_at", keys::EXPIRES_AT)
            .expression_attribute_values(":ready", to_attribute(&FileStatus::Ready)?)
            .expression_attribute_values(":pending", to_attribute(&FileStatus::Pending)?)
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }

    pub async fn delete_file(&self, file_id: FileId) -> ApiResult<()> {
        self.delete_keys(&[keys::file(file_id)]).await
    }
}
