//! [`ManagementPoster`]: posts to WebSocket connections through API Gateway's management
//! API, `POST {endpoint}/@connections/{connection id}` signed with SigV4 for `execute-api`.
//! The local gateway serves the same API at `/@connections/{id}`, so this code is the same
//! locally and deployed.
//!
//! One post is one signed HTTP request over [`crate::https::LazyClient`], made here rather than
//! through the SDK's `post_to_connection`: a fan-out posts a thousand times for one message,
//! and a profile of the broadcaster showed the SDK's per-request machinery (its
//! orchestrator, configuration layers and interceptors) costing more CPU than signing and
//! sending the request together. The signature is [`HeaderSigner`]'s: SigV4 with the SDK's
//! settings for this API, without the general signer's per-request cost, and the day's
//! signing key kept; `tests/management_poster.rs` checks it is the SDK client's, byte for
//! byte. What the SDK's standard retry mode did is kept: up to [`ATTEMPTS`] attempts on
//! throttling (429), a 5xx, a failed connection or no answer within [`ATTEMPT_TIMEOUT`],
//! with jittered exponential backoff from [`FIRST_BACKOFF`] (shorter than the SDK's 1 s: a
//! live frame that late is worth little, and clients catch up over HTTP). A connection that
//! answers 410 is gone.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::SdkConfig;
use bytes::Bytes;
use http::{StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use percent_encoding::utf8_percent_encode;
use tokio::sync::Semaphore;

use super::{PostOutcome, Poster};
use crate::AppState;
use crate::https::LazyClient;
use crate::sigv4::HeaderSigner;

/// The service name API Gateway's management API is signed for.
const SIGNING_NAME: &str = "execute-api";
/// Attempts per post, as the SDK's standard retry mode makes.
pub const ATTEMPTS: u32 = 3;
/// The first retry waits about this long, each next one about twice as long.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// One attempt's deadline, connection included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an error answer's body kept for the log.
const ERROR_BODY_MAX_BYTES: usize = 1024;

/// The management API of one stage, `https://{api}.execute-api.{region}.amazonaws.com/{stage}`
/// (or the local gateway's address). Clones share one client and one bound on the posts
/// in flight.
#[derive(Clone)]
pub struct ManagementPoster {
    /// The endpoint without a trailing `/`.
    endpoint: String,
    region: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
    /// Shared by every clone, with the signing key it keeps.
    signer: Arc<HeaderSigner>,
    /// Built on first post (it reads the trust roots), then shared by every clone.
    client: LazyClient,
    /// Posts in flight at once over every clone and every event, when bounded: a stream
    /// batch broadcasts several partitions at once, each with its own audience, and their
    /// posts together stay within this.
    in_flight: Option<Arc<Semaphore>>,
}

impl std::fmt::Debug for ManagementPoster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagementPoster")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl ManagementPoster {
    /// A poster for `endpoint`, signing with the configuration's region and credentials,
    /// with no bound of its own on posts in flight.
    pub fn new(sdk_config: &SdkConfig, endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region: sdk_config.region().map(|region| region.to_string()),
            credentials: sdk_config.credentials_provider(),
            signer: Arc::new(HeaderSigner::new(SIGNING_NAME)),
            client: LazyClient::default(),
            in_flight: None,
        }
    }

    /// The same poster with at most `posts` in flight at once (at least one).
    pub fn with_in_flight_limit(self, posts: usize) -> Self {
        let posts = posts.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            in_flight: Some(Arc::new(Semaphore::new(posts))),
            ..self
        }
    }

    /// The address a post to `connection_id` goes to, the id encoded as the SDK encodes a
    /// path label (everything but the unreserved characters: ids end in `=`, which must
    /// reach the signature as `%3D`).
    pub fn connection_url(&self, connection_id: &str) -> String {
        format!(
            "{}/@connections/{}",
            self.endpoint,
            utf8_percent_encode(connection_id, crate::sigv4::UNRESERVED)
        )
    }

    /// The request posting `payload` to `connection_id`, signed with `credentials` at
    /// `time` ([`Self::sign`]).
    pub fn signed_request(
        &self,
        connection_id: &str,
        payload: Bytes,
        credentials: Credentials,
        time: SystemTime,
    ) -> anyhow::Result<http::Request<Full<Bytes>>> {
        let mut request = http::Request::post(self.connection_url(connection_id))
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, payload.len())
            .body(Full::new(payload.clone()))
            .context("building the request")?;
        crate::sigv4::set_host(&mut request)?;
        self.sign(&mut request, &payload, credentials, time)?;
        Ok(request)
    }

    /// Signs `request` (its method, URI and headers, and `body`) for the management API as
    /// the SDK's client signs: its default settings for this service (the path encoded
    /// twice, no payload-hash header, the session token signed).
    pub fn sign<B>(
        &self,
        request: &mut http::Request<B>,
        body: &[u8],
        credentials: Credentials,
        time: SystemTime,
    ) -> anyhow::Result<()> {
        let region = crate::sigv4::region(self.region.as_deref())?;
        self.signer.sign(request, body, &credentials, region, time)
    }

    /// One attempt: delivered, gone, or why not (and whether another attempt may do better).
    async fn attempt(&self, connection_id: &str, payload: &Bytes) -> Attempt {
        let request = async {
            let client = self.client.get().await?;
            let credentials = crate::sigv4::credentials(self.credentials.as_ref()).await?;
            let request = self.signed_request(
                connection_id,
                payload.clone(),
                credentials,
                SystemTime::now(),
            )?;
            Ok::<_, anyhow::Error>((client, request))
        };
        let (client, request) = match request.await {
            Ok(ready) => ready,
            Err(error) => return Attempt::Failed(format!("{error:#}")),
        };
        let exchange = async {
            let response = client.request(request).await?;
            let status = response.status();
            // Read to the end, so the connection goes back to the pool.
            let body = Limited::new(response.into_body(), ERROR_BODY_MAX_BYTES)
                .collect()
                .await
                .map(|body| body.to_bytes())
                .unwrap_or_default();
            Ok::<_, hyper_util::client::legacy::Error>((status, body))
        };
        match tokio::time::timeout(ATTEMPT_TIMEOUT, exchange).await {
            Err(_) => Attempt::Retryable(format!("no answer within {ATTEMPT_TIMEOUT:?}")),
            Ok(Err(error)) => Attempt::Retryable(format!("{error:#}")),
            Ok(Ok((status, _))) if status.is_success() => Attempt::Delivered,
            Ok(Ok((StatusCode::GONE, _))) => Attempt::Gone,
            Ok(Ok((status, body))) => {
                let reason = format!("{status}: {}", String::from_utf8_lossy(&body));
                if is_retryable(status) {
                    Attempt::Retryable(reason)
                } else {
                    Attempt::Failed(reason)
                }
            }
        }
    }
}

/// How one attempt ended.
enum Attempt {
    Delivered,
    Gone,
    /// Worth another attempt (throttled, a server error, no connection or no answer).
    Retryable(String),
    Failed(String),
}

/// The answers the SDK's standard retry mode retries: throttling and transient server
/// errors.
fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

impl Poster for ManagementPoster {
    async fn post(&self, connection_id: &str, payload: Vec<u8>) -> PostOutcome {
        // The semaphore is never closed, so a permit always comes.
        let _permit = match &self.in_flight {
            Some(in_flight) => in_flight.acquire().await.ok(),
            None => None,
        };
        let payload = Bytes::from(payload);
        let mut failures = Vec::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(crate::table::backoff_from(FIRST_BACKOFF, attempt - 2)).await;
            }
            match self.attempt(connection_id, &payload).await {
                Attempt::Delivered => return PostOutcome::Delivered,
                Attempt::Gone => return PostOutcome::Gone,
                Attempt::Failed(reason) => {
                    failures.push(reason);
                    break;
                }
                Attempt::Retryable(reason) => {
                    tracing::debug!(connection = connection_id, attempt, %reason, "post to connection will be retried");
                    failures.push(reason);
                }
            }
        }
        PostOutcome::Failed(failures.join("; "))
    }
}

impl AppState {
    /// [`AppState::cold_start`] for functions that post to WebSocket connections.
    pub fn cold_start_with_poster() -> anyhow::Result<(Self, ManagementPoster)> {
        let (state, sdk_config) = Self::cold_start_with_aws()?;
        let poster = state.poster(&sdk_config)?;
        Ok((state, poster))
    }

    /// The poster for WebSocket connections, from the configured management endpoint, with
    /// at most `WEBSOCKET_POST_CONCURRENCY` posts in flight in this process.
    pub fn poster(&self, sdk_config: &SdkConfig) -> anyhow::Result<ManagementPoster> {
        let endpoint = self.config.require_websocket_endpoint()?;
        Ok(ManagementPoster::new(sdk_config, endpoint)
            .with_in_flight_limit(self.config.websocket_post_concurrency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poster(endpoint: &str) -> ManagementPoster {
        let config = crate::aws::sdk_config_from([
            ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
            ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDEXAMPLE".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "secret".to_owned()),
        ]);
        ManagementPoster::new(&config, endpoint)
    }

    #[test]
    fn connection_ids_are_encoded_as_a_path_label() {
        let poster = poster("https://abc.execute-api.eu-west-1.amazonaws.com/prod/");
        assert_eq!(
            poster.connection_url("L0SM9cOFvHcCIhw="),
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/@connections/L0SM9cOFvHcCIhw%3D"
        );
        assert_eq!(
            poster.connection_url("a/b c"),
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/@connections/a%2Fb%20c"
        );
    }

    #[test]
    fn a_signed_post_names_its_scope_and_signed_headers() {
        let poster = poster("http://127.0.0.1:3000");
        let credentials =
            Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "test");
        let request = poster
            .signed_request(
                "id=",
                Bytes::from_static(b"{}"),
                credentials,
                SystemTime::UNIX_EPOCH,
            )
            .expect("signed");
        let header = |name: &str| request.headers()[name].to_str().expect("text").to_owned();
        let authorization = header("authorization");
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/19700101/eu-west-1/execute-api/aws4_request, \
                 SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token, Signature="
            ),
            "{authorization}"
        );
        assert_eq!(header("host"), "127.0.0.1:3000");
        assert_eq!(header("x-amz-security-token"), "token");
        assert_eq!(header("x-amz-date"), "19700101T000000Z");
    }

    #[test]
    fn only_throttling_and_server_errors_are_retried() {
        for status in [429, 500, 502, 503, 504] {
            assert!(is_retryable(StatusCode::from_u16(status).expect("status")));
        }
        for status in [400, 403, 404, 410, 413, 501] {
            assert!(!is_retryable(StatusCode::from_u16(status).expect("status")));
        }
    }
}
