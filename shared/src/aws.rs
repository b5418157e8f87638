//! The AWS SDK configuration, from the environment alone.
//!
//! Lambda hands a function everything it needs in environment variables: the region
//! (`AWS_REGION`) and the execution role's credentials (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); the local scripts set the same ones plus
//! endpoint overrides (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`, or
//! `AWS_ENDPOINT_URL` for every service). So this reads exactly those and nothing else:
//! no profile files, no web identity or SSO, no container or instance metadata endpoint.
//! Cold start makes no network call, and no function links aws-config's credential
//! providers (nor the STS client they bring).
//!
//! The SDK's client defaults do the rest, as `aws_config::defaults` would: standard retries
//! (3 attempts) and a 3.1 s connect timeout are set here explicitly; sleep and time source
//! are the service crates' own (`rt-tokio`). The HTTP client is [`crate::https`]'s (hyper
//! and rustls on ring, HTTP/1.1), the one Huddle's own requests use, rather than the SDK's
//! (`aws-smithy-http-client`, which links HTTP/2 and defaults to aws-lc).

use std::collections::HashMap;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::SdkConfig;
use aws_types::region::Region;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

/// The connect timeout `aws_config::defaults` uses.
const CONNECT_TIMEOUT: Duration = crate::https::CONNECT_TIMEOUT;

/// The configuration every client is built from: region, credentials and endpoint
/// overrides from the environment, with the SDK's latest default behaviour.
pub fn sdk_config_from_env() -> SdkConfig {
    // Variables that are not Unicode cannot be any of these: skipped, never a panic.
    sdk_config_from(
        std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }),
    )
}

/// [`sdk_config_from_env`] over given variables (tests pass their own).
pub fn sdk_config_from(vars: impl IntoIterator<Item = (String, String)>) -> SdkConfig {
    let vars: HashMap<String, String> = vars
        .into_iter()
        .filter(|(name, value)| name.starts_with("AWS_") && !value.is_empty())
        .collect();
    let region = vars
        .get("AWS_REGION")
        .or_else(|| vars.get("AWS_DEFAULT_REGION"));
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region.cloned().map(Region::new))
        .http_client(crate::https::sdk::sdk_client())
        .retry_config(RetryConfig::standard())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        );
    if let Some(credentials) = credentials(&vars) {
        builder = builder.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    let endpoints = EndpointOverrides(
        vars.into_iter()
            .filter(|(name, _)| name.starts_with(ENDPOINT_URL))
            .collect(),
    );
    builder.service_config(endpoints).build()
}

/// The credentials in the environment, if both keys are there (a session token too when
/// set, as Lambda's are). Without them, signed calls fail with "no credentials" rather than
/// going looking elsewhere.
fn credentials(vars: &HashMap<String, String>) -> Option<Credentials> {
    let access_key_id = vars.get("AWS_ACCESS_KEY_ID")?;
    let secret_access_key = vars.get("AWS_SECRET_ACCESS_KEY")?;
    Some(Credentials::new(
        access_key_id,
        secret_access_key,
        vars.get("AWS_SESSION_TOKEN").cloned(),
        None,
        "Environment",
    ))
}

/// The variable of the endpoint override for every service; `_<SERVICE>` appended, one
/// service's.
const ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";

/// Endpoint overrides: `AWS_ENDPOINT_URL_<SERVICE>` (the service id in upper snake case,
/// e.g. `AWS_ENDPOINT_URL_DYNAMODB`), else `AWS_ENDPOINT_URL`, as the SDK's own
/// environment provider resolves them; taken from the environment once, at cold start.
#[derive(Debug)]
struct EndpointOverrides(HashMap<String, String>);

impl LoadServiceConfig for EndpointOverrides {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        let service = key.service_id().to_ascii_uppercase().replace(' ', "_");
        self.0
            .get(&format!("{}_{service}", key.env()))
            .or_else(|| self.0.get(key.env()))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> SdkConfig {
        sdk_config_from(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        )
    }

    fn endpoint(config: &SdkConfig, service_id: &str) -> Option<String> {
        let key = ServiceConfigKey::builder()
            .service_id(service_id)
            .env(ENDPOINT_URL)
            .profile("endpoint_url")
            .build()
            .ok()?;
        config.service_config()?.load_config(key)
    }

    #[test]
    fn region_and_credentials_come_from_the_environment() {
        let config = config(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ]);
        assert_eq!(config.region().map(Region::as_ref), Some("eu-west-1"));
        assert!(config.credentials_provider().is_some());
        assert_eq!(config.behavior_version(), Some(BehaviorVersion::latest()));
    }

    #[test]
    fn without_keys_there_are_no_credentials() {
        let config = config(&[("AWS_DEFAULT_REGION", "us-east-1")]);
        assert_eq!(config.region().map(Region::as_ref), Some("us-east-1"));
        assert!(config.credentials_provider().is_none());
    }

    #[test]
    fn service_endpoints_override_the_global_one() {
        let config = config(&[
            ("AWS_ENDPOINT_URL", "http://global"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://dynamo"),
        ]);
        assert_eq!(
            endpoint(&config, "DynamoDB").as_deref(),
            Some("http://dynamo")
        );
        assert_eq!(endpoint(&config, "S3").as_deref(), Some("http://global"));
        let none = self::config(&[]);
        assert_eq!(endpoint(&none, "S3"), None);
    }
}
