//! Realtime: WebSocket connections, subscriptions, presence, typing and signalling, and
//! the stream-driven broadcaster.
//!
//! Routes: the WebSocket API's `$connect`, `$disconnect` and `$default` (client frames),
//! `GET /v1/workspaces/{wid}/presence`.
//! Entities: connection (`CONN#connid` / `META`, by user in GSI1), subscription (`CH#cid` /
//! `SUB#connid`, by connection in GSI1), presence (`USER#uid` / `PRESENCE`).
//! Access patterns: a channel's subscribers (a broadcast's audience, paged), a user's
//! connections, a connection's subscriptions; events from stream records ([`events`]);
//! posting to connections ([`poster`]).

pub mod events;
pub mod hints;
pub mod poster;
pub mod rules;
pub mod store;

pub use poster::*;
pub use rules::*;
pub use store::{
    AudienceCheck, Connection, Presence, SubscribeOutcome, Subscriber, Subscription, Throttle,
    ThrottleVerdict,
};
