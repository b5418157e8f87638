//! The plain HTTPS client for the requests Huddle makes outside the AWS SDK (an identity
//! provider's key set, the file bucket's S3 requests): hyper over rustls on ring with the
//! system's trust roots, the pieces the SDK's own client is made of, so no new crate. Plain
//! http is allowed too, for this machine's local stack; callers decide which URLs they accept.

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// The connect timeout the SDK's clients use too (`aws_config::defaults`' value).
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// How long an idle pooled connection is kept (the SDK's client's value).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The client's type. Every caller sends `Full` bodies (an empty one for a GET), so the
/// client's code is in each binary once.
pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A pooled HTTP/1.1 client. Reads the trust roots, so build it on first use rather than at
/// cold start.
pub fn client() -> anyhow::Result<HttpsClient> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_nodelay(true);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
        .context("loading the system's trust roots")?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    // As the SDK's own client: a pool timer, and idle connections kept for 90 s.
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build(connector))
}
