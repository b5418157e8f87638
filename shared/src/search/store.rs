//! Search postings: one item per (workspace, term, message), written and removed by the
//! stream-driven indexer and read, newest first, by the search route.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::channels::Membership;
use crate::channels::{Channel, ChannelMember};
use crate::error::ApiResult;
use crate::ids::{ChannelId, MessageId, UserId, WorkspaceId};
use crate::keys::{self, Key};
use crate::table::{Item, Page, PageRequest, Store, take_item};

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
        let items: Vec<PostingItem> = terms
            .iter()
            .map(|term| PostingItem {
                key: keys::search_posting(workspace_id, term, posting.message_id),
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
        let keys: Vec<Key> = terms
            .iter()
            .map(|term| keys::search_posting(workspace_id, term, message_id))
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
        let mut partition = keys::search_term(workspace_id, term);
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

    /// The given channels with `user_id`'s membership of each, in one batch read of both
    /// (what a search needs to know which postings the user may read). Channels that do
    /// not exist come back with `channel: None`.
    pub async fn get_channels_with_member(
        &self,
        channel_ids: &[ChannelId],
        user_id: UserId,
    ) -> ApiResult<HashMap<ChannelId, Membership>> {
        let pairs: Vec<(ChannelId, Key, Key)> = channel_ids
            .iter()
            .map(|id| (*id, keys::channel(*id), keys::channel_member(*id, user_id)))
            .collect();
        let keys: Vec<Key> = pairs
            .iter()
            .flat_map(|(_, channel, member)| [channel.clone(), member.clone()])
            .collect();
        let mut items: Vec<Item> = self.batch_get_items(&keys).await?;
        let mut found = HashMap::with_capacity(pairs.len());
        for (id, channel_key, member_key) in pairs {
            // The models are the items' flattened fields: decode them directly.
            let channel: Option<Channel> = take_item(&mut items, &channel_key)?;
            let member: Option<ChannelMember> = take_item(&mut items, &member_key)?;
            found.insert(id, Membership { channel, member });
        }
        Ok(found)
    }
}
