//! Documents: the text of a `doc` channel as a Yjs document (a `Y.Text` named `content`),
//! saved over REST with versions and revisions and edited live over the WebSocket.
//!
//! Routes: `GET|PUT /v1/channels/{cid}/document`, `GET .../document/revisions`,
//! `GET .../document/revisions/{version}`, `POST .../document/revisions/{version}/restore`,
//! `POST .../document/sync`; the WebSocket frames `doc.sync`, `doc.update` and
//! `doc.awareness` (relayed by the realtime area, never stored).
//! Entities (all under `DOC#cid`, apart from the channel's partition): the record (`META`:
//! version, the snapshot's revision, log counters), the update log (`UPD#version`),
//! revisions (`REV#version`) whose snapshot (Yjs v1 state) spans part items
//! (`PART#version#n`, at most [`SNAPSHOT_PART_BYTES`] each).
//! Access patterns: load (the record, then the snapshot's parts by key and the log above
//! it, checked complete); append an update (conditioned on the version); save or restore
//! (a new version that is a snapshot, superseding the log, one transaction); compaction
//! (log merged into a snapshot, one transaction conditioned on the snapshot pointer, never
//! touching updates stored meanwhile); revisions newest first (paged); the partition's keys
//! for the clean-up after a channel delete.
//!
//! The model and the store need no Yjs; the rules and [`crdt`] (yrs) are behind the
//! `documents` cargo feature, enabled only by the functions that read or write contents.

#[cfg(feature = "documents")]
pub mod crdt;
pub mod model;
#[cfg(feature = "documents")]
pub mod rules;
pub mod store;

pub use model::*;
#[cfg(feature = "documents")]
pub use rules::*;
pub use store::{
    AppendOutcome, CompactOutcome, LoggedUpdate, NewRevision, SnapshotSaveOutcome, StoredDocument,
};
