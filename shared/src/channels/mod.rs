//! Channels, their members and read markers, DMs, and the clean-up after deletes.
//!
//! Routes: `POST|GET /v1/workspaces/{wid}/channels`, `POST /v1/workspaces/{wid}/dms`,
//! `GET|PATCH|DELETE /v1/channels/{cid}`, `POST /v1/channels/{cid}/join|leave`,
//! `GET|POST /v1/channels/{cid}/members`, `DELETE /v1/channels/{cid}/members/{uid}`,
//! `PUT /v1/channels/{cid}/read`.
//! Entities: channel (`CH#cid` / `META`, by workspace in GSI1), name marker and DM marker
//! (`WS#wid` / `CHNAME#name`, `DM#hash`), channel member with read marker and counters
//! (`CH#cid` / `MEMBER#uid`, by user in GSI1).
//! Access patterns: a channel with the caller's membership (one batch read), a workspace's
//! channels (GSI1, paged), a user's memberships in a workspace (GSI1), the members of a
//! channel; stream-driven clean-up of a deleted channel's items and of memberships a workspace
//! removal left behind.

pub mod cleanup;
pub mod model;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
pub use store::{
    ChannelAccessRead, ChannelChanges, ChannelDeletion, ChannelWrite, DmOutcome, Membership,
    MembershipChange, ReadMarkerMove,
};
