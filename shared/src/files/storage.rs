//! S3 access for files: presigned uploads whose signature binds the exact length and type,
//! object checks, copies, deletes, and presigned downloads. Object keys are generated here,
//! never taken from a client.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::{Object, ObjectBuilder, Type};

use crate::config::Config;
use crate::error::{ApiError, ApiResult};

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

/// The bucket and its client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Storage {
    client: aws_sdk_s3::Client,
    bucket: String,
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

fn s3_error<E>(operation: &str, error: aws_sdk_s3::error::SdkError<E>) -> ApiError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    ApiError::internal(anyhow::anyhow!(
        "{operation}: {}",
        aws_sdk_s3::error::DisplayErrorContext(error)
    ))
}

fn presigning(ttl: Duration) -> ApiResult<PresigningConfig> {
    PresigningConfig::expires_in(ttl).map_err(ApiError::internal)
}

impl Storage {
    pub fn new(sdk_config: &aws_config::SdkConfig, config: &Config) -> Option<Self> {
        let bucket = config.bucket_name.clone()?;
        let mut s3_config = aws_sdk_s3::config::Builder::from(sdk_config)
            .force_path_style(config.s3_force_path_style);
        if let Some(counter) = crate::calls::counter(config.count_aws_calls, "s3") {
            s3_config = s3_config.interceptor(counter);
        }
        Some(Self {
            client: aws_sdk_s3::Client::from_conf(s3_config.build()),
            bucket,
        })
    }

    /// A presigned PUT that S3 accepts only with this exact length, type and disposition.
    pub async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        disposition: &str,
        ttl: Duration,
    ) -> ApiResult<UploadInstructions> {
        let length = i64::try_from(size).map_err(ApiError::internal)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .content_disposition(disposition)
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| s3_error("presigning PutObject", e))?;
        let mut headers: BTreeMap<String, String> = request
            .headers()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        headers.insert("content-type".into(), content_type.to_owned());
        headers.insert("content-length".into(), size.to_string());
        headers.insert("content-disposition".into(), disposition.to_owned());
        Ok(UploadInstructions {
            method: request.method().to_owned(),
            url: request.uri().to_owned(),
            headers,
        })
    }

    /// A presigned GET, valid for `ttl`.
    pub async fn presign_download(
        &self,
        key: &str,
        disposition: &str,
        ttl: Duration,
    ) -> ApiResult<String> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(disposition)
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| s3_error("presigning GetObject", e))?;
        Ok(request.uri().to_owned())
    }

    /// The object's size and type; `None` if there is no such object.
    pub async fn head(&self, key: &str) -> ApiResult<Option<ObjectInfo>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => Ok(Some(ObjectInfo {
                size: output
                    .content_length
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: output.content_type,
            })),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error)
                if error
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 404) =>
            {
                Ok(None)
            }
            Err(error) => Err(s3_error("HeadObject", error)),
        }
    }

    /// Copies an object server-side, keeping its type and disposition. `false` if there is
    /// no object at `from` (a concurrent completion may have moved it).
    pub async fn copy(&self, from: &str, to: &str) -> ApiResult<bool> {
        match self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(format!("{}/{from}", self.bucket))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(error)
                if error.as_service_error().and_then(|e| e.code()) == Some("NoSuchKey")
                    || error
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 404) =>
            {
                Ok(false)
            }
            Err(error) => Err(s3_error("CopyObject", error)),
        }
    }

    /// The object's bytes, if it has at most `max_bytes`: a longer one is refused from its
    /// length, or as soon as the body passes the limit, never read whole.
    pub async fn read_limited(&self, key: &str, max_bytes: u64) -> ApiResult<ObjectRead> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(error)
                if error.as_service_error().is_some_and(|e| e.is_no_such_key())
                    || error
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 404) =>
            {
                return Ok(ObjectRead::Missing);
            }
            Err(error) => return Err(s3_error("GetObject", error)),
        };
        let declared = output
            .content_length
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        if declared > max_bytes {
            return Ok(ObjectRead::TooLarge);
        }
        let capacity = usize::try_from(declared).unwrap_or(0);
        let mut bytes = Vec::with_capacity(capacity);
        let mut body = output.body;
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("reading {key}: {e}")))?
        {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Ok(ObjectRead::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(ObjectRead::Found(bytes))
    }

    /// Writes an object (replacing any at `key`), served inline with this type.
    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> ApiResult<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_disposition("inline")
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| s3_error("PutObject", e))?;
        Ok(())
    }

    /// Deletes an object (a missing one is fine).
    pub async fn delete(&self, key: &str) -> ApiResult<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_error("DeleteObject", e))?;
        Ok(())
    }
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
