//! Documents: the stored items (record, log updates, revisions and their parts), the views
//! the routes answer, and the request bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ErrorCode, ErrorDetail};
use crate::ids::{ChannelId, UserId};

/// The largest document text, in UTF-8 bytes (API.md: 256 KiB).
pub const DOCUMENT_MAX_BYTES: usize = 256 * 1024;
/// The largest update one `doc.update` frame may carry, decoded.
pub const UPDATE_MAX_BYTES: usize = 64 * 1024;
/// The largest base64 `update` a `doc.sync` answer carries over the WebSocket; beyond it the
/// answer is `fetch` (API Gateway caps a WebSocket message at 128 KB).
pub const SOCKET_SYNC_MAX_BASE64: usize = 96 * 1024;
/// The largest awareness payload a `doc.awareness` frame may carry, decoded.
pub const AWARENESS_MAX_BYTES: usize = 16 * 1024;
/// Bytes of Yjs state one item holds at most: a snapshot beyond it continues in part items.
/// A freshly written 256 KiB document (its state is the text and a few bytes) fits in one
/// item, about a third below DynamoDB's 400 KB item limit.
pub const SNAPSHOT_PART_BYTES: usize = 264 * 1024;
/// Revisions kept per document; the oldest beyond this are deleted.
pub const REVISIONS_KEPT: u64 = 50;
/// The log is compacted into a snapshot once it holds this many updates...
pub const COMPACT_AFTER_UPDATES: u64 = 32;
/// ... or this many bytes...
pub const COMPACT_AFTER_BYTES: u64 = 128 * 1024;
/// ... or its snapshot is this old while it is being edited (a revision at least every ten
/// minutes of activity).
pub const COMPACT_AFTER_SECONDS: i64 = 600;
/// Updates one compaction merges at most (a transaction holds at most 100 items).
pub const COMPACT_MAX_UPDATES: usize = 64;

/// Why a revision was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionReason {
    /// A REST save (`PUT .../document`).
    Save,
    /// A restore of an earlier revision.
    Restore,
    /// The update log merged into a snapshot.
    Compaction,
}

/// A document's record (`DOC#cid` / `META`). Absent until the first stored change: a
/// document nobody wrote is empty at version 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentMeta {
    pub channel_id: ChannelId,
    /// Goes up by one with every stored change (a live update, a save, a restore).
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: UserId,
    /// The revision whose snapshot is the base the log applies to (0: none, empty base).
    pub snapshot_version: u64,
    /// Items the base snapshot spans (the revision item and its parts).
    pub snapshot_parts: u32,
    /// When the base snapshot was written.
    pub snapshot_at: DateTime<Utc>,
    /// Updates in the log above the snapshot, and their bytes.
    pub log_count: u64,
    pub log_bytes: u64,
    /// Revisions stored.
    pub revision_count: u64,
}

/// The document as the routes answer it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Document {
    /// The text (Markdown by convention), at most 256 KiB of UTF-8.
    pub content: String,
    /// Goes up by one with every stored change, live or REST; 0 for a document nobody
    /// wrote.
    pub version: u64,
    /// `null` for a document nobody wrote.
    pub updated_at: Option<DateTime<Utc>>,
    /// `null` for a document nobody wrote.
    pub updated_by: Option<UserId>,
}

/// One revision in the list, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RevisionSummary {
    /// The document version the revision holds.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    /// Who wrote that version.
    pub updated_by: UserId,
}

/// One revision with its text.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RevisionView {
    /// The document version the revision holds.
    pub version: u64,
    pub content: String,
    pub created_at: DateTime<Utc>,
    /// Who wrote that version.
    pub updated_by: UserId,
}

/// `PUT /v1/channels/{cid}/document`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveDocumentRequest {
    /// The whole new text, at most 256 KiB of UTF-8 (413 beyond), applied as a text diff.
    #[schema(max_length = 262144)]
    pub content: String,
    /// The version the writer last saw; another one is a 409 carrying the current document.
    pub base_version: u64,
}

/// `POST /v1/channels/{cid}/document/sync`: the client's state vector (base64 of its Yjs
/// v1 encoding; empty for a client with nothing).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// Standard, padded base64 of the client's Yjs v1 state vector (at most 64 KiB
    /// decoded; 413 beyond); empty for a client with nothing.
    #[schema(format = Byte, content_encoding = "base64")]
    pub state_vector: String,
}

/// What a client lacks (`update`) and the server's state vector, both base64 of Yjs v1.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SyncAnswer {
    /// Standard, padded base64 of a Yjs v1 update holding what the client lacks.
    #[schema(format = Byte, content_encoding = "base64")]
    pub update: String,
    /// Standard, padded base64 of the server's Yjs v1 state vector.
    #[schema(format = Byte, content_encoding = "base64")]
    pub state_vector: String,
}

/// The 409 of a save: the error, with the current document beside it when `base_version`
/// is stale (a channel of another kind answers the error alone).
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentConflict {
    pub error: ErrorDetail,
    /// The document as it is now, for the writer to merge and retry with its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub current: Option<Document>,
}

impl DocumentConflict {
    /// `base_version` is not the current version: here is the current document.
    pub fn stale(current: Document) -> Self {
        Self {
            error: ErrorDetail {
                code: ErrorCode::Conflict,
                message: "base_version is not the current version".to_owned(),
                details: None,
            },
            current: Some(current),
        }
    }
}

/// `/v1/channels/{channel_id}/document/revisions/{version}/…`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RevisionPath {
    /// The doc channel.
    pub channel_id: ChannelId,
    /// The document version the revision holds.
    pub version: u64,
}

/// How a save ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveOutcome {
    Saved(Document),
    /// `base_version` is not the current version: the current document.
    Stale(Document),
}

/// Stored bytes as a DynamoDB binary attribute (serde_dynamo writes `serialize_bytes` as
/// `B`; a plain `Vec<u8>` would become a list of numbers).
pub(crate) mod binary {
    use serde::de::{Deserializer, SeqAccess, Visitor};
    use serde::ser::Serializer;

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl<'de> Visitor<'de> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("binary")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(byte) = seq.next_element::<u8>()? {
                    out.push(byte);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_byte_buf(Bytes)
    }
}

/// A revision item as the stream shows it (what `document.updated` is made from).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RevisionImage {
    pub channel_id: ChannelId,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_by: UserId,
    pub reason: RevisionReason,
}
