//! SigV4 signing for the AWS requests Huddle makes without an SDK client (the file
//! bucket's S3 requests, posts to WebSocket connections): the SDK's own signing crate,
//! given each service's name and settings, and the credentials from the SDK's
//! configuration.

use std::time::SystemTime;

use anyhow::{Context, anyhow};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// What a path segment or query value keeps unencoded in a signed request: RFC 3986's
/// unreserved characters (SigV4's canonical form, and the SDK's encoding of a path label).
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Signs `request` (its method, URI and headers, and `body`) for `service` in `region` at
/// `time`, with `settings`; the signature goes where `settings` say (headers or query).
pub fn sign_request<B>(
    request: &mut http::Request<B>,
    body: SignableBody<'_>,
    service: &str,
    settings: SigningSettings,
    credentials: Credentials,
    region: &str,
    time: SystemTime,
) -> anyhow::Result<()> {
    let identity: Identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .with_context(|| format!("{service} signing parameters"))?
        .into();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            value
                .to_str()
                .map(|value| (name.as_str(), value))
                .with_context(|| format!("the header {name} is not text"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(request.method().as_str(), &uri, headers.into_iter(), body)
        .context("an unsignable request")?;
    let (instructions, _signature) = sign(signable, &params)
        .with_context(|| format!("signing a {service} request"))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// Sets `request`'s `Host` header from its URI (SigV4 signs the host, so it is there
/// before signing, exactly as it will be sent).
pub fn set_host<B>(request: &mut http::Request<B>) -> anyhow::Result<()> {
    let host = request
        .uri()
        .authority()
        .ok_or_else(|| anyhow!("{} has no host", request.uri()))?
        .as_str()
        .parse::<http::HeaderValue>()
        .context("the request's host")?;
    request.headers_mut().insert(http::header::HOST, host);
    Ok(())
}

/// The current credentials from the configuration's provider (cached by the provider).
pub async fn credentials(
    provider: Option<&SharedCredentialsProvider>,
) -> anyhow::Result<Credentials> {
    provider
        .ok_or_else(|| anyhow!("no credentials in the environment"))?
        .provide_credentials()
        .await
        .map_err(|error| anyhow!("no credentials: {error}"))
}

/// The region to sign for.
pub fn region(region: Option<&str>) -> anyhow::Result<&str> {
    region.ok_or_else(|| anyhow!("no region (AWS_REGION) to sign for"))
}
