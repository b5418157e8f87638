//! Delivery to WebSocket connections: the [`Poster`] the realtime rules post through, and
//! its implementation on API Gateway's management API ([`ManagementPoster`], the
//! `websocket-posting` feature: only the functions that post link that client).

#[cfg(feature = "websocket-posting")]
mod management;
#[cfg(feature = "websocket-posting")]
pub use management::ManagementPoster;

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
