//! Huddle's shared library, one folder per area around a small core.
//!
//! Core: configuration, the error model, HTTP plumbing, validation, logging, ids, the
//! clock, the AWS environment ([`aws`]), PATCH fields, the API description's shared pieces ([`openapi`], [`params`]), authentication ([`auth`]), the access guards ([`access`]), the one
//! single-table schema ([`keys`]), the generic DynamoDB machinery ([`table`]) and stream
//! record decoding ([`stream`]).
//!
//! Areas: [`users`], [`workspaces`], [`invites`], [`channels`], [`messages`], [`search`],
//! [`files`], [`realtime`], [`work`] (what tasks and boards share: counters, due dates,
//! stats, my-work, workload), [`tasks`], [`boards`], [`documents`]. Each has `model.rs` (entities and views), `store.rs` (its
//! access patterns, as methods on [`table::Store`]) and `rules.rs` (what its routes do);
//! its `mod.rs` names its routes, entities and access patterns.

pub mod access;
pub mod auth;
pub mod aws;
pub mod calls;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod https;
pub mod ids;
pub mod keys;
pub mod limits;
pub mod openapi;
#[cfg(any(feature = "s3", feature = "websocket-posting"))]
pub mod sigv4;

/// For [`http_routes!`]: the handlers' generated `__path_*` names.
#[doc(hidden)]
pub use paste::paste as __paste;
pub mod pagination;
pub mod params;
pub mod patch;
pub mod positions;
pub mod state;
pub mod stream;
pub mod table;
pub mod telemetry;
pub mod validate;

pub mod activity;
pub mod boards;
pub mod channels;
pub mod documents;
pub mod files;
pub mod invites;
pub mod messages;
pub mod notifications;
pub mod realtime;
pub mod search;
pub mod tasks;
pub mod users;
pub mod work;
pub mod workspaces;

pub use error::{ApiError, ApiResult};
pub use state::AppState;
