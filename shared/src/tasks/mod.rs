//! Tasks of todo channels.
//!
//! Routes: `GET|POST /v1/channels/{cid}/tasks`, `GET|PATCH|DELETE .../tasks/{tid}`,
//! `POST .../tasks/{tid}/complete`, `.../reopen`, `.../move`.
//! Entities: task (`CH#cid` / `TASK#tid`; GSI1 `TASKS#cid#open|done` / `position#tid` for
//! board order; GSI2 `WORK#wid#uid` / `O|D#due#tid` while assigned).
//! Access patterns: create = one Query for the last position + the work transaction;
//! lists = GSI1 pages; a move = one batch read (task and anchor), one Query for the
//! anchor's neighbour, one transaction writing the task alone; every change goes through
//! [`crate::work`]'s transaction with its counters.

pub mod model;
pub mod rules;
pub mod store;

pub use model::*;
pub use rules::*;
