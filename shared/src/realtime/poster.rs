//! Delivery to WebSocket connections through API Gateway's management API
//! (`post_to_connection`). The local gateway serves the same API at `/@connections/{id}`,
//! so this code is the same locally and deployed.

use aws_sdk_apigatewaymanagement::primitives::Blob;

/// How a post to one connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    Delivered,
    /// The connection is gone (410): forget it.
    Gone,
    Failed(String),
}

/// Something that can deliver a frame to a connection.
pub trait Poster: Send + Sync {
    fn post(
        &self,
        connection_id: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = PostOutcome> + Send;
}

/// The management API client, for the stage's `https://{api}.execute-api.{region}.amazonaws.com/{stage}`
/// endpoint (or the local gateway's).
#[derive(Debug, Clone)]
pub struct ManagementPoster {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ManagementPoster {
    pub fn new(sdk_config: &aws_config::SdkConfig, endpoint: &str) -> Self {
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
