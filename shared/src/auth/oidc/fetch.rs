//! Fetching the provider's documents, the discovery document (for its `jwks_uri`) and the
//! key set, with [`crate::https::LazyClient`] (hyper over rustls on ring with the system's trust
//! roots). Each request has a deadline and a size bound and follows
//! no redirect; plain http is only for this machine (see
//! [`crate::config::is_acceptable_key_url`]). The client is built on first use, so a cold
//! start neither reads the trust roots nor touches the network.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::auth::oidc::signing_keys::KeySource;
use crate::config::{OidcConfig, is_acceptable_key_url};
use crate::https::LazyClient;

/// How long one request to the provider may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(4);
/// The largest document accepted (real key sets are a few KiB).
pub const DOCUMENT_MAX_BYTES: usize = 256 * 1024;

/// The key set of the configured provider, over HTTP.
pub struct HttpKeySource {
    issuer: String,
    /// `OIDC_JWKS_URL`, else found through discovery (once per process).
    jwks_url: OnceCell<String>,
    client: LazyClient,
}

impl HttpKeySource {
    pub fn new(config: &OidcConfig) -> Self {
        Self {
            issuer: config.issuer.clone(),
            jwks_url: match &config.jwks_url {
                Some(url) => OnceCell::new_with(Some(url.clone())),
                None => OnceCell::new(),
            },
            client: LazyClient::default(),
        }
    }

    /// GETs `url` and parses its body as JSON.
    async fn get_json(&self, url: &str) -> anyhow::Result<Value> {
        if !is_acceptable_key_url(url) {
            bail!("refusing to fetch {url}: not https");
        }
        let client = self.client.get().await?;
        let uri: http::Uri = url.parse().with_context(|| format!("parsing {url}"))?;
        let fetch = async {
            let response = client
                .get(uri)
                .await
                .with_context(|| format!("fetching {url}"))?;
            if response.status() != http::StatusCode::OK {
                bail!("{url} answered {}", response.status());
            }
            let body = Limited::new(response.into_body(), DOCUMENT_MAX_BYTES)
                .collect()
                .await
                .map_err(|e| anyhow!("reading {url}: {e}"))?
                .to_bytes();
            serde_json::from_slice(&body).with_context(|| format!("{url} is not JSON"))
        };
        tokio::time::timeout(FETCH_TIMEOUT, fetch)
            .await
            .map_err(|_| anyhow!("{url} did not answer within {FETCH_TIMEOUT:?}"))?
    }

    /// The `jwks_uri` of the issuer's discovery document, which must name the same issuer.
    async fn discover(&self) -> anyhow::Result<String> {
        let url = discovery_url(&self.issuer);
        let document = self.get_json(&url).await?;
        jwks_uri_of(&document, &self.issuer).with_context(|| format!("discovery at {url}"))
    }
}

impl KeySource for HttpKeySource {
    async fn fetch(&self) -> anyhow::Result<Value> {
        let url = self.jwks_url.get_or_try_init(|| self.discover()).await?;
        self.get_json(url).await
    }
}

/// Where an issuer's discovery document is (OpenID Connect Discovery 1.0, section 4).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// The key set's address from a discovery document, refusing one that names another
/// issuer (a mix-up) or points at a key set over plain http.
pub fn jwks_uri_of(document: &Value, issuer: &str) -> anyhow::Result<String> {
    let named = document.get("issuer").and_then(Value::as_str);
    if named != Some(issuer) {
        bail!("the document names issuer {named:?}, not {issuer:?}");
    }
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("the document has no jwks_uri"))?;
    if !is_acceptable_key_url(jwks_uri) {
        bail!("jwks_uri {jwks_uri} is not https");
    }
    Ok(jwks_uri.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn discovery_names_the_key_set_of_the_same_issuer() {
        assert_eq!(
            discovery_url("https://tenant.auth0.com/"),
            "https://tenant.auth0.com/.well-known/openid-configuration"
        );
        let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc";
        assert_eq!(
            discovery_url(issuer),
            format!("{issuer}/.well-known/openid-configuration")
        );
        let jwks = format!("{issuer}/.well-known/jwks.json");
        assert_eq!(
            jwks_uri_of(&json!({"issuer": issuer, "jwks_uri": jwks}), issuer).unwrap(),
            jwks
        );
        for document in [
            json!({"issuer": "https://evil.example.com", "jwks_uri": jwks}),
            json!({"jwks_uri": jwks}),
            json!({"issuer": issuer}),
            json!({"issuer": issuer, "jwks_uri": "http://idp.example.com/jwks"}),
        ] {
            assert!(jwks_uri_of(&document, issuer).is_err(), "{document}");
        }
    }
}
