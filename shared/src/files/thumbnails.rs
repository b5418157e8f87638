//! Thumbnails from the table's stream: which records ask for one (a file turning ready
//! with its thumbnail pending), the bounded attempt, reading the original with a size
//! limit, writing the thumbnail beside it and recording the outcome once; and, when a file
//! item is removed, its thumbnail object. Decoding is not here: the thumbnails function
//! alone links an image codec and hands its [`Render`] in.

use crate::ApiResult;
use crate::files::storage::{ObjectRead, thumbnail_object_key};
use crate::files::{
    FilePurpose, FileStatus, StoredFile, ThumbnailClaim, ThumbnailOutcome, ThumbnailRecord,
    ThumbnailStatus,
};
use crate::ids::FileId;
use crate::keys;
use crate::state::AppState;
use crate::stream::{Change, ChangeKind, each_change};

/// The longest original read: a larger object is not fetched (its thumbnail fails).
pub const SOURCE_MAX_BYTES: u64 = 25 * 1024 * 1024;
/// Deliveries that may start on one thumbnail; the next marks it failed without decoding.
/// Only an attempt that never finished (the function crashed, ran out of memory or time)
/// leaves the count up, so an image that kills the function is given up, never retried
/// forever.
pub const ATTEMPTS_MAX: u32 = 3;
/// What thumbnails are encoded as.
pub const THUMBNAIL_CONTENT_TYPE: &str = "image/jpeg";

/// The size and shape of a thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbnailShape {
    /// Scaled down (never up) to fit a square of this side, keeping the aspect ratio.
    Fit { longest_side: u32 },
    /// Scaled to cover a square of this side and centre-cropped to it.
    Square { side: u32 },
}

/// An attachment's thumbnail: 400 px on its longest side.
pub const ATTACHMENT_THUMBNAIL: ThumbnailShape = ThumbnailShape::Fit { longest_side: 400 };
/// An avatar's: a 256 × 256 square.
pub const AVATAR_THUMBNAIL: ThumbnailShape = ThumbnailShape::Square { side: 256 };

/// The thumbnail a file of this purpose gets.
pub fn shape_for(purpose: FilePurpose) -> ThumbnailShape {
    match purpose {
        FilePurpose::Attachment => ATTACHMENT_THUMBNAIL,
        FilePurpose::Avatar => AVATAR_THUMBNAIL,
    }
}

/// Decodes an original of the declared media type and encodes its thumbnail (as
/// [`THUMBNAIL_CONTENT_TYPE`]); `Err` says why this image cannot have one (corrupt, not of
/// its declared type, over a limit). Runs on a blocking thread.
pub type Render = fn(&[u8], &str, ThumbnailShape) -> Result<Vec<u8>, String>;

/// The thumbnails function's work on a batch, one record at a time (each decode has the
/// function's memory to itself). Returns the ids of the records to retry: only transient
/// failures (S3, DynamoDB); an image that cannot be read is settled as `failed`.
pub async fn make_thumbnails(state: &AppState, changes: &[Change], render: Render) -> Vec<String> {
    each_change(changes, "thumbnail", |change| {
        thumbnail_change(state, change, render)
    })
    .await
}

/// The file a record asks a thumbnail for: one turning ready with its thumbnail pending.
pub fn requested(change: &Change) -> ApiResult<Option<StoredFile>> {
    if change.kind != ChangeKind::Modify || change.entity() != Some(keys::entity::FILE) {
        return Ok(None);
    }
    let (Some(old), Some(new)) = (
        change.old_as::<StoredFile>()?,
        change.new_as::<StoredFile>()?,
    ) else {
        return Ok(None);
    };
    let turned_ready = old.status == FileStatus::Pending && new.status == FileStatus::Ready;
    Ok((turned_ready && new.thumbnail == Some(ThumbnailStatus::Pending)).then_some(new))
}

async fn thumbnail_change(state: &AppState, change: &Change, render: Render) -> ApiResult<()> {
    if change.kind == ChangeKind::Remove && change.entity() == Some(keys::entity::FILE) {
        return remove_thumbnail(state, change).await;
    }
    match requested(change)? {
        Some(file) => make_thumbnail(state, file.id, render).await,
        None => Ok(()),
    }
}

/// A removed file's thumbnail object: the delete route removes it too, but a thumbnail
/// recorded after that route read the file is known only to the removal's old image.
async fn remove_thumbnail(state: &AppState, change: &Change) -> ApiResult<()> {
    let Some(file) = change.old_as::<StoredFile>()? else {
        return Ok(());
    };
    match file.thumbnail_key {
        Some(key) => state.storage()?.delete(&key).await,
        None => Ok(()),
    }
}

/// One file's thumbnail, idempotent: a redelivered record finds it settled and does
/// nothing; an attempt cut short runs again, at most [`ATTEMPTS_MAX`] times.
pub async fn make_thumbnail(state: &AppState, file_id: FileId, render: Render) -> ApiResult<()> {
    let storage = state.storage()?;
    let ThumbnailClaim::Claimed { file, attempt } = state.store.claim_thumbnail(file_id).await?
    else {
        return Ok(());
    };
    let rendered = if attempt > ATTEMPTS_MAX {
        Err(format!("{ATTEMPTS_MAX} attempts did not finish"))
    } else if file.size > SOURCE_MAX_BYTES {
        Err(format!("larger than {SOURCE_MAX_BYTES} bytes"))
    } else {
        match storage
            .read_limited(&file.object_key, SOURCE_MAX_BYTES)
            .await?
        {
            ObjectRead::Found(bytes) => {
                let content_type = file.content_type.clone();
                let shape = shape_for(file.purpose);
                tokio::task::spawn_blocking(move || render(&bytes, &content_type, shape))
                    .await
                    .unwrap_or_else(|_| Err("the decoder panicked".into()))
            }
            ObjectRead::Missing => Err("the object is gone".into()),
            ObjectRead::TooLarge => Err(format!("larger than {SOURCE_MAX_BYTES} bytes")),
        }
    };
    let thumbnail = match rendered {
        Ok(thumbnail) => thumbnail,
        Err(reason) => {
            tracing::warn!(file_id = %file.id, reason = %reason, "no thumbnail for this image");
            state
                .store
                .record_thumbnail(file.id, ThumbnailOutcome::Failed)
                .await?;
            return Ok(());
        }
    };
    let key = thumbnail_object_key(&file.object_key);
    storage.put(&key, thumbnail, THUMBNAIL_CONTENT_TYPE).await?;
    // The profile first: once the file records its thumbnail, a redelivery stops early.
    if file.purpose == FilePurpose::Avatar {
        state
            .store
            .set_avatar_thumbnail(file.uploader_id, &file.object_key, &key)
            .await?;
    }
    let recorded = state
        .store
        .record_thumbnail(file.id, ThumbnailOutcome::Ready { key: &key })
        .await?;
    if recorded == ThumbnailRecord::FileGone {
        // Deleted while the thumbnail was made: nothing will point at the object.
        storage.delete(&key).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::{Value, json};

    fn image(status: &str, content_type: &str, thumbnail: Option<&str>) -> serde_dynamo::Item {
        let mut item = json!({
            "PK": "FILE#01JCZ5Q0000000000000000000", "SK": "META", "type": "file",
            "id": "01JCZ5Q0000000000000000000", "purpose": "attachment",
            "workspace_id": null, "channel_id": null,
            "uploader_id": "01JCZ5Q0000000000000000001", "filename": "a",
            "content_type": content_type, "size": 10, "status": status,
            "object_key": "workspaces/w/channels/c/f", "created_at": "2026-11-21T00:00:00Z",
        });
        if let Some(thumbnail) = thumbnail {
            item["thumbnail"] = Value::from(thumbnail);
        }
        serde_dynamo::to_item(item).unwrap()
    }

    fn change(
        kind: ChangeKind,
        old: Option<serde_dynamo::Item>,
        new: Option<serde_dynamo::Item>,
    ) -> Change {
        Change {
            id: "1".into(),
            kind,
            old,
            new,
            by_ttl: false,
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn only_an_image_turning_ready_asks_for_a_thumbnail() {
        let pending = |thumbnail| Some(image("pending", "image/png", thumbnail));
        let ready = |thumbnail| Some(image("ready", "image/png", thumbnail));
        let asking = change(
            ChangeKind::Modify,
            pending(Some("pending")),
            ready(Some("pending")),
        );
        assert!(requested(&asking).unwrap().is_some());

        let not_asking = [
            // Not an image.
            change(
                ChangeKind::Modify,
                Some(image("pending", "text/plain", None)),
                Some(image("ready", "text/plain", None)),
            ),
            // Already ready before (a thumbnail being recorded, say).
            change(
                ChangeKind::Modify,
                ready(Some("pending")),
                ready(Some("ready")),
            ),
            change(
                ChangeKind::Modify,
                ready(Some("pending")),
                ready(Some("pending")),
            ),
            // Created, or removed.
            change(ChangeKind::Insert, None, pending(Some("pending"))),
            change(ChangeKind::Remove, ready(Some("ready")), None),
        ];
        for change in not_asking {
            assert!(requested(&change).unwrap().is_none(), "{change:?}");
        }
    }

    #[test]
    fn thumbnails_are_keyed_beside_their_original() {
        assert_eq!(
            crate::files::storage::thumbnail_object_key("avatars/u/f"),
            "avatars/u/f.thumbnail.jpg"
        );
        assert_eq!(shape_for(FilePurpose::Avatar), AVATAR_THUMBNAIL);
        assert_eq!(shape_for(FilePurpose::Attachment), ATTACHMENT_THUMBNAIL);
    }
}
