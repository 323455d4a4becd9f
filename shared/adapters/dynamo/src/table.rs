//! The table and the operations every store shares: transactions with named guards, batched
//! reads and deletes with bounded retries, conditional writes, pages with checked start keys.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
    types::{AttributeValue, DeleteRequest, KeysAndAttributes, Put, PutRequest, TransactWriteItem, WriteRequest},
};
use serde::{Serialize, de::DeserializeOwned};
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    error::{Guard, StoreError},
    page::PageKey,
    spaces::{Membership, Space},
    types::UserId,
    users::User,
    users::UserStore,
};

use crate::keys;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";

/// The single table: its client and name. Every store port is implemented on it, one file per
/// aggregate.
pub struct Table {
    pub(crate) client: Client,
    pub(crate) table: String,
}

/// Error codes that mean "not now" rather than "not this": the SDK's throttling and transient
/// codes, DynamoDB's own, and the 5xx codes of the services' error shapes.
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "LimitExceededException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// The reasons of a cancelled transaction's items that mean "not now": another transaction held
/// an item, or the table was throttled. Trying again may pass.
const RETRYABLE_REASONS: &[&str] = &["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"];

/// Whether a failed call may pass when tried again later: a throttled call, a 5xx, a timeout, a
/// connection that failed or broke off (after the SDK's own retries), or an answer cut short.
/// Everything else (a refused request, a failed condition, a construction error) is not.
pub(crate) fn is_unavailable<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(f) => !f.is_user(),
        SdkError::ServiceError(s) => {
            let status = s.raw().status();
            status.is_server_error()
                || status.as_u16() == 429
                || s.err().code().is_some_and(|code| RETRYABLE_CODES.contains(&code))
        }
        _ => false,
    }
}

/// A failed SDK call as the store reports it: `Unavailable` when trying again may pass,
/// `Backend` otherwise.
pub(crate) fn sdk<E>(e: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_unavailable(&e) { StoreError::unavailable(e) } else { StoreError::backend(e) }
}

/// Any failure of the table's adapter as the store reports it. The `.map_err(backend)` of every
/// call site comes here whatever it maps (an SDK call's error, a builder's, a codec's), so a
/// DynamoDB call's error is recognised by its type: see [`sdk`].
pub(crate) fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    if sdk_call_unavailable(&e) { StoreError::unavailable(e) } else { StoreError::backend(e) }
}

/// Whether `e` is the error of a DynamoDB operation the adapter calls and says "not now".
fn sdk_call_unavailable(e: &dyn std::any::Any) -> bool {
    use aws_sdk_dynamodb::operation as op;
    macro_rules! calls {
        ($($module:ident :: $error:ident),* $(,)?) => {
            $(
                if let Some(e) = e.downcast_ref::<SdkError<op::$module::$error, HttpResponse>>() {
                    return is_unavailable(e);
                }
            )*
        };
    }
    calls!(
        get_item::GetItemError,
        put_item::PutItemError,
        update_item::UpdateItemError,
        delete_item::DeleteItemError,
        query::QueryError,
        scan::ScanError,
        batch_get_item::BatchGetItemError,
        batch_write_item::BatchWriteItemError,
        transact_write_items::TransactWriteItemsError,
        transact_get_items::TransactGetItemsError,
    );
    false
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn to_item<T: Serialize>(value: &T, keys: &[(&str, String)]) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(backend)?;
    for (name, v) in keys {
        item.insert((*name).to_owned(), s(v.clone()));
    }
    Ok(item)
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(backend)
}

pub(crate) fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

/// A start key from a cursor, only if it is exactly a key of the queried table or index (the
/// base table's `PK`/`SK`, plus the index's own pair when `attr` is an index partition key) and
/// lies in the partition `attr = expected`. Anything else is an edited cursor, never a request
/// DynamoDB would refuse.
pub(crate) fn start_key(start: Option<PageKey>, attr: &str, expected: &str) -> Result<Option<Item>, StoreError> {
    let Some(start) = start else { return Ok(None) };
    let required: &[&str] = match attr {
        GSI1PK => &[PK, SK, GSI1PK, GSI1SK],
        GSI2PK => &[PK, SK, GSI2PK, GSI2SK],
        _ => &[PK, SK],
    };
    let exact = start.len() == required.len()
        && required.iter().all(|k| start.get(*k).is_some_and(|v| !v.is_empty() && v.len() <= 1024));
    if !exact || start.get(attr).map(String::as_str) != Some(expected) {
        return Err(StoreError::ForeignStart);
    }
    Ok(Some(start.into_iter().map(|(k, v)| (k, s(v))).collect()))
}

/// The `PK`/`SK` of an item.
pub(crate) fn primary_key(item: &Item) -> Item {
    item.iter().filter(|(k, _)| k.as_str() == PK || k.as_str() == SK).map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub(crate) fn page_key(last: Option<&Item>) -> Option<PageKey> {
    last.map(|item| item.iter().filter_map(|(k, v)| v.as_s().ok().map(|v| (k.clone(), v.clone()))).collect())
}

/// The reason code of each item of a cancelled transaction (`"None"` for items that passed).
pub(crate) fn cancelled_reasons<E>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, E>,
) -> Option<Vec<String>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            Some(e.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_owned()).collect())
        }
        _ => None,
    }
}

/// Whether a conditional single-item write happened: `false` when its condition failed.
pub(crate) fn condition_held<O, E>(
    result: Result<O, SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>>,
) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) => match conditional::<E>(Guard::Item)(e) {
            StoreError::Condition(_) => Ok(false),
            other => Err(other),
        },
    }
}

/// Maps a failed condition of a single-item write to `Condition(what)`, anything else to a
/// backend failure.
pub(crate) fn conditional<E>(
    what: Guard,
) -> impl FnOnce(SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| {
        if e.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException") {
            StoreError::Condition(what)
        } else {
            sdk(e)
        }
    }
}

impl Table {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// The table named by `VIVID_TABLE_NAME`, with a client built once.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self::new(Client::new(cfg.sdk()?), cfg.var("VIVID_TABLE_NAME")?))
    }

    pub(crate) fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// One transaction. A failed condition names the item (`conditions[i]` for item `i`); a
    /// conflict with a concurrent transaction is retried a few times with backoff.
    ///
    /// A cancelled transaction is read by its reasons: `ConditionalCheckFailed` is a condition
    /// that was evaluated and did not hold (trying again cannot help); a conflict with another
    /// transaction or a throttled item is `Unavailable` (nothing was written, trying again may
    /// pass), never a failed condition; any other reason is a backend failure.
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>, conditions: &[Guard]) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let Some(reasons) = cancelled_reasons(&err) else { return Err(sdk(err)) };
            if let Some(i) = reasons.iter().position(|r| r == "ConditionalCheckFailed") {
                return Err(StoreError::Condition(conditions.get(i).copied().unwrap_or(Guard::Item)));
            }
            if attempt < 4 && reasons.iter().any(|r| r == "TransactionConflict") {
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                continue;
            }
            if reasons.iter().any(|r| RETRYABLE_REASONS.contains(&r.as_str())) {
                return Err(StoreError::unavailable(err));
            }
            return Err(sdk(err));
        }
    }

    /// BatchGetItem with retries of unprocessed keys (bounded).
    pub(crate) async fn batch_get(&self, keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(consistent)
                    .build()
                    .map_err(backend)?,
            );
            let mut attempts = 0;
            while let Some(request) = pending.take() {
                attempts += 1;
                let resp =
                    self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(backend)?;
                if let Some(mut responses) = resp.responses {
                    out.extend(responses.remove(&self.table).unwrap_or_default());
                }
                pending = resp.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys.is_empty());
                if pending.is_some() {
                    if attempts >= 8 {
                        // Unprocessed keys are DynamoDB's way of throttling a batch.
                        return Err(StoreError::unavailable("batch get left keys unprocessed after 8 attempts"));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempts)).await;
                }
            }
        }
        Ok(out)
    }

    /// Puts an item that must not exist yet; `Condition(what)` when it does.
    pub(crate) async fn put_new(&self, item: Item, what: Guard) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(conditional(what))?;
        Ok(())
    }

    /// One item by key, read consistently.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        pk: String,
        sk: impl Into<String>,
    ) -> Result<Option<T>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        resp.item.map(from_item).transpose()
    }

    /// The primary keys (and object keys) of every item of a partition.
    pub(crate) async fn query_keys(&self, partition: &str, sk_prefix: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(partition))
                .projection_expression("PK, SK, objectKey")
                .consistent_read(true)
                .set_exclusive_start_key(start);
            req = match sk_prefix {
                Some(prefix) => req
                    .key_condition_expression("PK = :pk AND begins_with(SK, :sk)")
                    .expression_attribute_values(":sk", s(prefix)),
                None => req.key_condition_expression("PK = :pk"),
            };
            let resp = req.send().await.map_err(backend)?;
            out.extend(resp.items.unwrap_or_default());
            start = resp.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    /// The first `limit` entries of a sparse `GSI2` partition (`PENDING`, `DELETING`) whose sort
    /// key (`{since}#…`) sorts before `before`: what the sweep finds overdue.
    pub(crate) async fn overdue(
        &self,
        partition: &str,
        before: &str,
        limit: vivid_domain::types::Limit,
    ) -> Result<Vec<Item>, StoreError> {
        let resp = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("GSI2PK = :partition AND GSI2SK < :before")
            .expression_attribute_values(":partition", s(partition))
            .expression_attribute_values(":before", s(before))
            .limit(i32::from(limit.get()))
            .send()
            .await
            .map_err(backend)?;
        Ok(resp.items.unwrap_or_default())
    }

    /// Every item of one partition of an index (`GSI1` or `GSI2`, keyed by `{index}PK`), all pages.
    pub(crate) async fn index_partition(&self, index: &str, partition: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", format!("{index}PK"))
                .expression_attribute_values(":pk", s(partition))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            items.extend(resp.items.unwrap_or_default());
            start = resp.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// BatchWriteItem deletes with retries of unprocessed items (bounded).
    pub(crate) async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        self.batch_write(delete_requests(&keys)?).await
    }

    /// BatchWriteItem puts (unconditional) with retries of unprocessed items (bounded).
    pub(crate) async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.batch_write(put_requests(items)?).await
    }

    /// Puts and deletes of distinct items in the same BatchWriteItem calls (25 writes a call).
    pub(crate) async fn batch_put_delete(&self, items: Vec<Item>, keys: Vec<Item>) -> Result<(), StoreError> {
        let mut requests = put_requests(items)?;
        requests.extend(delete_requests(&keys)?);
        self.batch_write(requests).await
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            let mut attempts = 0;
            while !pending.is_empty() {
                attempts += 1;
                let resp =
                    self.client.batch_write_item().request_items(&self.table, pending).send().await.map_err(backend)?;
                pending = resp.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
                if !pending.is_empty() {
                    if attempts >= 8 {
                        // Unprocessed items are DynamoDB's way of throttling a batch.
                        return Err(StoreError::unavailable("batch write left items unprocessed after 8 attempts"));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempts)).await;
                }
            }
        }
        Ok(())
    }

    /// Follows a link item (`userId`) to the user: e-mail lock, Google link.
    pub(crate) async fn user_by_link(&self, link: Item) -> Result<Option<User>, StoreError> {
        let resp = self.client.get_item().table_name(&self.table).set_key(Some(link)).send().await.map_err(backend)?;
        let Some(user_id) = resp.item.as_ref().and_then(|i| i.get("userId")).and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        let user_id: UserId = user_id.parse().map_err(backend)?;
        self.get_user(&user_id).await
    }

    pub(crate) fn space_item(&self, space: &Space) -> Result<Item, StoreError> {
        to_item(space, &[(PK, keys::space(&space.space_id)), (SK, keys::META.to_owned()), ("type", "Space".into())])
    }

    /// The two writes of someone joining a space: their membership (not there yet) and its count
    /// on the live space (guards: `Membership`, `Space`).
    pub(crate) fn joining(&self, m: &Membership) -> Result<[TransactWriteItem; 2], StoreError> {
        let count = crate::expr::Changes::new()
            .increment("memberCount", 1)
            .when("attribute_exists(PK) AND attribute_not_exists(deleting)")
            .into_update(&self.table, key(keys::space(&m.space_id), keys::META))
            .map_err(backend)?;
        Ok([
            self.put(self.membership_item(m)?, Some("attribute_not_exists(PK)"))?,
            TransactWriteItem::builder().update(count).build(),
        ])
    }

    pub(crate) fn membership_item(&self, m: &Membership) -> Result<Item, StoreError> {
        to_item(
            m,
            &[
                (PK, keys::space(&m.space_id)),
                (SK, keys::member(&m.user_id)),
                (GSI1PK, keys::user(&m.user_id)),
                (GSI1SK, keys::member_of(m.personal, &m.joined_at, &m.space_id)),
                ("type", "Membership".into()),
            ],
        )
    }
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn ignore_condition<E>(
    e: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Result<(), StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match conditional::<E>(Guard::Item)(e) {
        StoreError::Condition(_) => Ok(()),
        other => Err(other),
    }
}

fn delete_requests(keys: &[Item]) -> Result<Vec<WriteRequest>, StoreError> {
    keys.iter()
        .map(|k| {
            DeleteRequest::builder()
                .set_key(Some(primary_key(k)))
                .build()
                .map(|d| WriteRequest::builder().delete_request(d).build())
                .map_err(backend)
        })
        .collect()
}

fn put_requests(items: Vec<Item>) -> Result<Vec<WriteRequest>, StoreError> {
    items
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|p| WriteRequest::builder().put_request(p).build())
                .map_err(backend)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::{
        error::{ConnectorError, ErrorMetadata},
        operation::{
            batch_get_item::BatchGetItemError, batch_write_item::BatchWriteItemError, delete_item::DeleteItemError,
            get_item::GetItemError, put_item::PutItemError, query::QueryError, scan::ScanError,
            transact_get_items::TransactGetItemsError, transact_write_items::TransactWriteItemsError,
            update_item::UpdateItemError,
        },
    };

    use super::*;

    fn service_error<E>(status: u16, code: &str, make: fn(ErrorMetadata) -> E) -> SdkError<E, HttpResponse> {
        let status = status.try_into().expect("status");
        SdkError::service_error(make(ErrorMetadata::builder().code(code).build()), HttpResponse::new(status, "".into()))
    }

    #[test]
    fn throttling_5xx_timeouts_and_broken_connections_are_unavailable() {
        let unavailable = |e: StoreError| e.is_unavailable();
        assert!(unavailable(backend(service_error(400, "ThrottlingException", UpdateItemError::generic))));
        assert!(unavailable(backend(service_error(
            400,
            "ProvisionedThroughputExceededException",
            QueryError::generic
        ))));
        assert!(unavailable(backend(service_error(400, "RequestLimitExceeded", GetItemError::generic))));
        assert!(unavailable(backend(service_error(500, "InternalServerError", PutItemError::generic))));
        assert!(unavailable(backend(service_error(503, "", BatchGetItemError::generic))));
        assert!(unavailable(backend(SdkError::<DeleteItemError, HttpResponse>::timeout_error("slow"))));
        let io = ConnectorError::io("connection reset".into());
        assert!(unavailable(backend(SdkError::<BatchWriteItemError, HttpResponse>::dispatch_failure(io))));
        // Not "not now": a refused request, a failed condition, our own mistake.
        let refused = service_error(400, "ValidationException", TransactWriteItemsError::generic);
        assert!(!unavailable(backend(refused)));
        let condition = service_error(400, "ConditionalCheckFailedException", UpdateItemError::generic);
        assert!(matches!(conditional(Guard::Space)(condition), StoreError::Condition(Guard::Space)));
        let user = ConnectorError::user("bad endpoint".into());
        assert!(!unavailable(backend(SdkError::<ScanError, HttpResponse>::dispatch_failure(user))));
        assert!(!unavailable(backend(SdkError::<TransactGetItemsError, HttpResponse>::construction_failure("x"))));
        assert!(!unavailable(backend(std::io::Error::other("not an SDK call"))));
    }

    #[test]
    fn every_operation_the_adapter_calls_is_recognised() {
        let timeout = |e: StoreError| e.is_unavailable();
        assert!(timeout(backend(SdkError::<GetItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<PutItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<UpdateItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<DeleteItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<QueryError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<ScanError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<BatchGetItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<BatchWriteItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<TransactWriteItemsError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<TransactGetItemsError, HttpResponse>::timeout_error("t"))));
    }

    fn key(pairs: &[(&str, &str)]) -> Option<PageKey> {
        Some(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn a_start_key_must_be_exactly_a_key_of_the_query_in_its_partition() {
        assert!(start_key(key(&[(PK, "P"), (SK, "S")]), PK, "P").is_ok());
        assert!(start_key(key(&[(PK, "P")]), PK, "P").is_err(), "no sort key");
        assert!(start_key(key(&[(PK, "Q"), (SK, "S")]), PK, "P").is_err(), "another partition");
        assert!(start_key(key(&[(PK, "P"), (SK, "S"), ("x", "y")]), PK, "P").is_err(), "extra attribute");
        assert!(start_key(key(&[(PK, "P"), (SK, "")]), PK, "P").is_err(), "empty attribute");
        let index = [(PK, "P"), (SK, "S"), (GSI1PK, "G"), (GSI1SK, "H")];
        assert!(start_key(key(&index), GSI1PK, "G").is_ok());
        assert!(start_key(key(&index[..3]), GSI1PK, "G").is_err(), "no index sort key");
        assert_eq!(start_key(None, PK, "P").ok(), Some(None));
    }
}
