//! Full-text search over messages, and the stream-driven indexer that keeps its postings.
//!
//! Route: `GET /v1/workspaces/{wid}/search`.
//! Entity: term posting (`TERM#wid#term` / `mid`).
//! Access patterns: the postings of a term, newest first (paged); postings written and
//! removed from message stream records.

pub mod rules;
pub mod store;

pub use rules::*;
pub use store::Posting;
