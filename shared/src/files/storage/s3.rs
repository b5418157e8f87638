//! [`S3Storage`]: the bucket on S3 (the `s3` feature).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_types::SdkConfig;

use super::{ObjectInfo, ObjectRead, ObjectStore, UploadInstructions};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};

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

/// The bucket and its S3 client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct S3Storage {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Storage {
    /// The configured bucket (`BUCKET_NAME`), or `None` when there is none.
    pub fn new(sdk_config: &SdkConfig, config: &Config) -> Option<Self> {
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
}

#[async_trait]
impl ObjectStore for S3Storage {
    async fn presign_upload(
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

    async fn presign_download(
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

    async fn head(&self, key: &str) -> ApiResult<Option<ObjectInfo>> {
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

    async fn copy(&self, from: &str, to: &str) -> ApiResult<bool> {
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

    async fn read_limited(&self, key: &str, max_bytes: u64) -> ApiResult<ObjectRead> {
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

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> ApiResult<()> {
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

    async fn delete(&self, key: &str) -> ApiResult<()> {
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
