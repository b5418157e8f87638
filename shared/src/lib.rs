//! Huddle's shared library: configuration, the error model, authentication, the
//! single-table keys, the DynamoDB store, the domain rules and the HTTP plumbing that every
//! function crate builds on.

pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod keys;
pub mod model;
pub mod realtime;
pub mod state;
pub mod storage;
pub mod store;
pub mod stream;
pub mod telemetry;
pub mod validate;

pub use error::{ApiError, ApiResult};
pub use state::AppState;
