//! The generic DynamoDB machinery every area's store builds on: the [`Store`] handle,
//! single reads and writes, transactions with retries and typed outcomes, conditional
//! writes, paging and batches. Each area adds its access patterns as `impl Store` methods
//! in its own `store.rs`; every call is a GetItem, Query, UpdateItem, DeleteItem or
//! TransactWriteItems on keys from [`crate::keys`]; no Scan.

mod cursor;
mod page;
pub mod remembered;

pub use cursor::CursorKey;
pub use page::{Page, PageRequest, SELECT_SCAN_MAX};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::keys::{self, Key};

/// Attempts for a transaction that keeps colliding with concurrent ones.
const TRANSACTION_ATTEMPTS: u32 = 10;

/// An item as read from the table, before it is decoded.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The table, the client that reaches it and the key that seals list cursors. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
    cursors: CursorKey,
    /// What this process remembers between requests.
    memory: Arc<remembered::Memory>,
}

/// How a transaction ended when it did not fail outright.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TransactOutcome {
    Committed,
    /// A condition failed; the codes are per item, in request order ("None" where fine).
    ConditionFailed(Vec<String>),
}

impl TransactOutcome {
    /// The error for a transaction cancelled by a condition its caller did not expect to
    /// fail (`what` names the transaction; the codes go to the log, not the client).
    pub(crate) fn cancelled(what: &str, codes: &[String]) -> ApiError {
        ApiError::internal(anyhow::anyhow!("{what} cancelled: {codes:?}"))
    }

    /// Whether the item at `index` failed its condition. Callers name each position (a
    /// constant per item the outcome depends on), never a bare number.
    pub(crate) fn failed_at(&self, index: usize) -> bool {
        match self {
            Self::Committed => false,
            Self::ConditionFailed(codes) => codes
                .get(index)
                .is_some_and(|code| code == "ConditionalCheckFailed"),
        }
    }
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>, cursors: CursorKey) -> Self {
        Self {
            client,
            table: table.into(),
            cursors,
            memory: Arc::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// What this process remembers between requests (see [`remembered`]).
    pub fn memory(&self) -> &remembered::Memory {
        &self.memory
    }

    /// The key that seals and opens list cursors.
    pub fn cursors(&self) -> &CursorKey {
        &self.cursors
    }

    /// Reads one item by key (strongly consistent: callers act on what they read).
    pub(crate) async fn get<T: DeserializeOwned>(&self, key: Key) -> ApiResult<Option<T>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(to_attributes(&key)?))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", e))?;
        output.item.map(from_attributes).transpose()
    }

    /// Writes a new item; a key collision (ids are random ULIDs) is an internal error.
    pub(crate) async fn put_new_item<T: Serialize>(&self, item: &T) -> ApiResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(item)?))
            .condition_expression(item_is_new())
            .send()
            .await
            .map_err(|e| dynamo_error("PutItem", e))?;
        Ok(())
    }

    /// Runs a transaction, retrying while it only collides with concurrent transactions.
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> ApiResult<TransactOutcome> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(TransactOutcome::Committed),
                Err(error) => error,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                error.as_service_error()
            {
                let codes: Vec<String> = cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|reason| reason.code().unwrap_or("None").to_owned())
                    .collect();
                if codes.iter().any(|code| code == "ConditionalCheckFailed") {
                    return Ok(TransactOutcome::ConditionFailed(codes));
                }
                let retryable = codes.iter().all(|code| {
                    matches!(
                        code.as_str(),
                        "None" | "TransactionConflict" | "ThrottlingError"
                    )
                });
                if retryable && attempt < TRANSACTION_ATTEMPTS {
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            } else if is_transaction_in_progress(&error) && attempt < TRANSACTION_ATTEMPTS {
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            return Err(dynamo_error("TransactWriteItems", error));
        }
    }
}

fn is_transaction_in_progress(error: &SdkError<TransactWriteItemsError>) -> bool {
    error.as_service_error().and_then(|e| e.code()) == Some("TransactionInProgressException")
}

/// Exponential backoff with jitter: 10 ms, 20 ms, 40 ms ... (capped at 320 ms) plus up to
/// 50% more.
pub(crate) fn backoff(attempt: u32) -> Duration {
    backoff_from(Duration::from_millis(10), attempt)
}

/// Exponential backoff with jitter from `first`: `first` doubled per attempt (at most five
/// times) plus up to 50% more, so clients retrying together spread out.
pub(crate) fn backoff_from(first: Duration, attempt: u32) -> Duration {
    let base = first * (1u32 << attempt.min(5));
    let mut random = [0u8; 1];
    let jitter = match getrandom::fill(&mut random) {
        Ok(()) => base.mul_f64(f64::from(random[0]) / 512.0),
        Err(_) => Duration::ZERO,
    };
    base + jitter
}

/// Serialises a value into an item (or key) with serde_dynamo.
pub(crate) fn to_attributes<T: Serialize>(value: &T) -> ApiResult<HashMap<String, AttributeValue>> {
    serde_dynamo::to_item(value)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("serialising item: {e}")))
}

/// Serialises one value into an attribute value (for expression values).
pub(crate) fn to_attribute<T: Serialize>(value: &T) -> ApiResult<AttributeValue> {
    serde_dynamo::to_attribute_value(value)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("serialising attribute: {e}")))
}

/// Deserialises an item read from the table.
pub(crate) fn from_attributes<T: DeserializeOwned>(
    item: HashMap<String, AttributeValue>,
) -> ApiResult<T> {
    serde_dynamo::from_item(item)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("reading item: {e}")))
}

/// Takes the item with `key` out of a batch read and decodes it.
pub(crate) fn take_item<T: DeserializeOwned>(
    items: &mut Vec<Item>,
    key: &Key,
) -> ApiResult<Option<T>> {
    let matches = |item: &Item| {
        item.get(keys::PK).and_then(|v| v.as_s().ok()) == Some(&key.pk)
            && item.get(keys::SK).and_then(|v| v.as_s().ok()) == Some(&key.sk)
    };
    match items.iter().position(matches) {
        Some(index) => from_attributes(items.swap_remove(index)).map(Some),
        None => Ok(None),
    }
}

/// A Put that only creates (the item must be new), for a transaction.
pub(crate) fn put_new<T: Serialize>(table: &str, item: &T) -> ApiResult<TransactWriteItem> {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(to_attributes(item)?))
        .condition_expression(item_is_new())
        .build()
        .map_err(ApiError::internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A Delete of an item that must exist, for a transaction.
pub(crate) fn delete_existing(table: &str, key: &Key) -> ApiResult<TransactWriteItem> {
    let delete = aws_sdk_dynamodb::types::Delete::builder()
        .table_name(table)
        .set_key(Some(to_attributes(key)?))
        .condition_expression(item_exists())
        .build()
        .map_err(ApiError::internal)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// A ConditionCheck that the item with `key` exists (a membership the write relies on,
/// say), for a transaction.
pub(crate) fn check_exists(table: &str, key: &Key) -> ApiResult<TransactWriteItem> {
    condition_check(table, key, item_exists())
}

/// A ConditionCheck that no item has `key`, for a transaction.
pub(crate) fn check_absent(table: &str, key: &Key) -> ApiResult<TransactWriteItem> {
    condition_check(table, key, item_is_new())
}

fn condition_check(table: &str, key: &Key, condition: String) -> ApiResult<TransactWriteItem> {
    let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(to_attributes(key)?))
        .condition_expression(condition)
        .build()
        .map_err(ApiError::internal)?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// An Update of the item with `key` for a transaction, to be given its expressions.
pub(crate) fn update_of(
    table: &str,
    key: &Key,
) -> ApiResult<aws_sdk_dynamodb::types::builders::UpdateBuilder> {
    Ok(aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .set_key(Some(to_attributes(key)?)))
}

/// A transaction item from an Update given its expressions.
pub(crate) fn built(
    update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
) -> ApiResult<TransactWriteItem> {
    Ok(TransactWriteItem::builder()
        .update(update.build().map_err(ApiError::internal)?)
        .build())
}

/// `ADD <counter> :delta` on an item that must exist, for a transaction.
pub(crate) fn add_to_counter(
    table: &str,
    key: &Key,
    counter: &str,
    delta: i64,
) -> ApiResult<TransactWriteItem> {
    let update = aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .set_key(Some(to_attributes(key)?))
        .update_expression("ADD #counter :delta")
        .condition_expression(item_exists())
        .expression_attribute_names("#counter", counter)
        .expression_attribute_values(":delta", to_attribute(&delta)?)
        .build()
        .map_err(ApiError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The output of a conditional write, or `None` when its condition failed; other
/// failures are errors. A thin form of [`conditional_or_old`].
pub(crate) fn conditional<O, E>(
    operation: &'static str,
    result: Result<O, SdkError<E>>,
) -> ApiResult<Option<O>>
where
    E: ConditionFailure + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    Ok(conditional_or_old(operation, result)?.ok())
}

/// The output of a conditional write, or (`Err`) the item as it was when its condition
/// failed: sent with `ReturnValuesOnConditionCheckFailure::AllOld` that is the old item,
/// `None` if there was none or it was not asked for. Other failures are errors. Every
/// conditional single-item write reads its result through this (or [`conditional`]).
pub(crate) fn conditional_or_old<O, E>(
    operation: &'static str,
    result: Result<O, SdkError<E>>,
) -> ApiResult<Result<O, Option<Item>>>
where
    E: ConditionFailure + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Ok(output)),
        Err(error) if is_condition_failed(&error) => Ok(Err(error
            .as_service_error()
            .and_then(ConditionFailure::old_item))),
        Err(error) => Err(dynamo_error(operation, error)),
    }
}

/// A single-item write's error that can carry the item as it was when the write's
/// condition failed.
pub(crate) trait ConditionFailure {
    /// The old item, if the condition failed and it was asked for.
    fn old_item(&self) -> Option<Item>;
}

impl ConditionFailure for UpdateItemError {
    fn old_item(&self) -> Option<Item> {
        match self {
            Self::ConditionalCheckFailedException(failed) => failed.item.clone(),
            _ => None,
        }
    }
}

impl ConditionFailure for DeleteItemError {
    fn old_item(&self) -> Option<Item> {
        match self {
            Self::ConditionalCheckFailedException(failed) => failed.item.clone(),
            _ => None,
        }
    }
}

impl ConditionFailure for PutItemError {
    fn old_item(&self) -> Option<Item> {
        match self {
            Self::ConditionalCheckFailedException(failed) => failed.item.clone(),
            _ => None,
        }
    }
}

/// Whether a single-item write failed its condition expression.
fn is_condition_failed<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

/// Maps an SDK failure: throttling becomes a 503 the client may retry; the rest is a 500
/// whose cause is logged.
pub(crate) fn dynamo_error<E>(operation: &'static str, error: SdkError<E>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = error
        .as_service_error()
        .and_then(|e| e.code())
        .unwrap_or_default();
    if matches!(
        code,
        "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded"
    ) {
        return ApiError::Unavailable("the service is busy; retry shortly".into());
    }
    ApiError::internal(anyhow::anyhow!(
        "{operation}: {}",
        aws_sdk_dynamodb::error::DisplayErrorContext(error)
    ))
}

/// `attribute_not_exists(PK)`: the item must be new.
pub(crate) fn item_is_new() -> String {
    format!("attribute_not_exists({})", keys::PK)
}

/// `attribute_exists(PK)`: the item must already be there.
pub(crate) fn item_exists() -> String {
    format!("attribute_exists({})", keys::PK)
}
