//! [`ManagementPoster`]: posts through API Gateway's management API
//! (`post_to_connection`). The local gateway serves the same API at `/@connections/{id}`,
//! so this code is the same locally and deployed.

use std::sync::Arc;

use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_types::SdkConfig;
use tokio::sync::Semaphore;

use super::{PostOutcome, Poster};
use crate::AppState;

/// The management API client, for the stage's `https://{api}.execute-api.{region}.amazonaws.com/{stage}`
/// endpoint (or the local gateway's). Clones share one bound on the posts in flight.
#[derive(Debug, Clone)]
pub struct ManagementPoster {
    client: aws_sdk_apigatewaymanagement::Client,
    /// Posts in flight at once over every clone and every event, when bounded: a stream
    /// batch broadcasts several partitions at once, each with its own audience, and their
    /// posts together stay within this.
    in_flight: Option<Arc<Semaphore>>,
}

impl ManagementPoster {
    /// A poster with no bound of its own on posts in flight.
    pub fn new(sdk_config: &SdkConfig, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk_config)
            .endpoint_url(endpoint)
            .build();
        Self {
            client: aws_sdk_apigatewaymanagement::Client::from_conf(config),
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
}

impl Poster for ManagementPoster {
    async fn post(&self, connection_id: &str, payload: Vec<u8>) -> PostOutcome {
        // The semaphore is never closed, so a permit always comes.
        let _permit = match &self.in_flight {
            Some(in_flight) => in_flight.acquire().await.ok(),
            None => None,
        };
        let result = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(payload))
            .send()
            .await;
        match result {
            Ok(_) => PostOutcome::Delivered,
            // A 410 is a gone connection whether or not its body names `GoneException`.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_gone_exception())
                    || error
                        .raw_response()
                        .is_some_and(|response| response.status().as_u16() == 410) =>
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

    /// The poster for WebSocket connections, from the configured management endpoint, with
    /// at most `WEBSOCKET_POST_CONCURRENCY` posts in flight in this process.
    pub fn poster(&self, sdk_config: &SdkConfig) -> anyhow::Result<ManagementPoster> {
        let endpoint = self.config.require_websocket_endpoint()?;
        Ok(ManagementPoster::new(sdk_config, endpoint)
            .with_in_flight_limit(self.config.websocket_post_concurrency))
    }
}
