//! Notifications and notification levels.
//!
//! Routes: `GET /v1/notifications`, `GET /v1/notifications/unread-count`,
//! `POST /v1/notifications/{nid}/read`, `POST /v1/notifications/read-all`,
//! `PUT /v1/channels/{cid}/notification-level`.
//! Entities: notification (`USER#uid` / `NOTIF#nid`, TTL 90 days; GSI2 `UNREAD#uid` /
//! `nid` while unread), unread counter (`USER#uid` / `NOTIFCOUNT`), expiry marker
//! (`USER#uid` / `EXPIRED#nid`), the level on the channel membership (GSI2
//! `NOTIFYALL#cid` / `uid` at level `all`).
//! Access patterns: the notifier ([`notifier`], a stream consumer) writes each
//! notification with its counter in one transaction (`attribute_not_exists` on an id
//! derived from the source event); reading one is a transaction conditioned on it being
//! unread; the count is one GetItem; lists are Queries (newest first).

pub mod model;
pub mod notifier;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
pub use store::{Delivery, ReadMark, ReaderState};
