//! Documents in the table: the record (`META`), the append-only update log (`UPD#version`),
//! revisions (`REV#version`) whose snapshots span part items (`PART#version#n`).
//!
//! Consistency: every write that adds a version is conditioned on the record's `version`
//! (one writer per version); a compaction is conditioned on the record's `snapshot_version`
//! only and touches neither `version` nor the log above what it merged, so updates stored
//! while it runs stay in the log (nothing is lost). A load reads the record (strongly
//! consistent), then the snapshot and the log above it, and checks that it holds every
//! update up to the record's version; a read that raced a compaction (or lagged) is retried.
//! None of this needs Yjs: the bytes are opaque here.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::documents::model::binary;
use crate::documents::{
    COMPACT_MAX_UPDATES, DocumentMeta, RevisionReason, RevisionSummary, SNAPSHOT_PART_BYTES,
};
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, UserId};
use crate::keys::{self, Key};
use crate::table::{
    Page, PageRequest, Store, TransactOutcome, check_exists, delete_existing, put_new, take_item,
    to_attribute, to_attributes,
};

/// Loads retried when the log read misses updates the record counts (a compaction
/// meanwhile, or a lagging read).
const LOAD_ATTEMPTS: u32 = 6;

#[derive(Serialize, Deserialize)]
struct MetaItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    meta: DocumentMeta,
}

#[derive(Serialize, Deserialize)]
struct UpdateItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    channel_id: ChannelId,
    version: u64,
    user_id: UserId,
    created_at: DateTime<Utc>,
    #[serde(with = "binary")]
    update: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct RevisionItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    channel_id: ChannelId,
    version: u64,
    created_at: DateTime<Utc>,
    updated_by: UserId,
    reason: RevisionReason,
    /// Part items holding the snapshot.
    parts: u32,
    /// Bytes of the snapshot (all parts).
    state_bytes: u64,
}

#[derive(Serialize, Deserialize)]
struct PartItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    channel_id: ChannelId,
    version: u64,
    part: u32,
    #[serde(with = "binary")]
    state: Vec<u8>,
}

/// One update of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedUpdate {
    pub version: u64,
    pub user_id: UserId,
    pub bytes: Vec<u8>,
}

/// A document as stored: its record (`None`: never written), the base snapshot and the
/// log above it, up to the record's version.
#[derive(Debug, Clone, Default)]
pub struct StoredDocument {
    pub meta: Option<DocumentMeta>,
    pub snapshot: Vec<u8>,
    pub log: Vec<LoggedUpdate>,
}

impl StoredDocument {
    pub fn version(&self) -> u64 {
        self.meta.as_ref().map_or(0, |meta| meta.version)
    }

    pub fn snapshot_version(&self) -> u64 {
        self.meta.as_ref().map_or(0, |meta| meta.snapshot_version)
    }
}

/// A snapshot to write as a revision.
#[derive(Debug, Clone)]
pub struct NewRevision<'a> {
    pub version: u64,
    pub state: &'a [u8],
    pub by: UserId,
    pub at: DateTime<Utc>,
    pub reason: RevisionReason,
}

/// How appending an update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Stored as this version.
    Stored(u64),
    /// Another change took the version first: load again and retry.
    Raced,
    /// The writer is no longer a member of the channel.
    NotMember,
}

/// How a save (a new version that is also a snapshot) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotSaveOutcome {
    Saved,
    Raced,
    NotMember,
}

/// How a compaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactOutcome {
    Compacted,
    /// Another compaction or save moved the snapshot first; nothing was written.
    Raced,
}

fn update_builder(
    table: &str,
    key: &Key,
) -> ApiResult<aws_sdk_dynamodb::types::builders::UpdateBuilder> {
    Ok(Update::builder()
        .table_name(table)
        .set_key(Some(to_attributes(key)?)))
}

fn meta_condition(meta: Option<&DocumentMeta>) -> String {
    match meta {
        None => crate::table::item_is_new(),
        Some(_) => "version = :expected".to_owned(),
    }
}

/// The revision item and part items of a snapshot.
fn revision_puts(
    table: &str,
    channel_id: ChannelId,
    revision: &NewRevision<'_>,
) -> ApiResult<Vec<TransactWriteItem>> {
    let chunks: Vec<&[u8]> = if revision.state.is_empty() {
        vec![&[][..]]
    } else {
        revision.state.chunks(SNAPSHOT_PART_BYTES).collect()
    };
    let parts = u32::try_from(chunks.len()).map_err(ApiError::internal)?;
    let mut writes = vec![put_new(
        table,
        &RevisionItem {
            key: keys::document_revision(channel_id, revision.version),
            entity: keys::entity::DOCUMENT_REVISION.into(),
            channel_id,
            version: revision.version,
            created_at: revision.at,
            updated_by: revision.by,
            reason: revision.reason,
            parts,
            state_bytes: revision.state.len() as u64,
        },
    )?];
    for (index, chunk) in chunks.into_iter().enumerate() {
        let part = u32::try_from(index).map_err(ApiError::internal)?;
        writes.push(put_new(
            table,
            &PartItem {
                key: keys::document_part(channel_id, revision.version, part),
                entity: keys::entity::DOCUMENT_PART.into(),
                channel_id,
                version: revision.version,
                part,
                state: chunk.to_vec(),
            },
        )?);
    }
    Ok(writes)
}

fn parts_of(state: &[u8]) -> u32 {
    u32::try_from(state.len().div_ceil(SNAPSHOT_PART_BYTES).max(1)).unwrap_or(u32::MAX)
}

impl Store {
    /// A document's record, if it was ever written.
    pub async fn get_document_meta(
        &self,
        channel_id: ChannelId,
    ) -> ApiResult<Option<DocumentMeta>> {
        let item: Option<MetaItem> = self.get(keys::document(channel_id)).await?;
        Ok(item.map(|item| item.meta))
    }

    /// The state of a revision's snapshot, joined from its parts; `None` if it is gone.
    async fn snapshot_state(
        &self,
        channel_id: ChannelId,
        version: u64,
        parts: u32,
    ) -> ApiResult<Option<Vec<u8>>> {
        let keys: Vec<Key> = (0..parts)
            .map(|part| keys::document_part(channel_id, version, part))
            .collect();
        let mut found: Vec<PartItem> = self.batch_get(&keys).await?;
        if found.len() != keys.len() {
            return Ok(None);
        }
        found.sort_by_key(|item| item.part);
        Ok(Some(
            found.into_iter().flat_map(|item| item.state).collect(),
        ))
    }

    /// Loads a document: its record, the base snapshot and every update above it up to the
    /// record's version, checked complete (a read that raced a compaction is retried).
    /// The record and the log are read at once. `expected_snapshot` is the version the
    /// caller expects the snapshot at (a writer's base version: a REST save leaves the
    /// snapshot at the current version); when it is right and the snapshot is one item,
    /// the snapshot comes in the same round trip, otherwise a second one reads it.
    pub async fn load_document(
        &self,
        channel_id: ChannelId,
        expected_snapshot: Option<u64>,
    ) -> ApiResult<StoredDocument> {
        for attempt in 1..=LOAD_ATTEMPTS {
            let guess = expected_snapshot.filter(|version| *version > 0 && attempt == 1);
            let log_range = keys::document_updates(channel_id)
                .after(&keys::document_update(channel_id, guess.unwrap_or(0)).sk);
            let ((meta, guessed_part), log): (_, Vec<UpdateItem>) = tokio::try_join!(
                self.document_meta_and_part(channel_id, guess),
                self.query_all(&log_range, usize::MAX)
            )?;
            let Some(meta) = meta else {
                return Ok(StoredDocument::default());
            };
            let base = meta.snapshot_version;
            let snapshot = match guessed_part {
                _ if base == 0 => Some(Vec::new()),
                Some(part) if part.version == base && meta.snapshot_parts == 1 => Some(part.state),
                _ => {
                    self.snapshot_state(channel_id, base, meta.snapshot_parts)
                        .await?
                }
            };
            let log: Vec<LoggedUpdate> = log
                .into_iter()
                .filter(|item| item.version > base && item.version <= meta.version)
                .map(|item| LoggedUpdate {
                    version: item.version,
                    user_id: item.user_id,
                    bytes: item.update,
                })
                .collect();
            let complete = log.len() as u64 == meta.version - base
                && log
                    .iter()
                    .zip(base + 1..)
                    .all(|(update, expected)| update.version == expected);
            if let (Some(snapshot), true) = (snapshot, complete) {
                return Ok(StoredDocument {
                    meta: Some(meta),
                    snapshot,
                    log,
                });
            }
            tracing::debug!(channel_id = %channel_id, attempt, "document read raced a compaction; reading again");
            tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
        }
        Err(ApiError::Unavailable(
            "the document kept changing while it was read; retry".into(),
        ))
    }

    /// The document's record and, when `snapshot_version` is given, the first part of the
    /// snapshot at that version, in one read.
    async fn document_meta_and_part(
        &self,
        channel_id: ChannelId,
        snapshot_version: Option<u64>,
    ) -> ApiResult<(Option<DocumentMeta>, Option<PartItem>)> {
        let Some(version) = snapshot_version else {
            return Ok((self.get_document_meta(channel_id).await?, None));
        };
        let meta_key = keys::document(channel_id);
        let part_key = keys::document_part(channel_id, version, 0);
        let mut items = self
            .batch_get_items(&[meta_key.clone(), part_key.clone()])
            .await?;
        let meta: Option<MetaItem> = take_item(&mut items, &meta_key)?;
        let part: Option<PartItem> = take_item(&mut items, &part_key)?;
        Ok((meta.map(|item| item.meta), part))
    }

    /// Appends one update to the log as the next version, if the document is still at the
    /// version `current` was read at and the writer is still a member of the channel.
    pub async fn append_document_update(
        &self,
        channel_id: ChannelId,
        current: Option<&DocumentMeta>,
        update: &[u8],
        by: UserId,
        at: DateTime<Utc>,
    ) -> ApiResult<AppendOutcome> {
        const RECORD: usize = 1;
        const MEMBERSHIP: usize = 2;
        let table = self.table();
        let version = current.map_or(0, |meta| meta.version) + 1;
        let log_item = UpdateItem {
            key: keys::document_update(channel_id, version),
            entity: keys::entity::DOCUMENT_UPDATE.into(),
            channel_id,
            version,
            user_id: by,
            created_at: at,
            update: update.to_vec(),
        };
        let record = match current {
            None => put_new(
                table,
                &MetaItem {
                    key: keys::document(channel_id),
                    entity: keys::entity::DOCUMENT.into(),
                    meta: DocumentMeta {
                        channel_id,
                        version,
                        updated_at: at,
                        updated_by: by,
                        snapshot_version: 0,
                        snapshot_parts: 0,
                        snapshot_at: at,
                        log_count: 1,
                        log_bytes: update.len() as u64,
                        revision_count: 0,
                    },
                },
            )?,
            Some(meta) => TransactWriteItem::builder()
                .update(
                    update_builder(table, &keys::document(channel_id))?
                        .update_expression(
                            "SET version = :version, updated_at = :at, updated_by = :by \
                             ADD log_count :one, log_bytes :bytes",
                        )
                        .condition_expression(meta_condition(Some(meta)))
                        .expression_attribute_values(":expected", to_attribute(&meta.version)?)
                        .expression_attribute_values(":version", to_attribute(&version)?)
                        .expression_attribute_values(":at", to_attribute(&at)?)
                        .expression_attribute_values(":by", to_attribute(&by)?)
                        .expression_attribute_values(":one", to_attribute(&1u64)?)
                        .expression_attribute_values(
                            ":bytes",
                            to_attribute(&(update.len() as u64))?,
                        )
                        .build()
                        .map_err(ApiError::internal)?,
                )
                .build(),
        };
        let items = vec![
            put_new(table, &log_item)?,
            record,
            check_exists(table, &keys::channel_member(channel_id, by))?,
        ];
        Ok(match self.transact(items).await? {
            TransactOutcome::Committed => AppendOutcome::Stored(version),
            failed if failed.failed_at(MEMBERSHIP) => AppendOutcome::NotMember,
            failed if failed.failed_at(RECORD) => AppendOutcome::Raced,
            TransactOutcome::ConditionFailed(codes) => {
                return Err(TransactOutcome::cancelled(
                    "appending a document update",
                    &codes,
                ));
            }
        })
    }

    /// Stores a new version that is also a snapshot (a save or a restore): the revision
    /// and its parts, the log it supersedes removed (at most [`COMPACT_MAX_UPDATES`] of
    /// it; a longer log's rest lies below the new snapshot, never read again), and the
    /// record moved, if the document is still as `current` was read and the writer is
    /// still a member.
    pub async fn save_document_snapshot(
        &self,
        channel_id: ChannelId,
        current: Option<&DocumentMeta>,
        revision: &NewRevision<'_>,
        superseded_log: &[u64],
    ) -> ApiResult<SnapshotSaveOutcome> {
        const RECORD: usize = 0;
        const MEMBERSHIP: usize = 1;
        let table = self.table();
        let key = keys::document(channel_id);
        let record = match current {
            None => put_new(
                table,
                &MetaItem {
                    key,
                    entity: keys::entity::DOCUMENT.into(),
                    meta: DocumentMeta {
                        channel_id,
                        version: revision.version,
                        updated_at: revision.at,
                        updated_by: revision.by,
                        snapshot_version: revision.version,
                        snapshot_parts: parts_of(revision.state),
                        snapshot_at: revision.at,
                        log_count: 0,
                        log_bytes: 0,
                        revision_count: 1,
                    },
                },
            )?,
            Some(meta) => TransactWriteItem::builder()
                .update(
                    update_builder(table, &key)?
                        .update_expression(
                            "SET version = :version, updated_at = :at, updated_by = :by, \
                             snapshot_version = :version, snapshot_parts = :parts, \
                             snapshot_at = :at, log_count = :zero, log_bytes = :zero \
                             ADD revision_count :one",
                        )
                        .condition_expression(
                            "version = :expected AND snapshot_version = :expected_snapshot",
                        )
                        .expression_attribute_values(":expected", to_attribute(&meta.version)?)
                        .expression_attribute_values(
                            ":expected_snapshot",
                            to_attribute(&meta.snapshot_version)?,
                        )
                        .expression_attribute_values(":version", to_attribute(&revision.version)?)
                        .expression_attribute_values(":at", to_attribute(&revision.at)?)
                        .expression_attribute_values(":by", to_attribute(&revision.by)?)
                        .expression_attribute_values(
                            ":parts",
                            to_attribute(&parts_of(revision.state))?,
                        )
                        .expression_attribute_values(":zero", to_attribute(&0u64)?)
                        .expression_attribute_values(":one", to_attribute(&1u64)?)
                        .build()
                        .map_err(ApiError::internal)?,
                )
                .build(),
        };
        let mut items = vec![
            record,
            check_exists(table, &keys::channel_member(channel_id, revision.by))?,
        ];
        items.extend(revision_puts(table, channel_id, revision)?);
        for version in superseded_log.iter().take(COMPACT_MAX_UPDATES) {
            items.push(delete_existing(
                table,
                &keys::document_update(channel_id, *version),
            )?);
        }
        Ok(match self.transact(items).await? {
            TransactOutcome::Committed => SnapshotSaveOutcome::Saved,
            failed if failed.failed_at(MEMBERSHIP) => SnapshotSaveOutcome::NotMember,
            // The record moved (a change or a compaction meanwhile; a log item it would
            // delete may be gone with it): read again.
            failed if failed.failed_at(RECORD) => SnapshotSaveOutcome::Raced,
            TransactOutcome::ConditionFailed(codes) => {
                return Err(TransactOutcome::cancelled("saving a document", &codes));
            }
        })
    }

    /// Merges the log's first updates into a new snapshot at the version of the last one
    /// merged, in one transaction conditioned on the snapshot it started from: the
    /// revision and its parts written, the merged updates deleted, the record's snapshot
    /// pointer moved and its log counters lowered. Neither the record's version nor the
    /// updates above the merged ones are touched, so updates stored meanwhile stay.
    pub async fn compact_document(
        &self,
        channel_id: ChannelId,
        from_snapshot: u64,
        revision: &NewRevision<'_>,
        merged: &[LoggedUpdate],
    ) -> ApiResult<CompactOutcome> {
        let table = self.table();
        let merged_bytes: u64 = merged.iter().map(|update| update.bytes.len() as u64).sum();
        let record = update_builder(table, &keys::document(channel_id))?
            .update_expression(
                "SET snapshot_version = :version, snapshot_parts = :parts, snapshot_at = :at \
                 ADD log_count :count, log_bytes :bytes, revision_count :one",
            )
            .condition_expression("snapshot_version = :expected_snapshot")
            .expression_attribute_values(":expected_snapshot", to_attribute(&from_snapshot)?)
            .expression_attribute_values(":version", to_attribute(&revision.version)?)
            .expression_attribute_values(":parts", to_attribute(&parts_of(revision.state))?)
            .expression_attribute_values(":at", to_attribute(&revision.at)?)
            .expression_attribute_values(":count", to_attribute(&-(merged.len() as i64))?)
            .expression_attribute_values(":bytes", to_attribute(&-(merged_bytes as i64))?)
            .expression_attribute_values(":one", to_attribute(&1u64)?)
            .build()
            .map_err(ApiError::internal)?;
        let mut items = vec![TransactWriteItem::builder().update(record).build()];
        items.extend(revision_puts(table, channel_id, revision)?);
        for update in merged {
            items.push(delete_existing(
                table,
                &keys::document_update(channel_id, update.version),
            )?);
        }
        Ok(match self.transact(items).await? {
            TransactOutcome::Committed => CompactOutcome::Compacted,
            TransactOutcome::ConditionFailed(_) => CompactOutcome::Raced,
        })
    }

    /// A page of a document's revisions, newest first.
    pub async fn list_document_revisions(
        &self,
        channel_id: ChannelId,
        page: &PageRequest,
    ) -> ApiResult<Page<RevisionSummary>> {
        let items: Page<RevisionItem> = self
            .query_page(&keys::document_revisions(channel_id), page, false)
            .await?;
        Ok(items.map(|item| RevisionSummary {
            version: item.version,
            created_at: item.created_at,
            updated_by: item.updated_by,
        }))
    }

    /// A revision and its snapshot's state; `None` if there is no such revision.
    pub async fn get_document_revision(
        &self,
        channel_id: ChannelId,
        version: u64,
    ) -> ApiResult<Option<(RevisionSummary, Vec<u8>)>> {
        // The record and the snapshot's first part in one read: most snapshots are one part.
        let record_key = keys::document_revision(channel_id, version);
        let first_key = keys::document_part(channel_id, version, 0);
        let mut items = self
            .batch_get_items(&[record_key.clone(), first_key.clone()])
            .await?;
        let Some(item): Option<RevisionItem> = take_item(&mut items, &record_key)? else {
            return Ok(None);
        };
        let first: Option<PartItem> = take_item(&mut items, &first_key)?;
        let state = match first {
            Some(part) if item.parts == 1 => Some(part.state),
            _ => self.snapshot_state(channel_id, version, item.parts).await?,
        };
        let Some(state) = state else {
            return Ok(None);
        };
        Ok(Some((
            RevisionSummary {
                version: item.version,
                created_at: item.created_at,
                updated_by: item.updated_by,
            },
            state,
        )))
    }

    /// Deletes the oldest revisions beyond `keep`, never the document's base snapshot; each
    /// in one transaction with the record's count, so concurrent pruners delete each once.
    pub async fn prune_document_revisions(
        &self,
        channel_id: ChannelId,
        keep: u64,
    ) -> ApiResult<()> {
        let Some(meta) = self.get_document_meta(channel_id).await? else {
            return Ok(());
        };
        let excess = meta.revision_count.saturating_sub(keep);
        if excess == 0 {
            return Ok(());
        }
        let oldest: Page<RevisionItem> = self
            .query_page(
                &keys::document_revisions(channel_id),
                &PageRequest {
                    limit: i32::try_from(excess.min(25)).unwrap_or(25),
                    cursor: None,
                },
                true,
            )
            .await?;
        let table = self.table();
        for revision in oldest.items {
            if revision.version >= meta.snapshot_version {
                break;
            }
            let record = update_builder(table, &keys::document(channel_id))?
                .update_expression("ADD revision_count :minus_one")
                .condition_expression("snapshot_version <> :version")
                .expression_attribute_values(":minus_one", to_attribute(&-1i64)?)
                .expression_attribute_values(":version", to_attribute(&revision.version)?)
                .build()
                .map_err(ApiError::internal)?;
            let mut items = vec![
                TransactWriteItem::builder().update(record).build(),
                delete_existing(table, &revision.key)?,
            ];
            for part in 0..revision.parts {
                items.push(delete_existing(
                    table,
                    &keys::document_part(channel_id, revision.version, part),
                )?);
            }
            // A failed condition: another pruner took it first.
            self.transact(items).await?;
        }
        Ok(())
    }

    /// Everything a deleted channel's document leaves behind.
    pub async fn document_leftover_keys(&self, channel_id: ChannelId) -> ApiResult<Vec<Key>> {
        self.keys_in(&keys::document_partition(channel_id)).await
    }
}
