//! The file bucket: presigned uploads whose signature binds the exact length and type,
//! object checks, copies, deletes, and presigned downloads. Object keys are generated here,
//! never taken from a client.
//!
//! The rules see the bucket as an [`ObjectStore`]; its one implementation is S3's
//! ([`s3`], the `s3` feature), so only the functions that serve files (files, messages,
//! thumbnails) link the S3 requests. In the others [`configured`] finds no bucket, and a
//! route that needs one would answer 503 (none of theirs does).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_types::SdkConfig;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::{Object, ObjectBuilder, Type};

use crate::config::Config;
use crate::error::ApiResult;

/// How a client uploads: a PUT to `url` with exactly these headers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadInstructions {
    /// Always `PUT` (a presigned PutObject).
    #[schema(schema_with = put_method_schema)]
    pub method: String,
    /// The presigned URL, valid until the ticket's `expires_at`.
    pub url: String,
    /// The headers to send, exactly as given: the signature binds the declared length,
    /// type and disposition, so S3 refuses any other upload.
    #[schema(schema_with = upload_headers_schema)]
    pub headers: BTreeMap<String, String>,
}

/// `"PUT"`, the one method of presigned uploads.
fn put_method_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["PUT"]))
        .build()
}

/// The upload headers: always `content-type`, `content-length` and `content-disposition`
/// (lower-case names, string values), and any others the signature needs.
fn upload_headers_schema() -> Object {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("content-type", string())
        .property("content-length", string().pattern(Some("^[1-9][0-9]*$")))
        .property("content-disposition", string())
        .required("content-type")
        .required("content-length")
        .required("content-disposition")
        .additional_properties(Some(string()))
        .build()
}

/// What S3 has for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: Option<String>,
}

/// Where an upload waits until it is completed (a lifecycle rule expires this prefix).
pub fn pending_object_key(file_id: &str) -> String {
    format!("pending/{file_id}")
}

/// A channel attachment, scoped by workspace and channel.
pub fn attachment_object_key(workspace_id: &str, channel_id: &str, file_id: &str) -> String {
    format!("workspaces/{workspace_id}/channels/{channel_id}/{file_id}")
}

/// A user's avatar.
pub fn avatar_object_key(user_id: &str, file_id: &str) -> String {
    format!("avatars/{user_id}/{file_id}")
}

/// The end of every thumbnail's key: originals (keyed by file id alone) never end so, which
/// lets the thumbnails function's policy write these keys and no others.
pub const THUMBNAIL_KEY_SUFFIX: &str = ".thumbnail.jpg";

/// A file's thumbnail (an avatar's square version), beside its object.
pub fn thumbnail_object_key(object_key: &str) -> String {
    format!("{object_key}{THUMBNAIL_KEY_SUFFIX}")
}

/// What reading an object with a size limit found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRead {
    Found(Vec<u8>),
    /// There is no such object.
    Missing,
    /// The object is longer than the limit (nothing past it was read).
    TooLarge,
}

/// `attachment; filename="…"` with the name made safe for a header (RFC 6266: an ASCII
/// fallback plus the UTF-8 name percent-encoded).
pub fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// What the file rules need of the bucket.
#[async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// A presigned PUT that the bucket accepts only with this exact length, type and
    /// disposition.
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        disposition: &str,
        ttl: Duration,
    ) -> ApiResult<UploadInstructions>;

    /// A presigned GET, valid for `ttl`.
    async fn presign_download(
        &self,
        key: &str,
        disposition: &str,
        ttl: Duration,
    ) -> ApiResult<String>;

    /// The object's size and type; `None` if there is no such object.
    async fn head(&self, key: &str) -> ApiResult<Option<ObjectInfo>>;

    /// Copies an object server-side, keeping its type and disposition. `false` if there is
    /// no object at `from` (a concurrent completion may have moved it).
    async fn copy(&self, from: &str, to: &str) -> ApiResult<bool>;

    /// The object's bytes, if it has at most `max_bytes`: a longer one is refused from its
    /// length, or as soon as the body passes the limit, never read whole.
    async fn read_limited(&self, key: &str, max_bytes: u64) -> ApiResult<ObjectRead>;

    /// Writes an object (replacing any at `key`), served inline with this type.
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> ApiResult<()>;

    /// Deletes an object (a missing one is fine).
    async fn delete(&self, key: &str) -> ApiResult<()>;
}

/// The bucket and its client. Cheap to clone.
pub type Storage = Arc<dyn ObjectStore>;

#[cfg(feature = "s3")]
pub mod s3;

/// The deployment's bucket: S3's, when one is configured (`BUCKET_NAME`); an error when its
/// endpoint cannot be made out (no region and no endpoint override, or a malformed one).
#[cfg(feature = "s3")]
pub fn configured(sdk_config: &SdkConfig, config: &Config) -> anyhow::Result<Option<Storage>> {
    let storage = s3::S3Storage::new(sdk_config, config)?;
    Ok(storage.map(|storage| Arc::new(storage) as Storage))
}

/// Built without the `s3` feature: this function links no bucket client, so it has none.
#[cfg(not(feature = "s3"))]
pub fn configured(_sdk_config: &SdkConfig, _config: &Config) -> anyhow::Result<Option<Storage>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_are_header_safe() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        let tricky = content_disposition("a\"b\r\nc é.txt");
        assert!(!tricky.contains('\r') && !tricky.contains('\n'));
        assert!(tricky.contains("filename=\"a_b__c _.txt\""));
        assert!(tricky.contains("%C3%A9"));
    }
}
