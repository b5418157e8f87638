//! Files: presigned uploads, completion, downloads, deletes, avatars and attachments.
//!
//! Routes: `POST /v1/channels/{cid}/uploads`, `GET|DELETE /v1/files/{fid}`,
//! `POST /v1/files/{fid}/complete`, `POST /v1/users/me/avatar`, `GET /v1/users/{uid}/avatar`.
//! Entity: file (`FILE#fid` / `META`, TTL while pending); objects in the bucket
//! ([`storage`]), an image's thumbnail beside its object (made by the thumbnails function
//! from the table's stream, [`thumbnails`]).
//! Access patterns: a file by id, several files by id (attachments), the pending → ready
//! transition (conditional), a thumbnail's attempt and outcome (conditional on pending),
//! deletion.

pub mod model;
pub mod rules;
pub mod storage;
pub mod store;
pub mod thumbnails;

pub use model::*;
pub use rules::*;
pub use store::{AvatarChange, FileCompletion, ThumbnailClaim, ThumbnailOutcome, ThumbnailRecord};
