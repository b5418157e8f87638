//! Full-text search over messages. DynamoDB has no text index, so the stream-driven
//! indexer keeps one posting item per (workspace, term, message); a search intersects the
//! postings of its terms, newest first, keeping only channels the caller may read. The
//! work per request is bounded whatever the workspace's size: a few windows of postings,
//! and the channels of the matches checked as they come, at most
//! [`SEARCH_CHANNELS_MAX`] of them.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;

use crate::access;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, MessageId, UserId, WorkspaceId};
use crate::keys;
use crate::messages::MessageView;
use crate::messages::{StoredMessage, message_from_image};
use crate::pagination::PageQuery;
use crate::search::Posting;
use crate::state::AppState;
use crate::stream::{Change, ChangeKind};
use crate::table::Page;

/// Longest indexed word; longer ones are not searchable.
pub const TERM_MAX: usize = 64;
/// Most distinct terms indexed per message.
pub const TERMS_PER_MESSAGE_MAX: usize = 1000;
/// Most terms in one query.
pub const QUERY_TERMS_MAX: usize = 8;
/// Postings read per term per window.
const WINDOW: i32 = 200;
/// Windows scanned per request before answering (possibly with fewer items and a cursor).
const WINDOWS_PER_REQUEST: usize = 5;
/// Distinct channels a search request checks (the channel's record and the caller's
/// membership) at most. A full page of results from as many different channels fits;
/// matches in further channels wait for the next page (a short page with a cursor).
pub const SEARCH_CHANNELS_MAX: usize = 100;

/// The words of a text: runs of letters and digits, lower-cased, deduplicated.
pub fn terms(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && word.chars().count() <= TERM_MAX)
        .map(str::to_lowercase)
        .take(TERMS_PER_MESSAGE_MAX)
        .collect()
}

/// The searchable terms of a message image (none for a deleted message).
fn indexed_terms(stored: &StoredMessage) -> BTreeSet<String> {
    if stored.message.deleted {
        BTreeSet::new()
    } else {
        terms(&stored.message.content)
    }
}

async fn index_change(state: &AppState, change: &Change) -> ApiResult<()> {
    if change.entity() != Some(keys::entity::MESSAGE) {
        return Ok(());
    }
    let decode =
        |image: &Option<serde_dynamo::Item>| image.clone().map(message_from_image).transpose();
    let old = decode(&change.old)?;
    let new = match change.kind {
        ChangeKind::Remove => None,
        ChangeKind::Insert | ChangeKind::Modify => decode(&change.new)?,
    };
    let Some(message) = new
        .as_ref()
        .or(old.as_ref())
        .map(|stored| stored.message.clone())
    else {
        return Ok(());
    };
    let before = old.as_ref().map(indexed_terms).unwrap_or_default();
    let after = new.as_ref().map(indexed_terms).unwrap_or_default();
    let removed: Vec<String> = before.difference(&after).cloned().collect();
    let added: Vec<String> = after.difference(&before).cloned().collect();
    if !removed.is_empty() {
        state
            .store
            .delete_postings(message.workspace_id, message.id, &removed)
            .await?;
    }
    if !added.is_empty() {
        let posting = Posting {
            message_id: message.id,
            channel_id: message.channel_id,
        };
        state
            .store
            .put_postings(message.workspace_id, &posting, &added)
            .await?;
    }
    Ok(())
}

/// Indexes a batch of stream records; returns the ids of the records that failed (to be
/// retried), so one bad record never holds back the others. Indexing is idempotent.
pub async fn index_changes(state: &AppState, changes: &[Change]) -> Vec<String> {
    crate::stream::each_change(changes, "indexing a stream record", |change| {
        index_change(state, change)
    })
    .await
}

/// `GET /v1/workspaces/{wid}/search?q&channel_id&limit&cursor`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find; a message matches when it has every one.
    #[serde(default)]
    #[param(required = true)]
    pub q: Option<String>,
    /// Only this channel's messages.
    #[serde(default)]
    #[param(value_type = Option<ChannelId>)]
    pub channel_id: Option<String>,
    /// Items per page (default 50).
    #[serde(default)]
    #[param(value_type = Option<i32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The list a search cursor belongs to: its workspace, terms and channel filter.
fn cursor_scope(
    workspace_id: WorkspaceId,
    terms: &[String],
    channel: Option<ChannelId>,
) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(&("search", workspace_id, terms, channel)).map_err(ApiError::internal)
}

/// Messages containing every term of `q`, newest first, from channels the caller may read.
/// A page may hold fewer than `limit` items while `next_cursor` says there is more to scan.
/// The cursor is sealed (it holds the message id to continue below, which may belong to a
/// message the caller cannot see) and only continues the same search.
pub async fn search(
    state: &AppState,
    caller: UserId,
    workspace_id: WorkspaceId,
    query: SearchQuery,
) -> ApiResult<Page<MessageView>> {
    let query_terms: Vec<String> = terms(query.q.as_deref().unwrap_or_default())
        .into_iter()
        .collect();
    let mut check = crate::validate::Validator::new();
    if query_terms.is_empty() || query_terms.len() > QUERY_TERMS_MAX {
        check.add("q", format!("must hold 1 to {QUERY_TERMS_MAX} words"));
    }
    let channel_filter = match query.channel_id.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<ChannelId>() {
            Ok(id) => Some(id),
            Err(_) => {
                check.add("channel_id", "must be a channel id");
                None
            }
        },
    };
    check.finish()?;
    let limit = PageQuery {
        limit: query.limit,
        cursor: None,
    }
    .validate()?
    .limit as usize;
    let scope = cursor_scope(workspace_id, &query_terms, channel_filter)?;
    let mut below = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(cursor) => {
            let opened = state.store.cursors().open(&scope, cursor)?;
            let id = std::str::from_utf8(&opened)
                .ok()
                .and_then(|id| id.parse::<MessageId>().ok())
                .ok_or_else(|| ApiError::invalid("invalid cursor"))?;
            Some(id)
        }
    };

    let filter_ids: Vec<ChannelId> = channel_filter.into_iter().collect();
    let (_, mut readable) = tokio::try_join!(
        access::workspace(state, workspace_id, caller),
        access::readable_channels(state, workspace_id, caller, &filter_ids)
    )?;
    if let Some(channel) = channel_filter
        && readable.get(&channel) != Some(&true)
    {
        return Err(ApiError::not_found("channel"));
    }

    let mut hits: Vec<Posting> = Vec::new();
    let mut exhausted = false;
    for _ in 0..WINDOWS_PER_REQUEST {
        // The channel budget is spent: continue from here on the next page.
        if readable.len() >= SEARCH_CHANNELS_MAX {
            break;
        }
        let windows = futures::future::try_join_all(
            query_terms
                .iter()
                .map(|term| state.store.list_postings(workspace_id, term, below, WINDOW)),
        )
        .await?;
        // A term with no postings left means nothing more can match.
        if windows
            .iter()
            .any(|w| w.items.is_empty() && w.next_cursor.is_none())
        {
            exhausted = true;
            break;
        }
        // Every term is complete down to the highest of the windows' lowest ids (the
        // frontier); what lies at or above it can be decided now.
        let frontier = windows
            .iter()
            .filter(|window| window.next_cursor.is_some())
            .filter_map(|window| window.items.last().map(|p| p.message_id))
            .max();
        let mut counts: HashMap<MessageId, (usize, ChannelId)> = HashMap::new();
        for window in &windows {
            for posting in &window.items {
                counts
                    .entry(posting.message_id)
                    .or_insert((0, posting.channel_id))
                    .0 += 1;
            }
        }
        let mut candidates: Vec<Posting> = counts
            .into_iter()
            .filter(|(id, (count, channel))| {
                *count == query_terms.len()
                    && frontier.is_none_or(|f| *id >= f)
                    && channel_filter.is_none_or(|c| c == *channel)
            })
            .map(|(message_id, (_, channel_id))| Posting {
                message_id,
                channel_id,
            })
            .collect();
        candidates.sort_by_key(|p| std::cmp::Reverse(p.message_id));
        // Check the candidates' channels not checked yet, newest first, within the budget
        // (which has room for at least one); candidates beyond it wait for the next page.
        let mut unchecked: Vec<ChannelId> = Vec::new();
        let mut decided = candidates.len();
        for (index, posting) in candidates.iter().enumerate() {
            let channel = posting.channel_id;
            if readable.contains_key(&channel) || unchecked.contains(&channel) {
                continue;
            }
            if readable.len() + unchecked.len() >= SEARCH_CHANNELS_MAX {
                decided = index;
                break;
            }
            unchecked.push(channel);
        }
        if !unchecked.is_empty() {
            readable
                .extend(access::readable_channels(state, workspace_id, caller, &unchecked).await?);
        }
        let cut = decided < candidates.len();
        candidates.truncate(decided);
        let resume = candidates.last().map(|p| p.message_id);
        hits.extend(
            candidates
                .into_iter()
                .filter(|p| readable.get(&p.channel_id) == Some(&true)),
        );
        if cut {
            // `decided` is at least one: the first unchecked channel always fits.
            below = resume.or(below);
            break;
        }
        match frontier {
            None => {
                exhausted = true;
                break;
            }
            Some(frontier) => below = Some(frontier),
        }
        if hits.len() > limit {
            break;
        }
    }
    let next_below = if hits.len() > limit {
        hits.truncate(limit);
        hits.last().map(|p| p.message_id)
    } else if exhausted {
        None
    } else {
        below
    };
    let next_cursor = next_below
        .map(|id| {
            state
                .store
                .cursors()
                .seal(&scope, id.to_string().as_bytes())
        })
        .transpose()?;
    let ids: Vec<(ChannelId, MessageId)> =
        hits.iter().map(|p| (p.channel_id, p.message_id)).collect();
    let items = state
        .store
        .get_messages(&ids)
        .await?
        .into_iter()
        .filter(|stored| !stored.message.deleted)
        .collect();
    crate::messages::views(state, Page { items, next_cursor }, caller).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_lowercased_words() {
        let found: Vec<String> = terms("Hello, WORLD! héllo-wörld 42 <@01J> x")
            .into_iter()
            .collect();
        assert_eq!(
            found,
            ["01j", "42", "hello", "héllo", "world", "wörld", "x"]
        );
        assert!(terms(&"a".repeat(65)).is_empty());
        assert!(terms("  ,;  ").is_empty());
    }
}
