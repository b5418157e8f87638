//! The state a function builds once at cold start and shares with every request.

use std::sync::Arc;

use crate::auth::JwtKeys;
use crate::auth::oidc::IdentityProvider;
use crate::auth::password::HashLimiter;
use aws_types::SdkConfig;

use crate::config::Config;
use crate::files::storage::{self, Storage};
use crate::realtime::hints::AudienceHints;
use crate::table::{CursorKey, Store};

/// Config, the store (with its cursor key) and the token keys. Cheap to clone (everything
/// inside is shared).
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub jwt: Arc<JwtKeys>,
    /// The file bucket, when the function is configured with one and built with the `s3`
    /// feature (the functions that serve files are).
    pub storage: Option<Storage>,
    /// Password hashing, bounded (one bound per process, shared by every clone).
    pub passwords: Arc<HashLimiter>,
    /// The external identity provider, when one is configured (its key set and the
    /// identities it has linked are kept per process).
    pub identity_provider: Option<Arc<IdentityProvider>>,
    /// Whom each channel's last broadcast admitted (per process; see
    /// [`crate::realtime::hints`]).
    pub audience_hints: Arc<AudienceHints>,
}

impl AppState {
    pub fn new(config: Config, sdk_config: &SdkConfig) -> anyhow::Result<Self> {
        let mut dynamodb_config = aws_sdk_dynamodb::config::Builder::from(sdk_config);
        if let Some(counter) = crate::calls::counter(config.count_aws_calls, "dynamodb") {
            dynamodb_config = dynamodb_config.interceptor(counter);
        }
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(dynamodb_config.build());
        let cursors = CursorKey::derive(&config.jwt_secret)?;
        let store = Store::new(dynamodb, config.table_name.clone(), cursors);
        let jwt = Arc::new(JwtKeys::new(&config));
        let storage = storage::configured(sdk_config, &config)?;
        let passwords = Arc::new(HashLimiter::new(
            config.password_hash_concurrency,
            config.password_hash_queue,
        ));
        let identity_provider = config
            .oidc
            .clone()
            .map(|oidc| Arc::new(IdentityProvider::new(oidc)));
        Ok(Self {
            config: Arc::new(config),
            store,
            jwt,
            storage,
            passwords,
            identity_provider,
            audience_hints: Arc::default(),
        })
    }

    /// What every Lambda entry point does once: read the config, start logging, and build
    /// the state.
    pub fn cold_start() -> anyhow::Result<Self> {
        Ok(Self::cold_start_with_aws()?.0)
    }

    /// [`AppState::cold_start`], also handing back the AWS configuration for further clients.
    pub fn cold_start_with_aws() -> anyhow::Result<(Self, SdkConfig)> {
        let config = Config::from_env()?;
        crate::telemetry::init(config.log_json);
        let sdk_config = load_aws_config();
        Ok((Self::new(config, &sdk_config)?, sdk_config))
    }

    /// The file bucket, or a 503 when this deployment has none configured.
    pub fn storage(&self) -> crate::ApiResult<&Storage> {
        self.storage
            .as_ref()
            .ok_or_else(|| crate::ApiError::Unavailable("file storage is not configured".into()))
    }

    /// Reads the config and the AWS environment (region, credentials and endpoint
    /// overrides such as `AWS_ENDPOINT_URL_DYNAMODB` come from the environment).
    pub fn from_env() -> anyhow::Result<Self> {
        let config = Config::from_env()?;
        let sdk_config = load_aws_config();
        Self::new(config, &sdk_config)
    }
}

/// The AWS SDK configuration from the environment alone ([`crate::aws`]): Lambda's
/// region and credentials, the local scripts' endpoint overrides; never a network call.
pub fn load_aws_config() -> SdkConfig {
    crate::aws::sdk_config_from_env()
}
