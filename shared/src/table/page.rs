//! Cursor pagination over Query, and batched reads and writes. A cursor is the position
//! after the last item of a page (the Query's `LastEvaluatedKey`, or the key of the last
//! item a filtered page kept), sealed by [`CursorKey`] for its list: opaque, tamper-proof
//! and refused (400) by any other list. What it holds is exactly the list's key set
//! minus the partition key, which the list itself supplies.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::cursor::CursorKey;
use super::{Item, Store, dynamo_error, from_attributes, to_attribute, to_attributes};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, Key, Partition, SortRange};

/// BatchGetItem calls in flight at once for one read of more than 100 keys.
const BATCH_GETS_IN_FLIGHT: usize = 8;

/// One page of a list, as every list route answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// Where a page starts and how long it is (already validated).
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: i32,
    pub cursor: Option<String>,
}

/// Items a filtered page reads (and hands to its filter) per request at most. A page can
/// come back short, with a cursor, only after this many items in a row were left out.
pub const SELECT_SCAN_MAX: usize = 1000;
/// Items per Query after a filtered page's first one.
const SELECT_READ: i32 = 100;

/// The list a partition's cursors belong to: the associated data they are sealed with.
/// Ranges narrowed by `before`/`after` belong to the same list (the position is checked
/// against the range on opening); a prefix is part of the list's identity.
fn scope(partition: &Partition) -> ApiResult<Vec<u8>> {
    let prefix = match &partition.range {
        SortRange::Prefix(prefix) => prefix.as_str(),
        SortRange::All | SortRange::Below(_) | SortRange::Above(_) | SortRange::Between(..) => "",
    };
    serde_json::to_vec(&[
        "list",
        partition.index.unwrap_or("table"),
        partition.pk_attribute,
        partition.pk.as_str(),
        partition.sk_attribute,
        prefix,
    ])
    .map_err(ApiError::internal)
}

/// The attributes a position in the partition needs besides its partition key: the sort
/// key, and for an index the table's key (what DynamoDB's start key holds).
fn position_attributes(partition: &Partition) -> Vec<&'static str> {
    if partition.index.is_none() {
        vec![partition.sk_attribute]
    } else {
        vec![partition.sk_attribute, keys::PK, keys::SK]
    }
}

/// The key attributes of an item read from the partition: its position, as DynamoDB's
/// start key would give it.
fn position_of(partition: &Partition, item: &Item) -> Item {
    std::iter::once(partition.pk_attribute)
        .chain(position_attributes(partition))
        .filter_map(|name| item.get(name).map(|value| (name.to_owned(), value.clone())))
        .collect()
}

/// Seals the position of `key` (a start key, or an item read from the partition).
fn seal_position(cursors: &CursorKey, partition: &Partition, key: &Item) -> ApiResult<String> {
    let text = |name: &str| {
        key.get(name)
            .and_then(|value| value.as_s().ok())
            .filter(|value| !value.is_empty())
            .cloned()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a position lacks {name}")))
    };
    if text(partition.pk_attribute)? != partition.pk {
        return Err(ApiError::internal(anyhow::anyhow!(
            "a position outside its partition"
        )));
    }
    let values = position_attributes(partition)
        .into_iter()
        .map(text)
        .collect::<ApiResult<Vec<String>>>()?;
    let plaintext = serde_json::to_vec(&values).map_err(ApiError::internal)?;
    cursors.seal(&scope(partition)?, &plaintext)
}

/// Opens a cursor of this partition into the Query's start key. A cursor that does not
/// open, or whose position lies outside the (possibly narrowed) range, is a 400.
fn open_position(cursors: &CursorKey, partition: &Partition, cursor: &str) -> ApiResult<Item> {
    let invalid = || ApiError::invalid("invalid cursor");
    let plaintext = cursors.open(&scope(partition)?, cursor)?;
    let values: Vec<String> = serde_json::from_slice(&plaintext).map_err(|_| invalid())?;
    let names = position_attributes(partition);
    let well_formed = values.len() == names.len()
        && values.iter().all(|value| !value.is_empty())
        && values
            .first()
            .is_some_and(|sort_key| partition.range.contains(sort_key));
    if !well_formed {
        return Err(invalid());
    }
    let mut key = HashMap::with_capacity(names.len() + 1);
    key.insert(
        partition.pk_attribute.to_owned(),
        AttributeValue::S(partition.pk.clone()),
    );
    for (name, value) in names.into_iter().zip(values) {
        key.insert(name.to_owned(), AttributeValue::S(value));
    }
    Ok(key)
}

/// One Query's items and where the next one starts.
struct RawPage {
    items: Vec<Item>,
    last: Option<Item>,
}

impl Store {
    /// One Query of up to `limit` items of a partition, from `start`.
    async fn query_raw(
        &self,
        partition: &Partition,
        start: Option<Item>,
        limit: i32,
        forward: bool,
    ) -> ApiResult<RawPage> {
        self.query_raw_of(partition, start, limit, forward, &[])
            .await
    }

    /// [`Self::query_raw`] reading only `attributes` of each item (all of them if none are
    /// named). DynamoDB still returns the start key of the next Query whole.
    async fn query_raw_of(
        &self,
        partition: &Partition,
        start: Option<Item>,
        limit: i32,
        forward: bool,
        attributes: &[&str],
    ) -> ApiResult<RawPage> {
        let mut query = self.query_request(partition)?;
        if !attributes.is_empty() {
            let mut projection = Vec::with_capacity(attributes.len());
            for (index, attribute) in attributes.iter().enumerate() {
                let name = format!("#a{index}");
                query = query.expression_attribute_names(&name, *attribute);
                projection.push(name);
            }
            query = query.projection_expression(projection.join(", "));
        }
        let output = query
            .scan_index_forward(forward)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| dynamo_error("Query", e))?;
        Ok(RawPage {
            items: output.items.unwrap_or_default(),
            last: output.last_evaluated_key.filter(|key| !key.is_empty()),
        })
    }

    /// A Query of the partition's range, to be finished by the caller.
    fn query_request(
        &self,
        partition: &Partition,
    ) -> ApiResult<aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder> {
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .set_index_name(partition.index.map(str::to_owned))
            .expression_attribute_names("#pk", partition.pk_attribute)
            .expression_attribute_values(":pk", to_attribute(&partition.pk)?);
        let (condition, bounds): (_, &[&String]) = match &partition.range {
            SortRange::All => ("#pk = :pk", &[]),
            SortRange::Prefix(prefix) => ("#pk = :pk AND begins_with(#sk, :sk0)", &[prefix]),
            SortRange::Below(bound) => ("#pk = :pk AND #sk < :sk0", &[bound]),
            SortRange::Above(bound) => ("#pk = :pk AND #sk > :sk0", &[bound]),
            SortRange::Between(low, high) => {
                ("#pk = :pk AND #sk BETWEEN :sk0 AND :sk1", &[low, high])
            }
        };
        if !bounds.is_empty() {
            query = query.expression_attribute_names("#sk", partition.sk_attribute);
        }
        for (index, bound) in bounds.iter().enumerate() {
            query = query.expression_attribute_values(format!(":sk{index}"), to_attribute(bound)?);
        }
        Ok(query.key_condition_expression(condition))
    }

    /// Opens a page request's cursor for `partition` (a 400 unless it is one of its own).
    fn page_start(&self, partition: &Partition, page: &PageRequest) -> ApiResult<Option<Item>> {
        page.cursor
            .as_deref()
            .map(|cursor| open_position(self.cursors(), partition, cursor))
            .transpose()
    }

    /// One page of a partition, in sort-key order (`forward`) or reverse.
    pub(crate) async fn query_page<T: DeserializeOwned>(
        &self,
        partition: &Partition,
        page: &PageRequest,
        forward: bool,
    ) -> ApiResult<Page<T>> {
        self.query_page_of(partition, page, forward, &[]).await
    }

    /// [`Self::query_page`] reading only `attributes` of each item (all if none are named):
    /// for a hot read that needs a few small attributes of large items, so DynamoDB sends
    /// and the function parses less. `T` must not need any other attribute.
    pub(crate) async fn query_page_of<T: DeserializeOwned>(
        &self,
        partition: &Partition,
        page: &PageRequest,
        forward: bool,
        attributes: &[&str],
    ) -> ApiResult<Page<T>> {
        let start = self.page_start(partition, page)?;
        let raw = self
            .query_raw_of(partition, start, page.limit, forward, attributes)
            .await?;
        let items = raw
            .items
            .into_iter()
            .map(from_attributes)
            .collect::<ApiResult<Vec<T>>>()?;
        let next_cursor = raw
            .last
            .map(|last| seal_position(self.cursors(), partition, &last))
            .transpose()?;
        Ok(Page { items, next_cursor })
    }

    /// One page of the items of a partition that `select` keeps (`select` gets each batch
    /// read and answers, item by item, what to show or `None` to leave it out). Reads on
    /// until the page is full or the partition ends, at most [`SELECT_SCAN_MAX`] items, so
    /// a page is short only at the end or after that many left-out items in a row. The
    /// cursor is the position of the page's last item (or, when the scan bound ends the
    /// page, of the last item read); it is sealed, so it never shows what was left out.
    pub(crate) async fn query_selected<T, U, F, Fut>(
        &self,
        partition: &Partition,
        page: &PageRequest,
        forward: bool,
        mut select: F,
    ) -> ApiResult<Page<U>>
    where
        T: DeserializeOwned,
        F: FnMut(Vec<T>) -> Fut,
        Fut: Future<Output = ApiResult<Vec<Option<U>>>>,
    {
        let limit = usize::try_from(page.limit).unwrap_or(0).max(1);
        let mut start = self.page_start(partition, page)?;
        // The page's items with their positions; one more than the page holds tells
        // whether anything visible follows it.
        let mut kept: Vec<(U, Item)> = Vec::with_capacity(limit + 1);
        let mut scanned = 0;
        let mut read = i32::try_from(limit + 1).unwrap_or(SELECT_READ);
        loop {
            let raw = self.query_raw(partition, start, read, forward).await?;
            scanned += raw.items.len();
            let mut positions = Vec::with_capacity(raw.items.len());
            let mut decoded = Vec::with_capacity(raw.items.len());
            for item in raw.items {
                positions.push(position_of(partition, &item));
                decoded.push(from_attributes::<T>(item)?);
            }
            let chosen = select(decoded).await?;
            for (shown, position) in chosen.into_iter().zip(positions) {
                if let Some(shown) = shown {
                    kept.push((shown, position));
                    if kept.len() > limit {
                        break;
                    }
                }
            }
            if kept.len() > limit {
                kept.truncate(limit);
                let next_cursor = match kept.last() {
                    Some((_, position)) => {
                        Some(seal_position(self.cursors(), partition, position)?)
                    }
                    None => None,
                };
                return Ok(Page {
                    items: kept.into_iter().map(|(item, _)| item).collect(),
                    next_cursor,
                });
            }
            let Some(last) = raw.last else {
                return Ok(Page {
                    items: kept.into_iter().map(|(item, _)| item).collect(),
                    next_cursor: None,
                });
            };
            if scanned >= SELECT_SCAN_MAX {
                return Ok(Page {
                    items: kept.into_iter().map(|(item, _)| item).collect(),
                    next_cursor: Some(seal_position(self.cursors(), partition, &last)?),
                });
            }
            start = Some(last);
            read = SELECT_READ;
        }
    }

    /// Every item of a partition (for bounded sets such as one user's channels in one
    /// workspace), following pages up to `max_items`.
    pub(crate) async fn query_all<T: DeserializeOwned>(
        &self,
        partition: &Partition,
        max_items: usize,
    ) -> ApiResult<Vec<T>> {
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let raw = self.query_raw(partition, start, 100, true).await?;
            for item in raw.items {
                all.push(from_attributes(item)?);
            }
            match raw.last {
                Some(last) if all.len() < max_items => start = Some(last),
                _ => return Ok(all),
            }
        }
    }

    /// How many items the partition holds, counting at most `max` (DynamoDB counts; no
    /// item is returned): `(count, capped)`.
    pub(crate) async fn count_in(
        &self,
        partition: &Partition,
        max: usize,
    ) -> ApiResult<(usize, bool)> {
        let mut counted = 0usize;
        let mut start = None;
        loop {
            let remaining = i32::try_from(max - counted).unwrap_or(i32::MAX);
            let output = self
                .query_request(partition)?
                .select(aws_sdk_dynamodb::types::Select::Count)
                .limit(remaining)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| dynamo_error("Query", e))?;
            counted += usize::try_from(output.count).unwrap_or(0);
            match output.last_evaluated_key.filter(|key| !key.is_empty()) {
                Some(_) if counted >= max => return Ok((max, true)),
                Some(last) => start = Some(last),
                None => return Ok((counted, false)),
            }
        }
    }

    /// Reads items by key and decodes them as `T`; missing items are simply absent.
    pub(crate) async fn batch_get<T: DeserializeOwned>(&self, keys: &[Key]) -> ApiResult<Vec<T>> {
        self.batch_get_items(keys)
            .await?
            .into_iter()
            .map(from_attributes)
            .collect()
    }

    /// Reads items by key, 100 per BatchGetItem (retrying unprocessed keys), strongly
    /// consistent, in no particular order; missing items are simply absent. Larger reads
    /// run their chunks concurrently, `BATCH_GETS_IN_FLIGHT` at a time.
    pub(crate) async fn batch_get_items(&self, keys: &[Key]) -> ApiResult<Vec<Item>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut unique: Vec<Key> = Vec::with_capacity(keys.len());
        let mut seen = std::collections::HashSet::with_capacity(keys.len());
        for key in keys {
            if seen.insert((&key.pk, &key.sk)) {
                unique.push(key.clone());
            }
        }
        let chunks: Vec<Vec<Key>> = unique.chunks(100).map(<[Key]>::to_vec).collect();
        let chunks: Vec<Vec<Item>> = futures::stream::iter(chunks)
            .map(|chunk| async move { self.batch_get_chunk(&chunk).await })
            .buffer_unordered(BATCH_GETS_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(chunks.into_iter().flatten().collect())
    }

    /// One BatchGetItem of at most 100 keys, retrying unprocessed keys with backoff.
    async fn batch_get_chunk(&self, chunk: &[Key]) -> ApiResult<Vec<Item>> {
        let mut found = Vec::with_capacity(chunk.len());
        let mut request = KeysAndAttributes::builder().consistent_read(true);
        for key in chunk {
            request = request.keys(to_attributes(key)?);
        }
        let mut pending = Some(request.build().map_err(ApiError::internal)?);
        let mut attempt = 0u32;
        while let Some(keys_and_attributes) = pending.take() {
            attempt += 1;
            let output = self
                .client()
                .batch_get_item()
                .request_items(self.table(), keys_and_attributes)
                .send()
                .await
                .map_err(|e| dynamo_error("BatchGetItem", e))?;
            if let Some(mut responses) = output.responses
                && let Some(items) = responses.remove(self.table())
            {
                found.extend(items);
            }
            pending = output
                .unprocessed_keys
                .and_then(|mut unprocessed| unprocessed.remove(self.table()));
            if pending.is_some() {
                if attempt >= 8 {
                    return Err(ApiError::Unavailable(
                        "the service is busy; retry shortly".into(),
                    ));
                }
                tokio::time::sleep(super::backoff(attempt)).await;
            }
        }
        Ok(found)
    }
}

impl Store {
    /// The keys of every item of a partition (or index range), read page by page.
    pub(crate) async fn keys_in(&self, partition: &Partition) -> ApiResult<Vec<Key>> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let raw = self.query_raw(partition, start, 1000, true).await?;
            for item in raw.items {
                keys.push(from_attributes(item)?);
            }
            match raw.last {
                Some(last) => start = Some(last),
                None => return Ok(keys),
            }
        }
    }

    /// Unconditional deletes, 25 per BatchWriteItem.
    pub async fn delete_keys(&self, keys: &[Key]) -> ApiResult<()> {
        let mut requests = Vec::with_capacity(keys.len());
        for key in keys {
            let delete = DeleteRequest::builder()
                .set_key(Some(to_attributes(key)?))
                .build()
                .map_err(ApiError::internal)?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        self.batch_write(requests).await
    }

    /// Unconditional puts (overwrites), 25 per BatchWriteItem.
    pub(crate) async fn put_items<T: Serialize>(&self, items: &[T]) -> ApiResult<()> {
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            let put = PutRequest::builder()
                .set_item(Some(to_attributes(item)?))
                .build()
                .map_err(ApiError::internal)?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        self.batch_write(requests).await
    }

    /// Writes in batches of 25, retrying unprocessed items with backoff.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> ApiResult<()> {
        for chunk in requests.chunks(25) {
            let mut pending = Some(chunk.to_vec());
            let mut attempt = 0;
            while let Some(requests) = pending.take() {
                attempt += 1;
                let output = self
                    .client()
                    .batch_write_item()
                    .request_items(self.table(), requests)
                    .send()
                    .await
                    .map_err(|e| dynamo_error("BatchWriteItem", e))?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut unprocessed| unprocessed.remove(self.table()))
                    .filter(|left| !left.is_empty());
                if pending.is_some() {
                    if attempt >= 8 {
                        return Err(ApiError::Unavailable(
                            "the service is busy; retry shortly".into(),
                        ));
                    }
                    tokio::time::sleep(super::backoff(attempt)).await;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ids::{ChannelId, MessageId, UserId, WorkspaceId};

    fn cursors() -> CursorKey {
        CursorKey::derive(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    fn item<T: Serialize>(key: &T) -> Item {
        to_attributes(key).unwrap()
    }

    #[test]
    fn cursors_round_trip_and_stay_in_their_list() {
        let cursors = cursors();
        let (w1, w2, u1) = (
            WorkspaceId::generate(),
            WorkspaceId::generate(),
            UserId::generate(),
        );
        let partition = keys::workspace_members(w1);
        let key = item(&keys::workspace_member(w1, u1));
        let cursor = seal_position(&cursors, &partition, &key).unwrap();
        assert_eq!(open_position(&cursors, &partition, &cursor).unwrap(), key);

        for other in [
            keys::workspace_members(w2),
            keys::channel_members(ChannelId::generate()),
            keys::user_workspaces(u1),
        ] {
            assert!(open_position(&cursors, &other, &cursor).is_err());
        }
        assert!(open_position(&cursors, &partition, "%%%").is_err());
        assert!(open_position(&cursors, &partition, &cursor[1..]).is_err());
    }

    #[test]
    fn index_cursors_hold_the_index_and_table_keys() {
        let cursors = cursors();
        let c1 = ChannelId::generate();
        let id = |n: u128| ulid::Ulid(n).to_string().parse::<MessageId>().unwrap();
        let (m1, m5, m9) = (id(1), id(5), id(9));
        let partition = keys::channel_messages(c1);
        let mut key = item(&keys::message(c1, m5));
        key.extend(item(&keys::message_listing(c1, None, m5)));
        let cursor = seal_position(&cursors, &partition, &key).unwrap();
        assert_eq!(open_position(&cursors, &partition, &cursor).unwrap(), key);
        // Narrowed ranges of the same list take it while it lies inside them.
        assert!(
            open_position(
                &cursors,
                &partition.clone().before(&m9.to_string()),
                &cursor
            )
            .is_ok()
        );
        assert!(
            open_position(
                &cursors,
                &partition.clone().before(&m1.to_string()),
                &cursor
            )
            .is_err()
        );
        assert!(
            open_position(&cursors, &partition.clone().after(&m9.to_string()), &cursor).is_err()
        );
        // The same channel's pins and a thread are other lists.
        assert!(open_position(&cursors, &keys::channel_pins(c1), &cursor).is_err());
        assert!(open_position(&cursors, &keys::thread_replies(c1, m1), &cursor).is_err());
        // A key that lacks an attribute of the index is not a position.
        key.remove(keys::SK);
        assert!(seal_position(&cursors, &partition, &key).is_err());
    }

    #[test]
    fn an_items_position_is_its_key_set() {
        let (w1, c1) = (WorkspaceId::generate(), ChannelId::generate());
        let partition = keys::workspace_channels(w1);
        let mut stored = item(&keys::channel(c1));
        stored.extend(item(&keys::channel_by_workspace(w1, c1)));
        stored.insert("name".into(), AttributeValue::S("general".into()));
        let position = position_of(&partition, &stored);
        let mut names: Vec<&str> = position.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, [keys::GSI1PK, keys::GSI1SK, keys::PK, keys::SK]);
    }
}
