//! Cursor pagination over Query, and batched reads and writes. A cursor is the Query's
//! `LastEvaluatedKey`, as URL-safe base64 JSON; a cursor is only accepted for the partition
//! it came from, so a crafted one is a 400, never a 5xx.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Item, Store, dynamo_error, from_attributes, to_attribute, to_attributes};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, Key, Partition, SortRange};

/// BatchGetItem calls in flight at once for one read of more than 100 keys.
const BATCH_GETS_IN_FLIGHT: usize = 8;

/// One page of a list, as every list route answers it.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
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

const KEY_ATTRIBUTES: [&str; 6] = [
    keys::PK,
    keys::SK,
    keys::GSI1PK,
    keys::GSI1SK,
    keys::GSI2PK,
    keys::GSI2SK,
];

fn encode_cursor(key: HashMap<String, AttributeValue>) -> ApiResult<String> {
    let json: serde_json::Value = serde_dynamo::from_item(key)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("encoding cursor: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(json.to_string()))
}

fn decode_cursor(
    cursor: &str,
    partition: &Partition,
) -> ApiResult<HashMap<String, AttributeValue>> {
    let invalid = || ApiError::invalid("invalid cursor");
    if cursor.len() > 2048 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let map: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let only_keys = map
        .keys()
        .all(|name| KEY_ATTRIBUTES.contains(&name.as_str()));
    let same_partition = map.get(partition.pk_attribute) == Some(&partition.pk);
    let in_range = map
        .get(partition.sk_attribute)
        .is_some_and(|sk| partition.range.contains(sk));
    if !only_keys || !same_partition || !in_range {
        return Err(invalid());
    }
    to_attributes(&map)
}

impl Store {
    /// One page of a partition, in sort-key order (`forward`) or reverse.
    pub(crate) async fn query_page<T: DeserializeOwned>(
        &self,
        partition: &Partition,
        page: &PageRequest,
        forward: bool,
    ) -> ApiResult<Page<T>> {
        let start = page
            .cursor
            .as_deref()
            .map(|cursor| decode_cursor(cursor, partition))
            .transpose()?;
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .set_index_name(partition.index.map(str::to_owned))
            .expression_attribute_names("#pk", partition.pk_attribute)
            .expression_attribute_values(":pk", to_attribute(&partition.pk)?);
        let (condition, bound) = match &partition.range {
            SortRange::All => ("#pk = :pk", None),
            SortRange::Prefix(prefix) => ("#pk = :pk AND begins_with(#sk, :sk)", Some(prefix)),
            SortRange::Below(bound) => ("#pk = :pk AND #sk < :sk", Some(bound)),
            SortRange::Above(bound) => ("#pk = :pk AND #sk > :sk", Some(bound)),
        };
        if let Some(bound) = bound {
            query = query
                .expression_attribute_names("#sk", partition.sk_attribute)
                .expression_attribute_values(":sk", to_attribute(bound)?);
        }
        let output = query
            .key_condition_expression(condition)
            .scan_index_forward(forward)
            .limit(page.limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| dynamo_error("Query", e))?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_attributes)
            .collect::<ApiResult<Vec<T>>>()?;
        let next_cursor = output
            .last_evaluated_key
            .filter(|key| !key.is_empty())
            .map(encode_cursor)
            .transpose()?;
        Ok(Page { items, next_cursor })
    }

    /// Every item of a partition (for bounded sets such as one user's channels in one
    /// workspace), following pages up to `max_items`.
    pub(crate) async fn query_all<T: DeserializeOwned>(
        &self,
        partition: &Partition,
        max_items: usize,
    ) -> ApiResult<Vec<T>> {
        let mut all = Vec::new();
        let mut request = PageRequest {
            limit: 100,
            cursor: None,
        };
        loop {
            let page: Page<T> = self.query_page(partition, &request, true).await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(cursor) if all.len() < max_items => request.cursor = Some(cursor),
                _ => return Ok(all),
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
    pub async fn keys_in(&self, partition: &Partition) -> ApiResult<Vec<Key>> {
        let mut keys = Vec::new();
        let mut page = PageRequest {
            limit: 1000,
            cursor: None,
        };
        loop {
            let found: Page<Key> = self.query_page(partition, &page, true).await?;
            keys.extend(found.items);
            match found.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
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

    #[test]
    fn cursors_round_trip_and_stay_in_their_partition() {
        let partition = keys::workspace_members("W1");
        let key = to_attributes(&keys::workspace_member("W1", "U1")).unwrap();
        let cursor = encode_cursor(key.clone()).unwrap();
        assert_eq!(decode_cursor(&cursor, &partition).unwrap(), key);

        let other = keys::workspace_members("W2");
        assert!(decode_cursor(&cursor, &other).is_err());
        assert!(decode_cursor("%%%", &partition).is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("[1]"), &partition).is_err());
        let foreign = URL_SAFE_NO_PAD.encode(r#"{"PK":"WS#W1","SK":"MEMBER#U","x":"y"}"#);
        assert!(decode_cursor(&foreign, &partition).is_err());
        let outside = URL_SAFE_NO_PAD.encode(r#"{"PK":"WS#W1","SK":"META"}"#);
        assert!(decode_cursor(&outside, &partition).is_err());
    }
}
