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

/// Where an image's thumbnail stands (files of other types have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThumbnailStatus {
    /// Not made yet: it follows the upload's completion within seconds.
    Pending,
    /// Made: `thumbnail_url` serves it.
    Ready,
    /// The image could not be read (corrupt, not of its declared type, or over the size,
    /// dimension or memory limits); there will be none. The original is unchanged.
    Failed,
}

/// The media types that get a thumbnail.
pub const THUMBNAIL_SOURCE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Whether files of this (normalised) media type get a thumbnail.
pub fn gets_thumbnail(content_type: &str) -> bool {
    THUMBNAIL_SOURCE_TYPES.contains(&content_type)
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
    /// Images only (absent for other types): pending from the upload request until the
    /// thumbnails function settles it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<ThumbnailStatus>,
    /// The thumbnail object once it is ready (beside `object_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_key: Option<String>,
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
    /// Images (png, jpeg, gif, webp): `pending` until the thumbnail is made, then `ready`,
    /// or `failed` for an image that cannot be read; `null` for other files.
    pub thumbnail: Option<ThumbnailStatus>,
    /// A presigned GET (like `download_url`) of the thumbnail, a JPEG at most 400 px on its
    /// longest side (an avatar's: 256 × 256); `null` until `thumbnail` is `ready`.
    pub thumbnail_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl FileView {
    pub fn new(
        file: &StoredFile,
        download_url: Option<String>,
        thumbnail_url: Option<String>,
    ) -> Self {
        Self {
            id: file.id,
            channel_id: file.channel_id,
            uploader_id: file.uploader_id,
            filename: file.filename.clone(),
            content_type: file.content_type.clone(),
            size: file.size,
            status: file.status,
            download_url,
            thumbnail: file.thumbnail,
            thumbnail_url,
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
