//! Files: presigned uploads that S3 itself holds to the declared length and type, the
//! completion check, downloads, deletes, avatars, and the message attachment rules.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::{Object, ObjectBuilder, Type};

use crate::access;
use crate::clock;
use crate::config::{AVATAR_CONTENT_TYPES, DEFAULT_UPLOAD_CONTENT_TYPES};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::files::gets_thumbnail;
use crate::files::storage::{
    UploadInstructions, attachment_object_key, avatar_object_key, content_disposition,
    pending_object_key, thumbnail_object_key,
};
use crate::files::{AvatarChange, FileCompletion};
use crate::files::{FilePurpose, FileStatus, FileView, StoredFile, ThumbnailStatus};
use crate::ids::{ChannelId, FileId, UserId};
use crate::state::AppState;
use crate::validate::Validator;

pub const FILENAME_MAX: usize = 255;
pub const ATTACHMENTS_MAX: usize = 10;
/// How long an unfinished upload's record lives (its object expires by lifecycle rule).
const PENDING_TTL_SECONDS: i64 = 24 * 3600;

/// `POST /v1/channels/{channel_id}/uploads`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// The name downloads get: not blank, no control characters but newlines; surrounding
    /// whitespace is trimmed.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub filename: String,
    #[schema(schema_with = upload_content_type_schema)]
    pub content_type: String,
    /// The exact length in bytes; over the upload limit (default 25 MiB) is a 413.
    #[schema(minimum = 1)]
    pub size: u64,
}

/// `POST /v1/users/me/avatar`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvatarUploadRequest {
    #[schema(schema_with = avatar_content_type_schema)]
    pub content_type: String,
    /// The exact length in bytes; over the avatar limit (default 5 MiB) is a 413.
    #[schema(minimum = 1)]
    pub size: u64,
}

/// The attachment types: the deployment's allow-list, described with its default.
fn upload_content_type_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "A media type on the deployment's allow-list (`UPLOAD_CONTENT_TYPES`; case and \
             media-type parameters are ignored). The default list: {}.",
            DEFAULT_UPLOAD_CONTENT_TYPES.join(", ")
        )))
        .examples([serde_json::json!("image/png")])
        .build()
}

/// The avatar types, as the avatar route takes them.
fn avatar_content_type_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(AVATAR_CONTENT_TYPES.iter().copied()))
        .description(Some(
            "An image type (case and media-type parameters are ignored).",
        ))
        .build()
}

/// What an upload request answers: upload with `upload`, then complete the file with
/// `POST /v1/files/{file_id}/complete`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadTicket {
    pub file_id: FileId,
    pub upload: UploadInstructions,
    /// When the upload URL stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The media type without parameters, lower-cased.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn check_size(size: u64, max: u64) -> ApiResult<()> {
    if size > max {
        return Err(ApiError::TooLarge(format!("files are at most {max} bytes")));
    }
    Ok(())
}

async fn issue_upload(state: &AppState, file: StoredFile) -> ApiResult<UploadTicket> {
    let storage = state.storage()?;
    let now = clock::now();
    let ttl = state.config.upload_url_ttl;
    let upload = storage
        .presign_upload(
            &pending_object_key(&file.id.to_string()),
            &file.content_type,
            file.size,
            &content_disposition(&file.filename),
            ttl,
        )
        .await?;
    state
        .store
        .create_pending_file(&file, now.timestamp() + PENDING_TTL_SECONDS)
        .await?;
    Ok(UploadTicket {
        file_id: file.id,
        upload,
        expires_at: now + chrono::Duration::from_std(ttl).unwrap_or_default(),
    })
}

/// `POST /v1/channels/{cid}/uploads`: channel members.
pub async fn request_upload(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: UploadRequest,
) -> ApiResult<UploadTicket> {
    let content_type = media_type(&request.content_type);
    let mut check = Validator::new();
    check.text("filename", &request.filename, 1, FILENAME_MAX);
    if !state.config.upload_content_types.contains(&content_type) {
        check.add("content_type", "this type of file is not accepted");
    }
    if request.size == 0 {
        check.add("size", "must be at least 1 byte");
    }
    check.finish()?;
    check_size(request.size, state.config.upload_max_bytes)?;

    let (access, ()) = tokio::try_join!(
        access::channel(state, channel_id, caller),
        crate::limits::upload(state, caller),
    )?;
    access.require_member()?;
    let id = FileId::generate();
    let file = StoredFile {
        id,
        purpose: FilePurpose::Attachment,
        workspace_id: Some(access.channel.workspace_id),
        channel_id: Some(channel_id),
        uploader_id: caller,
        filename: request.filename.trim().to_owned(),
        thumbnail: gets_thumbnail(&content_type).then_some(ThumbnailStatus::Pending),
        content_type,
        size: request.size,
        status: FileStatus::Pending,
        object_key: attachment_object_key(
            &access.channel.workspace_id.to_string(),
            &channel_id.to_string(),
            &id.to_string(),
        ),
        created_at: clock::now(),
        thumbnail_key: None,
    };
    issue_upload(state, file).await
}

/// `POST /v1/users/me/avatar`: images only, at most the avatar limit.
pub async fn request_avatar_upload(
    state: &AppState,
    caller: UserId,
    request: AvatarUploadRequest,
) -> ApiResult<UploadTicket> {
    let content_type = media_type(&request.content_type);
    let mut check = Validator::new();
    if !AVATAR_CONTENT_TYPES.contains(&content_type.as_str()) {
        check.add(
            "content_type",
            format!("must be one of {}", AVATAR_CONTENT_TYPES.join(", ")),
        );
    }
    if request.size == 0 {
        check.add("size", "must be at least 1 byte");
    }
    check.finish()?;
    check_size(request.size, state.config.avatar_max_bytes)?;
    crate::limits::upload(state, caller).await?;
    let id = FileId::generate();
    let extension = content_type.rsplit('/').next().unwrap_or("img");
    let file = StoredFile {
        id,
        purpose: FilePurpose::Avatar,
        workspace_id: None,
        channel_id: None,
        uploader_id: caller,
        filename: format!("avatar.{extension}"),
        thumbnail: gets_thumbnail(&content_type).then_some(ThumbnailStatus::Pending),
        content_type,
        size: request.size,
        status: FileStatus::Pending,
        object_key: avatar_object_key(&caller.to_string(), &id.to_string()),
        created_at: clock::now(),
        thumbnail_key: None,
    };
    issue_upload(state, file).await
}

/// The file as `caller` may see it: attachments to channel readers, avatars to their owner.
async fn visible_file(
    state: &AppState,
    caller: UserId,
    file_id: FileId,
) -> ApiResult<(StoredFile, Option<access::ChannelAccess>)> {
    let file = state
        .store
        .get_file(file_id)
        .await?
        .ok_or_else(|| ApiError::not_found("file"))?;
    match (file.purpose, file.channel_id) {
        (FilePurpose::Attachment, Some(channel_id)) => {
            let access = access::channel(state, channel_id, caller)
                .await
                .map_err(|error| match error {
                    ApiError::NotFound(_) => ApiError::not_found("file"),
                    other => other,
                })?;
            if file.status == FileStatus::Pending && file.uploader_id != caller {
                return Err(ApiError::not_found("file"));
            }
            Ok((file, Some(access)))
        }
        _ if file.uploader_id == caller => Ok((file, None)),
        _ => Err(ApiError::not_found("file")),
    }
}

/// The API view, with fresh download URLs when the file (and its thumbnail) is ready.
pub async fn file_view(state: &AppState, file: &StoredFile) -> ApiResult<FileView> {
    let Some(storage) = state.storage.as_ref() else {
        return Ok(FileView::new(file, None, None));
    };
    let ttl = state.config.download_url_ttl;
    let download_url = match file.status {
        FileStatus::Ready => Some(
            storage
                .presign_download(&file.object_key, &content_disposition(&file.filename), ttl)
                .await?,
        ),
        FileStatus::Pending => None,
    };
    let thumbnail_url = match (file.thumbnail, &file.thumbnail_key) {
        (Some(ThumbnailStatus::Ready), Some(key)) => {
            Some(storage.presign_download(key, "inline", ttl).await?)
        }
        _ => None,
    };
    Ok(FileView::new(file, download_url, thumbnail_url))
}

/// Brings message copies of attachments up to date with their thumbnails: a copy is taken
/// at send time, often before its thumbnail is made. Copies still pending are read again
/// (one batch read for all of them; none when every copy is settled); a deleted file's copy
/// stays as it was.
pub async fn settle_thumbnails<'a>(
    state: &AppState,
    copies: impl IntoIterator<Item = &'a mut StoredFile>,
) -> ApiResult<()> {
    let mut unsettled: Vec<&mut StoredFile> = copies
        .into_iter()
        .filter(|copy| copy.thumbnail == Some(ThumbnailStatus::Pending))
        .collect();
    if unsettled.is_empty() {
        return Ok(());
    }
    let ids: Vec<FileId> = unsettled.iter().map(|copy| copy.id).collect();
    let current = state.store.get_files(&ids).await?;
    for copy in &mut unsettled {
        if let Some(file) = current.iter().find(|file| file.id == copy.id) {
            copy.thumbnail = file.thumbnail;
            copy.thumbnail_key.clone_from(&file.thumbnail_key);
        }
    }
    Ok(())
}

/// `POST /v1/files/{fid}/complete`: the uploader; verifies the object S3 holds against
/// what was declared, then makes the file ready (and, for an avatar, the profile's).
///
/// Idempotent, also under concurrency and after a crash: the steps are ordered so that any
/// of them can run again. The object is copied to its final key (the pending one stays), the
/// item is made ready (conditioned on pending), and only then is the pending object deleted.
/// A completer that finds the pending object gone, or the item no longer pending, reads the
/// item again and answers the ready file another call made.
pub async fn complete(state: &AppState, caller: UserId, file_id: FileId) -> ApiResult<FileView> {
    let storage = state.storage()?;
    let (file, _) = visible_file(state, caller, file_id).await?;
    if file.uploader_id != caller {
        return Err(ApiError::Forbidden(
            "only the uploader completes an upload".into(),
        ));
    }
    if file.status == FileStatus::Ready {
        return file_view(state, &file).await;
    }
    let pending_key = pending_object_key(&file.id.to_string());
    let Some(object) = storage.head(&pending_key).await? else {
        return settled(state, file_id, "nothing was uploaded for this file").await;
    };
    let same_type = object.content_type.as_deref().map(media_type).as_deref()
        == Some(file.content_type.as_str());
    if object.size != file.size || !same_type {
        storage.delete(&pending_key).await?;
        return Err(ApiError::conflict(
            "the uploaded object differs from the declared size or type; request a new upload",
        ));
    }
    if !storage.copy(&pending_key, &file.object_key).await? {
        return settled(state, file_id, "nothing was uploaded for this file").await;
    }
    let avatar_url = format!("/v1/users/{caller}/avatar?v={}", file.id);
    let avatar = (file.purpose == FilePurpose::Avatar).then(|| AvatarChange {
        url: &avatar_url,
        at: clock::now(),
    });
    if state.store.mark_file_ready(&file, avatar).await? == FileCompletion::NotPending {
        let answer = settled(state, file_id, "the upload expired; request a new one").await;
        if matches!(answer, Err(ApiError::NotFound(_))) {
            // The record is gone (deleted or expired): so is the reason for the copy.
            storage.delete(&file.object_key).await?;
        }
        return answer;
    }
    // The file is ready; a pending object left behind expires by the bucket's lifecycle rule.
    if let Err(error) = storage.delete(&pending_key).await {
        tracing::warn!(file_id = %file_id, error = %error, "pending object not deleted");
    }
    let mut ready = file;
    ready.status = FileStatus::Ready;
    file_view(state, &ready).await
}

/// After a completion step found the upload gone or no longer pending: the file as it is
/// now (a strongly consistent read). Ready means another call completed it, and that is the
/// answer; still pending is a 409 for `reason`.
async fn settled(state: &AppState, file_id: FileId, reason: &str) -> ApiResult<FileView> {
    match state.store.get_file(file_id).await? {
        Some(current) if current.status == FileStatus::Ready => file_view(state, &current).await,
        Some(_) => Err(ApiError::conflict(reason)),
        None => Err(ApiError::not_found("file")),
    }
}

/// `GET /v1/files/{fid}`: channel readers (avatars: their owner).
pub async fn get(state: &AppState, caller: UserId, file_id: FileId) -> ApiResult<FileView> {
    let (file, _) = visible_file(state, caller, file_id).await?;
    file_view(state, &file).await
}

/// `DELETE /v1/files/{fid}`: the uploader or a workspace admin; removes the object too.
pub async fn delete(state: &AppState, caller: UserId, file_id: FileId) -> ApiResult<()> {
    let storage = state.storage()?;
    let (file, access) = visible_file(state, caller, file_id).await?;
    if file.uploader_id != caller {
        match access {
            Some(access) => access.require_workspace_admin()?,
            None => return Err(ApiError::not_found("file")),
        }
    }
    let key = match file.status {
        FileStatus::Ready => file.object_key.clone(),
        FileStatus::Pending => pending_object_key(&file.id.to_string()),
    };
    storage.delete(&key).await?;
    if file.thumbnail.is_some() {
        // Made or not yet: a thumbnail recorded after this read goes with the item's
        // removal record (the thumbnails function deletes it).
        storage
            .delete(&thumbnail_object_key(&file.object_key))
            .await?;
    }
    if file.purpose == FilePurpose::Avatar {
        state
            .store
            .clear_avatar(file.uploader_id, &file.object_key)
            .await?;
    }
    state.store.delete_file(file_id, caller).await
}

/// `GET /v1/users/{uid}/avatar`: where the avatar can be downloaded now (a redirect target).
pub async fn avatar_location(state: &AppState, user_id: UserId) -> ApiResult<String> {
    let storage = state.storage()?;
    let key = state
        .store
        .get_avatar_key(user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("avatar"))?;
    storage
        .presign_download(&key, "inline", state.config.download_url_ttl)
        .await
}

/// The files a message may carry: ready attachments of this channel by the sender.
pub async fn resolve_attachments(
    state: &AppState,
    sender: UserId,
    channel_id: ChannelId,
    ids: &[FileId],
) -> ApiResult<Vec<StoredFile>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    if unique.len() > ATTACHMENTS_MAX {
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            "attachment_ids",
            format!("at most {ATTACHMENTS_MAX} files"),
        )]));
    }
    let files = state.store.get_files(&unique).await?;
    let usable = |file: &StoredFile| {
        file.status == FileStatus::Ready
            && file.purpose == FilePurpose::Attachment
            && file.channel_id == Some(channel_id)
            && file.uploader_id == sender
    };
    if files.len() != unique.len() || !files.iter().all(usable) {
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            "attachment_ids",
            "each must be a ready file you uploaded to this channel",
        )]));
    }
    // Keep the order the sender gave, once each.
    let mut ordered: Vec<StoredFile> = Vec::with_capacity(unique.len());
    for id in ids {
        if !ordered.iter().any(|kept| kept.id == *id)
            && let Some(file) = files.iter().find(|file| file.id == *id)
        {
            ordered.push(file.clone());
        }
    }
    Ok(ordered)
}
