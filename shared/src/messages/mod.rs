//! Messages, threads, reactions, pins and edit history.
//!
//! Routes: `GET|POST /v1/channels/{cid}/messages`, `GET|PATCH|DELETE .../messages/{mid}`,
//! `GET .../messages/{mid}/history`, `GET .../messages/{mid}/replies`,
//! `PUT|DELETE .../messages/{mid}/reactions/{emoji}`, `GET /v1/channels/{cid}/pins`,
//! `PUT|DELETE /v1/channels/{cid}/pins/{mid}`.
//! Entities: message (`CH#cid` / `MSG#mid`; top-level or thread in GSI1, pins in GSI2),
//! message version (`HIST#mid#vid`), send idempotency marker (`CLIENT#uid#client_id`).
//! Access patterns: the send transaction (message, counters, marker), a channel's top-level
//! messages and a thread (GSI1, paged), pins (GSI2), edits with history, reactions as sets.

pub mod model;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
pub use store::{
    EditOutcome, NewMessage, PinChange, ReactionOutcome, Reactions, SendOutcome, StoredMessage,
    message_from_image,
};
