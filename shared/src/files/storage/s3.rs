//! [`S3Storage`]: the bucket on S3 (the `s3` feature), as SigV4-signed HTTP requests.
//!
//! The bucket needs seven things of S3 (two presigned URLs, HEAD, copy, a bounded GET, PUT,
//! DELETE), each one plain REST request. They are made here with the SDK's own SigV4 crate
//! and S3's signing settings (single URI encoding, no path normalisation, the payload's
//! SHA-256 in `x-amz-content-sha256`) over [`crate::https::LazyClient`], rather than through
//! the SDK's S3 client, whose generated code and endpoint rules were about a megabyte of
//! each function that serves files. What the SDK's client did that matters here is kept:
//! its standard retries (3 attempts on a failed connection, a timeout, throttling or a
//! 5xx, with jittered exponential backoff), its addressing (virtual-hosted unless
//! `S3_FORCE_PATH_STYLE` or the bucket's name needs paths; `AWS_ENDPOINT_URL_S3` /
//! `AWS_ENDPOINT_URL` override the endpoint), the session token, and the call counter
//! (`crate::calls`). Locally the same code talks to s3s-fs, which checks every signature.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignatureLocation, SigningSettings,
    UriPathNormalizationMode,
};
use aws_types::SdkConfig;
use aws_types::service_config::ServiceConfigKey;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use percent_encoding::utf8_percent_encode;

use super::{ObjectInfo, ObjectRead, ObjectStore, UploadInstructions};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::https::LazyClient;

/// The service name S3 requests are signed for.
const SIGNING_NAME: &str = "s3";
/// Attempts per operation, as the SDK's standard retry mode makes.
pub const ATTEMPTS: u32 = 3;
/// The first retry waits this long plus up to half again, each next one twice as long
/// (`table::backoff_from`): about the SDK's standard retry, whose waits average half of 1 s,
/// 2 s, ...
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// One attempt's deadline, from connecting to the end of the answer's body (a read's body
/// is bounded by the caller's size limit).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of an error answer's body kept for the log.
const ERROR_BODY_MAX_BYTES: usize = 2048;

/// The bucket and how to reach and sign for it. Cheap to clone.
#[derive(Clone)]
pub struct S3Storage {
    bucket: String,
    /// `scheme://host[:port]` of the bucket, with `/{bucket}` for path-style addressing: an
    /// object's URL is this, `/`, and its encoded key.
    bucket_url: String,
    region: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
    count_calls: bool,
    /// Built on first use (it reads the trust roots), then shared by every clone.
    client: LazyClient,
}

impl std::fmt::Debug for S3Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Storage")
            .field("bucket", &self.bucket)
            .field("bucket_url", &self.bucket_url)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// The S3 endpoint override of the configuration (`AWS_ENDPOINT_URL_S3`, else
/// `AWS_ENDPOINT_URL`), as the SDK's S3 client would read it.
fn endpoint_override(sdk_config: &SdkConfig) -> Option<String> {
    let key = ServiceConfigKey::builder()
        .service_id("S3")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    sdk_config
        .service_config()
        .and_then(|config| config.load_config(key))
        .or_else(|| sdk_config.endpoint_url().map(str::to_owned))
}

/// S3's regional endpoint (the `aws-cn` partition's domain for China's regions).
fn regional_endpoint(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://s3.{region}.{domain}")
}

/// Whether a bucket can be addressed as a host name over TLS: lower-case letters, digits
/// and hyphens, 3 to 63 of them, a letter or digit at each end (no dots, which the
/// wildcard certificate does not cover).
fn is_virtual_hostable(bucket: &str) -> bool {
    let bytes = bucket.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// The bucket's URL (see [`S3Storage::bucket_url`]) on `endpoint`.
fn bucket_url(endpoint: &str, bucket: &str, path_style: bool) -> anyhow::Result<String> {
    let endpoint = endpoint.trim_end_matches('/');
    let uri: http::Uri = endpoint
        .parse()
        .with_context(|| format!("the S3 endpoint {endpoint}"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(anyhow!("the S3 endpoint {endpoint} is not an absolute URL"));
    };
    let path = uri.path().trim_end_matches('/');
    if path_style || !is_virtual_hostable(bucket) {
        Ok(format!("{scheme}://{authority}{path}/{bucket}"))
    } else {
        Ok(format!("{scheme}://{bucket}.{authority}{path}"))
    }
}

/// An object key as a URL path: each segment percent-encoded, `/` kept.
fn encode_key(key: &str) -> String {
    key.split('/')
        .map(|segment| utf8_percent_encode(segment, crate::sigv4::UNRESERVED).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// A query parameter's value, encoded as SigV4's canonical form expects (everything but
/// the unreserved characters, a space as `%20`).
fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, crate::sigv4::UNRESERVED).to_string()
}

/// S3's signing settings: the path encoded once and not normalised (keys are names, not
/// paths), and the payload's hash in `x-amz-content-sha256` on requests (not on URLs).
fn signing_settings(presigned_for: Option<Duration>) -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    match presigned_for {
        Some(ttl) => {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(ttl);
            settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
        }
        None => settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256,
    }
    settings
}

/// Signs `request` (its URI, its headers, and `body`) for S3 in `region` at `time`: a
/// signature in headers, or with `presigned_for`, in the URL's query.
pub fn sign_request<B>(
    request: &mut http::Request<B>,
    body: SignableBody<'_>,
    presigned_for: Option<Duration>,
    credentials: Credentials,
    region: &str,
    time: SystemTime,
) -> anyhow::Result<()> {
    crate::sigv4::sign_request(
        request,
        body,
        SIGNING_NAME,
        signing_settings(presigned_for),
        credentials,
        region,
        time,
    )
}

/// How one attempt went.
enum Attempt<T> {
    Done(T),
    /// Worth another attempt (a failed connection, no answer in time, throttling, a 5xx).
    Retryable(String),
    Failed(String),
}

/// The error codes the SDK's standard retry treats as throttling or transient whatever
/// their status (S3 answers a slow upload's `RequestTimeout` with a 400).
const RETRYABLE_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "InternalError",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
];

/// Whether S3 answered with something another attempt may fix.
fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// An answer that is not what the operation wanted: another attempt, or the end.
fn unexpected<T>(status: StatusCode, body: &[u8]) -> Attempt<T> {
    let reason = describe(status, body);
    if is_retryable(status) || error_code(body).is_some_and(|code| RETRYABLE_CODES.contains(&code))
    {
        Attempt::Retryable(reason)
    } else {
        Attempt::Failed(reason)
    }
}

/// The `<Code>` of S3's XML error body, if it has one.
fn error_code(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(&text[start..end])
}

/// What an answer other than the expected one says, for the log.
fn describe(status: StatusCode, body: &[u8]) -> String {
    match error_code(body) {
        Some(code) => format!("{status} {code}"),
        None => format!("{status}: {}", String::from_utf8_lossy(body)),
    }
}

/// Reads the start of an answer's body (the rest is dropped).
async fn body_start(response: http::Response<hyper::body::Incoming>) -> Bytes {
    Limited::new(response.into_body(), ERROR_BODY_MAX_BYTES)
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default()
}

/// One request to S3 about to be signed and sent.
struct S3Request {
    method: Method,
    url: String,
    headers: Vec<(header::HeaderName, String)>,
    body: Bytes,
}

impl S3Request {
    /// A request without headers of its own or a body.
    fn to(method: Method, url: String) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn body(self, body: Bytes) -> Self {
        Self { body, ..self }
    }
}

/// Reads the answer to a HEAD (which has no body): `found` on success, `None` for a 404.
fn head_answer<T>(
    response: &http::Response<hyper::body::Incoming>,
    found: impl FnOnce() -> T,
) -> Attempt<Option<T>> {
    match response.status() {
        status if status.is_success() => Attempt::Done(Some(found())),
        StatusCode::NOT_FOUND => Attempt::Done(None),
        status if is_retryable(status) => Attempt::Retryable(status.to_string()),
        status => Attempt::Failed(status.to_string()),
    }
}

impl S3Storage {
    /// The configured bucket (`BUCKET_NAME`), or `None` when there is none.
    pub fn new(sdk_config: &SdkConfig, config: &Config) -> anyhow::Result<Option<Self>> {
        config
            .bucket_name
            .clone()
            .map(|bucket| {
                Self::for_bucket(
                    sdk_config,
                    bucket,
                    config.s3_force_path_style,
                    config.count_aws_calls,
                )
            })
            .transpose()
    }

    /// `bucket` with the configuration's region, credentials and endpoint.
    pub fn for_bucket(
        sdk_config: &SdkConfig,
        bucket: String,
        path_style: bool,
        count_calls: bool,
    ) -> anyhow::Result<Self> {
        let region = sdk_config.region().map(|region| region.to_string());
        let endpoint = match endpoint_override(sdk_config) {
            Some(endpoint) => endpoint,
            None => regional_endpoint(
                region
                    .as_deref()
                    .ok_or_else(|| anyhow!("no region (AWS_REGION) for the S3 endpoint"))?,
            ),
        };
        if count_calls {
            crate::calls::enable();
        }
        Ok(Self {
            bucket_url: bucket_url(&endpoint, &bucket, path_style)?,
            bucket,
            region,
            credentials: sdk_config.credentials_provider(),
            count_calls,
            client: LazyClient::default(),
        })
    }

    /// An object's URL.
    pub fn object_url(&self, key: &str) -> String {
        format!("{}/{}", self.bucket_url, encode_key(key))
    }

    async fn credentials(&self) -> anyhow::Result<Credentials> {
        crate::sigv4::credentials(self.credentials.as_ref()).await
    }

    fn region(&self) -> anyhow::Result<&str> {
        crate::sigv4::region(self.region.as_deref())
    }

    /// `request` as an HTTP request with its host and its headers, not yet signed.
    fn build(&self, request: &S3Request) -> anyhow::Result<http::Request<Full<Bytes>>> {
        let mut built = http::Request::builder()
            .method(request.method.clone())
            .uri(&request.url);
        for (name, value) in &request.headers {
            built = built.header(name, value);
        }
        let mut built = built
            .body(Full::new(request.body.clone()))
            .context("building an S3 request")?;
        crate::sigv4::set_host(&mut built)?;
        Ok(built)
    }

    /// A URL for `request` that S3 accepts without credentials for `ttl`, with exactly
    /// `request`'s headers (they are part of its signature).
    async fn presign(&self, request: &S3Request, ttl: Duration) -> anyhow::Result<String> {
        let mut built = self.build(request)?;
        let credentials = self.credentials().await?;
        sign_request(
            &mut built,
            SignableBody::UnsignedPayload,
            Some(ttl),
            credentials,
            self.region()?,
            SystemTime::now(),
        )?;
        Ok(built.uri().to_string())
    }

    /// Sends `request` until S3 answers something final, up to [`ATTEMPTS`] times, and
    /// hands the answer to `read` (which may itself ask for a retry, e.g. when a copy's
    /// `200` carries an error). `operation` names the call in logs and in the call counter.
    async fn send<T, R, F>(
        &self,
        operation: &'static str,
        request: S3Request,
        read: R,
    ) -> ApiResult<T>
    where
        R: Fn(http::Response<hyper::body::Incoming>) -> F,
        F: Future<Output = Attempt<T>>,
    {
        let call = self
            .count_calls
            .then(|| crate::calls::record("s3", operation));
        let client = self.client.get().await.map_err(ApiError::internal)?;
        let mut failures = Vec::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(crate::table::backoff_from(FIRST_BACKOFF, attempt - 2)).await;
            }
            let signed = async {
                let mut built = self.build(&request)?;
                if request.method == Method::PUT {
                    built.headers_mut().insert(
                        header::CONTENT_LENGTH,
                        HeaderValue::from(request.body.len()),
                    );
                }
                let credentials = self.credentials().await?;
                sign_request(
                    &mut built,
                    SignableBody::Bytes(&request.body),
                    None,
                    credentials,
                    self.region()?,
                    SystemTime::now(),
                )?;
                Ok::<_, anyhow::Error>(built)
            };
            let signed = match signed.await {
                Ok(signed) => signed,
                Err(error) => {
                    return Err(ApiError::internal(
                        error.context(format!("S3 {operation} {}", request.url)),
                    ));
                }
            };
            let exchange = async {
                match client.request(signed).await {
                    Err(error) => Attempt::Retryable(format!("{error:#}")),
                    Ok(response) => {
                        if let Some(call) = &call {
                            call.transmitted();
                        }
                        read(response).await
                    }
                }
            };
            let outcome = tokio::time::timeout(ATTEMPT_TIMEOUT, exchange)
                .await
                .unwrap_or_else(|_| {
                    Attempt::Retryable(format!("no whole answer within {ATTEMPT_TIMEOUT:?}"))
                });
            match outcome {
                Attempt::Done(value) => return Ok(value),
                Attempt::Failed(reason) => failures.push(reason),
                Attempt::Retryable(reason) => {
                    tracing::warn!(operation, attempt, %reason, "S3 attempt failed");
                    failures.push(reason);
                    continue;
                }
            }
            break;
        }
        Err(ApiError::internal(anyhow!(
            "S3 {operation} {}: {}",
            request.url,
            failures.join("; ")
        )))
    }

    /// Creates the bucket if it is not there (the local stack's set-up; a deployment's
    /// bucket is the template's).
    pub async fn ensure_bucket(&self) -> ApiResult<bool> {
        let exists = self
            .send(
                "HeadBucket",
                S3Request::to(Method::HEAD, self.bucket_url.clone()),
                |response| async move { head_answer(&response, || ()) },
            )
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        self.send(
            "CreateBucket",
            S3Request::to(Method::PUT, self.bucket_url.clone()),
            expect_success,
        )
        .await?;
        Ok(true)
    }
}

/// Reads an answer that should be a plain success.
async fn expect_success(response: http::Response<hyper::body::Incoming>) -> Attempt<()> {
    let status = response.status();
    let body = body_start(response).await;
    if status.is_success() {
        Attempt::Done(())
    } else {
        unexpected(status, &body)
    }
}

/// A header's value as text, if it is there and is text.
fn header_text(
    response: &http::Response<hyper::body::Incoming>,
    name: header::HeaderName,
) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The `content-length` S3 declared, 0 if none.
fn content_length(response: &http::Response<hyper::body::Incoming>) -> u64 {
    header_text(response, header::CONTENT_LENGTH)
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
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
        let headers = BTreeMap::from([
            ("content-type".to_owned(), content_type.to_owned()),
            ("content-length".to_owned(), size.to_string()),
            ("content-disposition".to_owned(), disposition.to_owned()),
        ]);
        // The client sends the body: only the headers are signed.
        let request = S3Request::to(Method::PUT, self.object_url(key))
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_LENGTH, size.to_string())
            .header(header::CONTENT_DISPOSITION, disposition);
        let url = self
            .presign(&request, ttl)
            .await
            .map_err(ApiError::internal)?;
        Ok(UploadInstructions {
            method: Method::PUT.to_string(),
            url,
            headers,
        })
    }

    async fn presign_download(
        &self,
        key: &str,
        disposition: &str,
        ttl: Duration,
    ) -> ApiResult<String> {
        let url = format!(
            "{}?response-content-disposition={}",
            self.object_url(key),
            encode_query_value(disposition)
        );
        let request = S3Request::to(Method::GET, url);
        self.presign(&request, ttl)
            .await
            .map_err(ApiError::internal)
    }

    async fn head(&self, key: &str) -> ApiResult<Option<ObjectInfo>> {
        let request = S3Request::to(Method::HEAD, self.object_url(key));
        self.send("HeadObject", request, |response| async move {
            head_answer(&response, || ObjectInfo {
                size: content_length(&response),
                content_type: header_text(&response, header::CONTENT_TYPE),
            })
        })
        .await
    }

    async fn copy(&self, from: &str, to: &str) -> ApiResult<bool> {
        let request = S3Request::to(Method::PUT, self.object_url(to)).header(
            header::HeaderName::from_static("x-amz-copy-source"),
            format!("{}/{}", self.bucket, encode_key(from)),
        );
        self.send("CopyObject", request, |response| async move {
            let status = response.status();
            let body = body_start(response).await;
            match error_code(&body) {
                // S3 may answer a copy with 200 and an error in the body.
                Some("NoSuchKey") => Attempt::Done(false),
                None if status.is_success() => Attempt::Done(true),
                _ if status == StatusCode::NOT_FOUND => Attempt::Done(false),
                // Any other error inside a 200 is one S3 met while copying.
                _ if status.is_success() => Attempt::Retryable(describe(status, &body)),
                _ => unexpected(status, &body),
            }
        })
        .await
    }

    async fn read_limited(&self, key: &str, max_bytes: u64) -> ApiResult<ObjectRead> {
        let request = S3Request::to(Method::GET, self.object_url(key));
        self.send("GetObject", request, |response| async move {
            let status = response.status();
            if status == StatusCode::NOT_FOUND {
                return Attempt::Done(ObjectRead::Missing);
            }
            if !status.is_success() {
                return unexpected(status, &body_start(response).await);
            }
            let declared = content_length(&response);
            if declared > max_bytes {
                return Attempt::Done(ObjectRead::TooLarge);
            }
            let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                let frame = match frame {
                    Ok(frame) => frame,
                    Err(error) => return Attempt::Retryable(format!("reading the body: {error}")),
                };
                if let Ok(chunk) = frame.into_data() {
                    if (bytes.len() + chunk.len()) as u64 > max_bytes {
                        return Attempt::Done(ObjectRead::TooLarge);
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
            Attempt::Done(ObjectRead::Found(bytes))
        })
        .await
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> ApiResult<()> {
        let request = S3Request::to(Method::PUT, self.object_url(key))
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_DISPOSITION, "inline")
            .body(Bytes::from(bytes));
        self.send("PutObject", request, expect_success).await
    }

    async fn delete(&self, key: &str) -> ApiResult<()> {
        let request = S3Request::to(Method::DELETE, self.object_url(key));
        // A missing object is fine (S3 answers 204 anyway; a copy of it may not).
        self.send("DeleteObject", request, |response| async move {
            if response.status() == StatusCode::NOT_FOUND {
                return Attempt::Done(());
            }
            expect_success(response).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_virtual_hosted_unless_told_or_unable() {
        assert_eq!(
            bucket_url(
                "https://s3.eu-west-1.amazonaws.com",
                "huddle-files-1",
                false
            )
            .unwrap(),
            "https://huddle-files-1.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            bucket_url("http://127.0.0.1:9000/", "files", true).unwrap(),
            "http://127.0.0.1:9000/files"
        );
        assert_eq!(
            bucket_url("https://s3.eu-west-1.amazonaws.com", "my.bucket", false).unwrap(),
            "https://s3.eu-west-1.amazonaws.com/my.bucket",
            "a dotted name is not covered by the wildcard certificate"
        );
        assert!(bucket_url("s3.amazonaws.com", "files", false).is_err());
        assert_eq!(
            regional_endpoint("us-east-1"),
            "https://s3.us-east-1.amazonaws.com"
        );
        assert_eq!(
            regional_endpoint("cn-north-1"),
            "https://s3.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn keys_and_query_values_are_encoded_as_sigv4_expects() {
        assert_eq!(
            encode_key("workspaces/W1/channels/C 1/é+x"),
            "workspaces/W1/channels/C%201/%C3%A9%2Bx"
        );
        assert_eq!(
            encode_query_value("attachment; filename=\"a b\"; filename*=UTF-8''a%20b"),
            "attachment%3B%20filename%3D%22a%20b%22%3B%20filename%2A%3DUTF-8%27%27a%2520b"
        );
    }

    #[test]
    fn error_codes_are_read_from_s3_error_bodies() {
        let body =
            b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message></Error>";
        assert_eq!(error_code(body), Some("NoSuchKey"));
        assert_eq!(error_code(b"<CopyObjectResult/>"), None);
        assert_eq!(
            describe(
                StatusCode::SERVICE_UNAVAILABLE,
                b"<Error><Code>SlowDown</Code></Error>"
            ),
            "503 Service Unavailable SlowDown"
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_only_transient_answers_are_retried() {
        for attempt in 0..2 {
            let wait = crate::table::backoff_from(FIRST_BACKOFF, attempt);
            let base = FIRST_BACKOFF * (1 << attempt);
            assert!(wait >= base && wait <= base.mul_f64(1.5), "{wait:?}");
        }
        let retried = |status: u16, body: &[u8]| {
            matches!(
                unexpected::<()>(StatusCode::from_u16(status).unwrap(), body),
                Attempt::Retryable(_)
            )
        };
        assert!(retried(429, b""));
        assert!(retried(503, b"<Error><Code>SlowDown</Code></Error>"));
        assert!(retried(400, b"<Error><Code>RequestTimeout</Code></Error>"));
        assert!(!retried(
            400,
            b"<Error><Code>InvalidArgument</Code></Error>"
        ));
        assert!(!retried(403, b"<Error><Code>AccessDenied</Code></Error>"));
    }

    #[test]
    fn presigned_urls_carry_the_signature_and_sign_the_given_headers() {
        let mut request = http::Request::put("http://127.0.0.1:9000/files/pending/F1")
            .header(header::HOST, "127.0.0.1:9000")
            .header(header::CONTENT_TYPE, "text/plain")
            .header(header::CONTENT_LENGTH, "11")
            .body(())
            .unwrap();
        let credentials = Credentials::new("AKID", "SECRET", Some("TOKEN".into()), None, "test");
        sign_request(
            &mut request,
            SignableBody::UnsignedPayload,
            Some(Duration::from_secs(600)),
            credentials,
            "us-east-1",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )
        .unwrap();
        let url = request.uri().to_string();
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKID%2F20231114%2Fus-east-1%2Fs3%2Faws4_request",
            "X-Amz-Expires=600",
            "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost",
            "X-Amz-Security-Token=TOKEN",
            "X-Amz-Signature=",
        ] {
            assert!(url.contains(part), "{part} in {url}");
        }
        assert!(request.headers().get(header::AUTHORIZATION).is_none());
    }
}
