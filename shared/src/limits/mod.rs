//! Rate limits (login per email and per address, register per address, sends and uploads
//! per user) and the per-user WebSocket cap.
//!
//! Entities: rate-limit bucket (`RL#scope#subject` / `window start`, TTL), WebSocket slots
//! (`USER#uid` / `SOCKETS`: a string set of `expiry#connection id`).
//! Access patterns: a take is one conditional UpdateItem (`hits < max`), or the same
//! update as one item of the transaction it limits (a send's); a login checks
//! its email's failure bucket with one GetItem beside the credential read and counts a
//! failure with one UpdateItem; a socket claim reads the slots and writes them back
//! conditioned on their version, pruning expired sockets.

pub mod rules;
pub mod store;

pub use rules::*;
pub use store::{BucketTake, SlotClaim, Take};
