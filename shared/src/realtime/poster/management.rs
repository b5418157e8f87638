//! [`ManagementPoster`]: posts through API Gateway's management API
//! (`post_to_connection`). The local gateway serves the same API at `/@connections/{id}`,
//! so this code is the same locally and deployed.

use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_types::SdkConfig;

use super::{PostOutcome, Poster};
use crate::AppState;

/// The management API client, for the stage's `https://{api}.execute-api.{region}.amazonaws.com/{stage}`
/// endpoint (or the local gateway's).
#[derive(Debug, Clone)]
pub struct ManagementPoster {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ManagementPoster {
    pub fn new(sdk_config: &SdkConfig, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk_config)
            .endpoint_url(endpoint)
            .build();
        Self {
            client: aws_sdk_apigatewaymanagement::Client::from_conf(config),
        }
    }
}

impl Poster for ManagementPoster {
    async fn post(&self, connection_id: &str, payload: Vec<u8>) -> PostOutcome {
        let result = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(payload))
            .send()
            .await;
        match result {
            Ok(_) => PostOutcome::Delivered,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_gone_exception()) =>
            {
                PostOutcome::Gone
            }
            Err(error) => PostOutcome::Failed(
                aws_sdk_apigatewaymanagement::error::DisplayErrorContext(error).to_string(),
            ),
        }
    }
}

impl AppState {
    /// [`AppState::cold_start`] for functions that post to WebSocket connections.
    pub fn cold_start_with_poster() -> anyhow::Result<(Self, ManagementPoster)> {
        let (state, sdk_config) = Self::cold_start_with_aws()?;
        let poster = state.poster(&sdk_config)?;
        Ok((state, poster))
    }

    /// The poster for WebSocket connections, from the configured management endpoint.
    pub fn poster(&self, sdk_config: &SdkConfig) -> anyhow::Result<ManagementPoster> {
        let endpoint = self.config.require_websocket_endpoint()?;
        Ok(ManagementPoster::new(sdk_config, endpoint))
    }
}
