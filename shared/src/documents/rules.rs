//! What the document routes and frames do: read checks (404), the channel kind (409),
//! membership for writes (403), then the Yjs work on the loaded document and one
//! conditional write, retried when a concurrent change took the version first.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::access::{self, ChannelAccess};
use crate::channels::ChannelKind;
use crate::clock;
use crate::documents::crdt::YDocument;
use crate::documents::store::{
    AppendOutcome, CompactOutcome, LoggedUpdate, NewRevision, SnapshotSaveOutcome, StoredDocument,
};
use crate::documents::{
    AWARENESS_MAX_BYTES, COMPACT_AFTER_BYTES, COMPACT_AFTER_SECONDS, COMPACT_AFTER_UPDATES,
    COMPACT_MAX_UPDATES, DOCUMENT_MAX_BYTES, Document, REVISIONS_KEPT, RevisionReason,
    RevisionSummary, RevisionView, SOCKET_SYNC_MAX_BASE64, SaveDocumentRequest, SaveOutcome,
    SyncAnswer, SyncRequest, UPDATE_MAX_BYTES,
};
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, UserId};
use crate::state::AppState;
use crate::table::{Page, PageRequest};

/// Attempts of a write whose version keeps being taken by concurrent writers.
const WRITE_ATTEMPTS: u32 = 12;

/// The channel, readable by the caller and of kind `doc`.
async fn document_channel(
    state: &AppState,
    channel_id: ChannelId,
    caller: UserId,
) -> ApiResult<ChannelAccess> {
    let channel = access::channel(state, channel_id, caller).await?;
    if channel.channel.kind != ChannelKind::Doc {
        return Err(ApiError::conflict(
            "this channel has no document (not a doc channel)",
        ));
    }
    Ok(channel)
}

fn view(stored: &StoredDocument, content: String) -> Document {
    Document {
        content,
        version: stored.version(),
        updated_at: stored.meta.as_ref().map(|meta| meta.updated_at),
        updated_by: stored.meta.as_ref().map(|meta| meta.updated_by),
    }
}

/// The stored document and its Yjs form; `expected_snapshot` as in
/// [`crate::table::Store::load_document`].
async fn load(
    state: &AppState,
    channel_id: ChannelId,
    expected_snapshot: Option<u64>,
) -> ApiResult<(StoredDocument, YDocument)> {
    let stored = state
        .store
        .load_document(channel_id, expected_snapshot)
        .await?;
    let document = YDocument::build(
        &stored.snapshot,
        stored.log.iter().map(|update| update.bytes.as_slice()),
    )?;
    Ok((stored, document))
}

fn decode_base64(field: &str, value: &str, max: usize) -> ApiResult<Vec<u8>> {
    // Four characters carry three bytes: refuse what cannot fit before decoding it.
    if value.len() > max.div_ceil(3) * 4 {
        return Err(ApiError::TooLarge(format!(
            "{field} is at most {max} bytes (decoded)"
        )));
    }
    let bytes = STANDARD
        .decode(value)
        .map_err(|_| ApiError::invalid(format!("{field} must be standard, padded base64")))?;
    if bytes.len() > max {
        return Err(ApiError::TooLarge(format!(
            "{field} is at most {max} bytes (decoded)"
        )));
    }
    Ok(bytes)
}

async fn backoff(attempt: u32) {
    let mut random = [0u8; 1];
    let jitter = u64::from(getrandom::fill(&mut random).map_or(0, |()| random[0]));
    let base = 5u64 << attempt.min(5);
    tokio::time::sleep(std::time::Duration::from_millis(base + base * jitter / 256)).await;
}

/// Deletes revisions beyond [`REVISIONS_KEPT`] once a write has taken the document to
/// `revisions` of them (below the limit it reads nothing); a failure is logged (the next
/// write retries).
async fn prune(state: &AppState, channel_id: ChannelId, revisions: u64) {
    if revisions <= REVISIONS_KEPT {
        return;
    }
    if let Err(error) = state
        .store
        .prune_document_revisions(channel_id, REVISIONS_KEPT)
        .await
    {
        tracing::warn!(channel_id = %channel_id, error = %error, "pruning document revisions failed");
    }
}

/// `GET /v1/channels/{cid}/document` (readers).
pub async fn get(state: &AppState, caller: UserId, channel_id: ChannelId) -> ApiResult<Document> {
    // Read alongside the access check; nothing is shown before it passes.
    let (_, (stored, document)) = tokio::try_join!(
        document_channel(state, channel_id, caller),
        load(state, channel_id, None)
    )?;
    Ok(view(&stored, document.text()))
}

/// Writes `content` as a new version that is also a revision, as a text diff on the Yjs
/// document. `base_version`: the version the writer saw (stale: the current document).
/// `loaded`: the document as read alongside the access check, for the first attempt.
async fn write_content(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    content: &str,
    base_version: Option<u64>,
    reason: RevisionReason,
    mut loaded: Option<(StoredDocument, YDocument)>,
) -> ApiResult<SaveOutcome> {
    if content.len() > DOCUMENT_MAX_BYTES {
        return Err(ApiError::TooLarge(format!(
            "content is at most {DOCUMENT_MAX_BYTES} bytes (UTF-8)"
        )));
    }
    for attempt in 1..=WRITE_ATTEMPTS {
        let (stored, mut document) = match loaded.take() {
            Some(loaded) => loaded,
            None => load(state, channel_id, None).await?,
        };
        if base_version.is_some_and(|base| base != stored.version()) {
            let text = document.text();
            return Ok(SaveOutcome::Stale(view(&stored, text)));
        }
        if document.text() == content {
            // Nothing changes: no new version.
            return Ok(SaveOutcome::Saved(view(&stored, content.to_owned())));
        }
        document.replace_text(content);
        let snapshot = document.state();
        let at = clock::now();
        let revision = NewRevision {
            version: stored.version() + 1,
            state: &snapshot,
            by: caller,
            at,
            reason,
        };
        let superseded: Vec<u64> = stored.log.iter().map(|update| update.version).collect();
        match state
            .store
            .save_document_snapshot(channel_id, stored.meta.as_ref(), &revision, &superseded)
            .await?
        {
            SnapshotSaveOutcome::Saved => {
                let revisions = stored.meta.as_ref().map_or(0, |meta| meta.revision_count) + 1;
                prune(state, channel_id, revisions).await;
                return Ok(SaveOutcome::Saved(Document {
                    content: content.to_owned(),
                    version: revision.version,
                    updated_at: Some(at),
                    updated_by: Some(caller),
                }));
            }
            SnapshotSaveOutcome::NotMember => {
                return Err(ApiError::Forbidden("join the channel first".into()));
            }
            SnapshotSaveOutcome::Raced => backoff(attempt).await,
        }
    }
    Err(ApiError::Unavailable(
        "the document kept changing; retry".into(),
    ))
}

/// `PUT /v1/channels/{cid}/document` (members): `Stale` carries the current document.
pub async fn save(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: SaveDocumentRequest,
) -> ApiResult<SaveOutcome> {
    // The document is read alongside the access check (nothing read is shown before it
    // passes).
    let (channel, loaded) = tokio::try_join!(
        document_channel(state, channel_id, caller),
        load(state, channel_id, Some(request.base_version))
    )?;
    channel.require_member()?;
    write_content(
        state,
        caller,
        channel_id,
        &request.content,
        Some(request.base_version),
        RevisionReason::Save,
        Some(loaded),
    )
    .await
}

/// `GET .../document/revisions` (readers): newest first.
pub async fn list_revisions(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    page: PageRequest,
) -> ApiResult<Page<RevisionSummary>> {
    document_channel(state, channel_id, caller).await?;
    state.store.list_document_revisions(channel_id, &page).await
}

async fn revision_text(
    state: &AppState,
    channel_id: ChannelId,
    version: u64,
) -> ApiResult<(RevisionSummary, String)> {
    let (summary, snapshot) = state
        .store
        .get_document_revision(channel_id, version)
        .await?
        .ok_or_else(|| ApiError::not_found("revision"))?;
    let document = YDocument::build(&snapshot, [])?;
    Ok((summary, document.text()))
}

/// `GET .../document/revisions/{version}` (readers).
pub async fn get_revision(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    version: u64,
) -> ApiResult<RevisionView> {
    document_channel(state, channel_id, caller).await?;
    let (summary, content) = revision_text(state, channel_id, version).await?;
    Ok(RevisionView {
        version: summary.version,
        content,
        created_at: summary.created_at,
        updated_by: summary.updated_by,
    })
}

/// `POST .../document/revisions/{version}/restore` (members): that revision's text as a
/// new version (a diff, like a save, so live edits elsewhere in the text survive).
pub async fn restore(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    version: u64,
) -> ApiResult<Document> {
    // The revision and the document are read alongside the access check (nothing read is
    // shown before it passes).
    // The access check's answer comes first, whichever read ends first.
    let (channel, revision, loaded) = tokio::join!(
        document_channel(state, channel_id, caller),
        revision_text(state, channel_id, version),
        load(state, channel_id, None)
    );
    channel?.require_member()?;
    let ((_, content), loaded) = (revision?, loaded?);
    match write_content(
        state,
        caller,
        channel_id,
        &content,
        None,
        RevisionReason::Restore,
        Some(loaded),
    )
    .await?
    {
        SaveOutcome::Saved(document) | SaveOutcome::Stale(document) => Ok(document),
    }
}

/// What a client with `state_vector` (base64) lacks, and the server's state vector.
async fn missing(
    state: &AppState,
    channel_id: ChannelId,
    state_vector: &str,
) -> ApiResult<SyncAnswer> {
    let vector = decode_base64("state_vector", state_vector, UPDATE_MAX_BYTES)?;
    let (_, document) = load(state, channel_id, None).await?;
    let update = document.missing_for(&vector)?;
    Ok(SyncAnswer {
        update: STANDARD.encode(update),
        state_vector: STANDARD.encode(document.state_vector()),
    })
}

/// `POST /v1/channels/{cid}/document/sync` (readers): any size.
pub async fn sync(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    request: SyncRequest,
) -> ApiResult<SyncAnswer> {
    // Read alongside the access check; nothing is shown before it passes.
    // The access check's answer comes first, whichever ends first.
    let (channel, answer) = tokio::join!(
        document_channel(state, channel_id, caller),
        missing(state, channel_id, &request.state_vector)
    );
    channel?;
    answer
}

/// The `doc.sync` frame (readers): the answer's `data`, or `{fetch: true}` when its
/// update would not fit a WebSocket message.
pub async fn live_sync(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    state_vector: &str,
) -> ApiResult<Value> {
    let (channel, answer) = tokio::join!(
        document_channel(state, channel_id, caller),
        missing(state, channel_id, state_vector)
    );
    channel?;
    let answer = answer?;
    if answer.update.len() > SOCKET_SYNC_MAX_BASE64 {
        return Ok(json!({"fetch": true}));
    }
    Ok(json!({"update": answer.update, "state_vector": answer.state_vector}))
}

/// The `doc.update` frame (members): decodes and checks the update against the current
/// document, stores it as the next version, and answers the access it was checked with
/// (for the relay); `None` for an update that changes nothing (the document already holds
/// it), which is neither stored nor relayed. Compaction follows separately
/// ([`compact_if_due`]).
pub async fn live_update(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    update: &str,
) -> ApiResult<Option<(ChannelAccess, StoredUpdate)>> {
    let channel = document_channel(state, channel_id, caller).await?;
    channel.require_member()?;
    let bytes = decode_base64("update", update, UPDATE_MAX_BYTES)?;
    for attempt in 1..=WRITE_ATTEMPTS {
        let (stored, mut document) = load(state, channel_id, None).await?;
        if !document.apply_client_update(&bytes)? {
            return Ok(None);
        }
        match state
            .store
            .append_document_update(
                channel_id,
                stored.meta.as_ref(),
                &bytes,
                caller,
                clock::now(),
            )
            .await?
        {
            AppendOutcome::Stored(version) => {
                return Ok(Some((
                    channel,
                    StoredUpdate {
                        stored,
                        document,
                        update: LoggedUpdate {
                            version,
                            user_id: caller,
                            bytes,
                        },
                    },
                )));
            }
            AppendOutcome::NotMember => {
                return Err(ApiError::Forbidden("join the channel first".into()));
            }
            AppendOutcome::Raced => backoff(attempt).await,
        }
    }
    Err(ApiError::Unavailable(
        "the document kept changing; nothing was stored; retry".into(),
    ))
}

/// An update just stored, with the document it was checked against (for compaction).
#[derive(Debug)]
pub struct StoredUpdate {
    stored: StoredDocument,
    document: YDocument,
    update: LoggedUpdate,
}

/// Merges the log into a new snapshot when it passed a threshold (count, bytes, or the
/// snapshot's age while edited). A compaction that loses a race is skipped: the next update
/// tries again, and nothing is lost either way.
pub async fn compact_if_due(
    state: &AppState,
    channel_id: ChannelId,
    stored: StoredUpdate,
) -> ApiResult<()> {
    let StoredUpdate {
        stored,
        document,
        update,
    } = stored;
    let Some(meta) = stored.meta.as_ref() else {
        return Ok(()); // the first update: nothing to merge yet
    };
    let count = stored.log.len() as u64 + 1;
    let bytes: u64 = stored
        .log
        .iter()
        .map(|logged| logged.bytes.len() as u64)
        .sum::<u64>()
        + update.bytes.len() as u64;
    let age = (clock::now() - meta.snapshot_at).num_seconds();
    if count < COMPACT_AFTER_UPDATES && bytes < COMPACT_AFTER_BYTES && age < COMPACT_AFTER_SECONDS {
        return Ok(());
    }
    let mut merged: Vec<LoggedUpdate> = stored.log;
    merged.push(update);
    let (snapshot, merged) = if merged.len() <= COMPACT_MAX_UPDATES {
        (document.state(), merged)
    } else {
        merged.truncate(COMPACT_MAX_UPDATES);
        let partial = YDocument::build(
            &stored.snapshot,
            merged.iter().map(|logged| logged.bytes.as_slice()),
        )?;
        (partial.state(), merged)
    };
    let Some(last) = merged.last() else {
        return Ok(());
    };
    let revision = NewRevision {
        version: last.version,
        state: &snapshot,
        by: last.user_id,
        at: clock::now(),
        reason: RevisionReason::Compaction,
    };
    let outcome = state
        .store
        .compact_document(channel_id, meta.snapshot_version, &revision, &merged)
        .await?;
    if outcome == CompactOutcome::Compacted {
        tracing::debug!(channel_id = %channel_id, version = revision.version, merged = merged.len(), "document compacted");
        prune(state, channel_id, meta.revision_count + 1).await;
    }
    Ok(())
}

/// The `doc.awareness` frame (members): the payload checked (base64, size); it is relayed,
/// never stored.
pub async fn live_awareness(
    state: &AppState,
    caller: UserId,
    channel_id: ChannelId,
    update: &str,
) -> ApiResult<ChannelAccess> {
    let channel = document_channel(state, channel_id, caller).await?;
    channel.require_member()?;
    decode_base64("update", update, AWARENESS_MAX_BYTES)?;
    Ok(channel)
}
