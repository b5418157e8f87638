//! Uploaded files: attachments of a channel, or a user's avatar.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::ids::{ChannelId, FileId, UserId, WorkspaceId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Upload instructions were handed out; the object is not verified yet.
    Pending,
    /// Completed: the object exists with the declared size and type.
    Ready,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilePurpose {
    Attachment,
    Avatar,
}

/// A file as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub id: FileId,
    pub purpose: FilePurpose,
    #[serde(default)]
    pub workspace_id: Option<WorkspaceId>,
    #[serde(default)]
    pub channel_id: Option<ChannelId>,
    pub uploader_id: UserId,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub status: FileStatus,
    /// Where the object lives once ready (generated, never the client's name).
    pub object_key: String,
    pub created_at: DateTime<Utc>,
}

/// A file as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileView {
    pub id: FileId,
    pub channel_id: Option<ChannelId>,
    pub uploader_id: UserId,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub status: FileStatus,
    /// A presigned GET (5 minutes) once the file is ready.
    pub download_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl FileView {
    pub fn new(file: &StoredFile, download_url: Option<String>) -> Self {
        Self {
            id: file.id,
            channel_id: file.channel_id,
            uploader_id: file.uploader_id,
            filename: file.filename.clone(),
            content_type: file.content_type.clone(),
            size: file.size,
            status: file.status,
            download_url,
            created_at: file.created_at,
        }
    }
}

/// `/v1/files/{file_id}/…`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FilePath {
    /// The file.
    pub file_id: FileId,
}
