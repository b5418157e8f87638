//! The workspace activity log.
//!
//! Routes: `GET /v1/workspaces/{wid}/activity?actor_id&limit&cursor` (admin+).
//! Entities: activity entry (`ACT#wid` / `aid`, TTL `ACTIVITY_RETENTION_DAYS`; GSI1
//! `ACT#wid#actor` / `aid`), deletion note (`NOTE#<PK>#<SK>` / `NOTE`, TTL 1 day).
//! Access patterns: the notifier ([`recorder`]) writes one entry per stream record and
//! kind (`attribute_not_exists` on an id derived from the record); the list is one Query,
//! newest first, on the workspace or (with `actor_id`) on GSI1.

pub mod model;
pub mod recorder;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
