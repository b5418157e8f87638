//! The Yjs side of documents (yrs, behind the `documents` feature): building a document
//! from its snapshot and log, checking a client's update against it, text diffs for REST
//! saves, and the sync step (what a state vector lacks). Everything crosses this module as
//! Yjs v1 bytes; Yjs indexes the text by UTF-8 byte here (the stored format does not
//! depend on it).

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, OffsetKind, Options, ReadTxn, StateVector, Text, Transact, Update};

use crate::documents::DOCUMENT_MAX_BYTES;
use crate::error::{ApiError, ApiResult};

/// The name of the shared text every document holds.
pub const TEXT_NAME: &str = "content";

/// A document in memory.
pub struct YDocument {
    doc: Doc,
}

impl std::fmt::Debug for YDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YDocument").finish_non_exhaustive()
    }
}

/// Why a client's update was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateRefusal {
    /// Not a Yjs v1 update, or one that does not apply.
    Malformed(String),
    /// It builds on changes this document does not have (sync first).
    MissingDependencies,
    /// The text would pass [`DOCUMENT_MAX_BYTES`].
    TooLarge(usize),
}

impl From<UpdateRefusal> for ApiError {
    fn from(refusal: UpdateRefusal) -> Self {
        match refusal {
            UpdateRefusal::Malformed(reason) => {
                ApiError::invalid(format!("the update is not a valid Yjs v1 update: {reason}"))
            }
            UpdateRefusal::MissingDependencies => ApiError::invalid(
                "the update builds on changes the document does not have; sync first",
            ),
            UpdateRefusal::TooLarge(bytes) => ApiError::TooLarge(format!(
                "the document would be {bytes} bytes; documents are at most {DOCUMENT_MAX_BYTES} bytes of text"
            )),
        }
    }
}

/// A fresh random client id for the server's own edits (Yjs client ids are 32-bit in
/// JavaScript clients, so the server stays in that range).
fn server_client_id() -> u64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = ulid::Ulid::new().0.to_le_bytes()[..4]
            .try_into()
            .unwrap_or_default();
    }
    u64::from(u32::from_le_bytes(bytes))
}

/// Decodes and applies `bytes`, catching a panic inside yrs on hostile input (debug and
/// local builds unwind; release builds abort, and decoding is checked before applying).
fn apply(doc: &Doc, bytes: &[u8]) -> Result<(), UpdateRefusal> {
    let update = Update::decode_v1(bytes).map_err(|e| UpdateRefusal::Malformed(e.to_string()))?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut txn = doc.transact_mut();
        txn.apply_update(update)
    }));
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(UpdateRefusal::Malformed(error.to_string())),
        Err(_) => Err(UpdateRefusal::Malformed("it could not be applied".into())),
    }
}

impl YDocument {
    fn empty() -> Self {
        let mut options = Options::with_client_id(yrs::ClientID::new(server_client_id()));
        options.offset_kind = OffsetKind::Bytes;
        let doc = Doc::with_options(options);
        doc.get_or_insert_text(TEXT_NAME);
        Self { doc }
    }

    /// The document a snapshot and its log make. Stored bytes that do not apply are an
    /// internal error (they were checked when stored).
    pub fn build<'a>(snapshot: &[u8], log: impl IntoIterator<Item = &'a [u8]>) -> ApiResult<Self> {
        let document = Self::empty();
        let stored =
            |e: UpdateRefusal| ApiError::internal(anyhow::anyhow!("stored document: {e:?}"));
        if !snapshot.is_empty() {
            apply(&document.doc, snapshot).map_err(stored)?;
        }
        for update in log {
            apply(&document.doc, update).map_err(stored)?;
        }
        Ok(document)
    }

    /// The text.
    pub fn text(&self) -> String {
        let text = self.doc.get_or_insert_text(TEXT_NAME);
        let txn = self.doc.transact();
        text.get_string(&txn)
    }

    /// The whole state as one update (what a snapshot stores).
    pub fn state(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// The state vector, Yjs v1 encoded.
    pub fn state_vector(&self) -> Vec<u8> {
        self.doc.transact().state_vector().encode_v1()
    }

    /// What a client with `state_vector` (v1; empty bytes: nothing) lacks, as one update.
    pub fn missing_for(&self, state_vector: &[u8]) -> ApiResult<Vec<u8>> {
        let vector = if state_vector.is_empty() {
            StateVector::default()
        } else {
            StateVector::decode_v1(state_vector).map_err(|e| {
                ApiError::invalid(format!("state_vector is not a Yjs v1 state vector: {e}"))
            })?
        };
        Ok(self.doc.transact().encode_state_as_update_v1(&vector))
    }

    /// Applies a client's update, refusing one that is malformed, builds on missing changes
    /// or makes the text too long; answers whether it changed anything (an update the
    /// document already holds does not). A refused update may have left this copy changed:
    /// callers discard it.
    pub fn apply_client_update(&mut self, bytes: &[u8]) -> Result<bool, UpdateRefusal> {
        let before = self.doc.transact().snapshot();
        apply(&self.doc, bytes)?;
        if self.doc.transact().has_missing_updates() {
            return Err(UpdateRefusal::MissingDependencies);
        }
        let length = self.text().len();
        if length > DOCUMENT_MAX_BYTES {
            return Err(UpdateRefusal::TooLarge(length));
        }
        Ok(self.doc.transact().snapshot() != before)
    }

    /// Replaces the text with `content` by the smallest single edit (common prefix and
    /// suffix kept, the middle deleted and inserted), so edits made elsewhere in the text
    /// by others merge with it. Returns the update it made (empty-effect updates included).
    pub fn replace_text(&mut self, content: &str) -> Vec<u8> {
        let current = self.text();
        let before = self.doc.transact().state_vector();
        let (start, old_end, new_end) = edit_span(&current, content);
        let text = self.doc.get_or_insert_text(TEXT_NAME);
        {
            let mut txn = self.doc.transact_mut();
            let index = u32::try_from(start).unwrap_or(u32::MAX);
            if old_end > start {
                text.remove_range(
                    &mut txn,
                    index,
                    u32::try_from(old_end - start).unwrap_or(u32::MAX),
                );
            }
            if new_end > start {
                text.insert(&mut txn, index, &content[start..new_end]);
            }
        }
        self.doc.transact().encode_state_as_update_v1(&before)
    }
}

/// The byte span that differs between `old` and `new`, on char boundaries: `(start,
/// old_end, new_end)`, where `old[..start] == new[..start]` and the tails after `old_end`
/// and `new_end` are equal.
pub fn edit_span(old: &str, new: &str) -> (usize, usize, usize) {
    let mut start = 0;
    for ((index, a), b) in old.char_indices().zip(new.chars()) {
        if a != b {
            break;
        }
        start = index + a.len_utf8();
    }
    let (old_rest, new_rest) = (&old[start..], &new[start..]);
    let mut suffix = 0;
    for (a, b) in old_rest.chars().rev().zip(new_rest.chars().rev()) {
        if a != b {
            break;
        }
        suffix += a.len_utf8();
    }
    (start, old.len() - suffix, new.len() - suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edit_span_is_the_differing_middle() {
        assert_eq!(edit_span("hello world", "hello brave world"), (6, 6, 12));
        assert_eq!(edit_span("abc", "abc"), (3, 3, 3));
        assert_eq!(edit_span("", "new"), (0, 0, 3));
        assert_eq!(edit_span("gone", ""), (0, 4, 0));
        // Char boundaries: é and è share their first UTF-8 byte.
        let (start, old_end, new_end) = edit_span("é", "è");
        assert_eq!((start, old_end, new_end), (0, 2, 2));
        assert_eq!(edit_span("aaa", "aa"), (2, 3, 2));
    }

    #[test]
    fn saves_merge_with_concurrent_edits_elsewhere() {
        let mut server = YDocument::build(&[], []).unwrap_or_else(|_| YDocument::empty());
        server.replace_text("one two three");
        let base = server.state();
        let mut editor = YDocument::build(&base, []).unwrap_or_else(|_| YDocument::empty());
        let live = editor.replace_text("zero one two three");
        server.replace_text("one two three four");
        assert_eq!(server.apply_client_update(&live), Ok(true));
        assert_eq!(server.apply_client_update(&live), Ok(false));
        assert_eq!(server.text(), "zero one two three four");
    }

    #[test]
    fn malformed_and_dangling_updates_are_refused() {
        let mut document = YDocument::empty();
        assert!(matches!(
            document.apply_client_update(&[0xff, 0xff, 0xff]),
            Err(UpdateRefusal::Malformed(_))
        ));
        let mut other = YDocument::empty();
        other.replace_text("first");
        let first = other.state();
        let before = other.doc.transact().state_vector();
        other.replace_text("first second");
        let second = other.doc.transact().encode_state_as_update_v1(&before);
        assert_eq!(
            document.apply_client_update(&second),
            Err(UpdateRefusal::MissingDependencies)
        );
        let mut fresh = YDocument::empty();
        assert_eq!(fresh.apply_client_update(&first), Ok(true));
        assert_eq!(fresh.text(), "first");
    }
}
