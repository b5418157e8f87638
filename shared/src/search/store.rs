//! Search postings: one item per (workspace, term, message), written and removed by the
//! stream-driven indexer and read, newest first, by the search route.

use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::ids::{ChannelId, MessageId, WorkspaceId};
use crate::keys::{self, Key};
use crate::table::{Page, PageRequest, Store};

/// `term` occurs in `message_id` (of `channel_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub message_id: MessageId,
    pub channel_id: ChannelId,
}

#[derive(Serialize, Deserialize)]
struct PostingItem {
    #[serde(flatten)]
    key: Key,
    #[serde(rename = "type")]
    entity: String,
    #[serde(flatten)]
    posting: Posting,
}

impl Store {
    /// Writes the postings of `terms` for one message (idempotent).
    pub async fn put_postings(
        &self,
        workspace_id: WorkspaceId,
        posting: &Posting,
        terms: &[String],
    ) -> ApiResult<()> {
        let wid = workspace_id.to_string();
        let mid = posting.message_id.to_string();
        let items: Vec<PostingItem> = terms
            .iter()
            .map(|term| PostingItem {
                key: keys::search_posting(&wid, term, &mid),
                entity: keys::entity::SEARCH_TERM.into(),
                posting: posting.clone(),
            })
            .collect();
        self.put_items(&items).await
    }

    /// Removes the postings of `terms` for one message (idempotent).
    pub async fn delete_postings(
        &self,
        workspace_id: WorkspaceId,
        message_id: MessageId,
        terms: &[String],
    ) -> ApiResult<()> {
        let (wid, mid) = (workspace_id.to_string(), message_id.to_string());
        let keys: Vec<Key> = terms
            .iter()
            .map(|term| keys::search_posting(&wid, term, &mid))
            .collect();
        self.delete_keys(&keys).await
    }

    /// A window of a term's postings, newest first, strictly below `below` if given.
    pub async fn list_postings(
        &self,
        workspace_id: WorkspaceId,
        term: &str,
        below: Option<MessageId>,
        limit: i32,
    ) -> ApiResult<Page<Posting>> {
        let mut partition = keys::search_term(&workspace_id.to_string(), term);
        if let Some(below) = below {
            partition = partition.before(&below.to_string());
        }
        let page = PageRequest {
            limit,
            cursor: None,
        };
        let page: Page<PostingItem> = self.query_page(&partition, &page, false).await?;
        Ok(page.map(|item| item.posting))
    }
}
