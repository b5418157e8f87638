//! Files: presigned uploads, completion, downloads, deletes, avatars and attachments.
//!
//! Routes: `POST /v1/channels/{cid}/uploads`, `GET|DELETE /v1/files/{fid}`,
//! `POST /v1/files/{fid}/complete`, `POST /v1/users/me/avatar`, `GET /v1/users/{uid}/avatar`.
//! Entity: file (`FILE#fid` / `META`, TTL while pending); objects in the bucket
//! ([`storage`]).
//! Access patterns: a file by id, several files by id (attachments), the pending → ready
//! transition (conditional), deletion.

pub mod model;
pub mod rules;
pub mod storage;
pub mod store;

pub use model::*;
pub use rules::*;
pub use store::{AvatarChange, FileCompletion};
