//! The table and the operations every store shares: transactions with named guards, batched
//! reads and deletes with bounded retries, conditional writes, pages with checked start keys.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    operation::query::builders::QueryFluentBuilder,
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
};

use crate::attrs;
use crate::expr;
use crate::keys;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub use crate::attrs::{GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, PK, SK};
pub(crate) use crate::failures::{
    RETRYABLE_REASONS, backend, cancelled_reasons, condition_held, conditional, ignore_condition, sdk,
};

/// The single table: its client and name. Every store port is implemented on it, one file per
/// aggregate.
pub struct Table {
    pub(crate) client: Client,
    pub(crate) table: String,
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

/// A number attribute of an item read as `T` (`None`: absent, not a number, or out of `T`).
pub(crate) fn number<T: std::str::FromStr>(item: &Item, attr: &str) -> Option<T> {
    item.get(attr).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
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
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", crate::attrs::partition_key_of(index))
            .expression_attribute_values(":pk", s(partition));
        self.all_pages(query).await
    }

    /// Every item a query answers, page after page (each page a request of up to 1 MB).
    pub(crate) async fn all_pages(&self, query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let resp = query.clone().set_exclusive_start_key(start).send().await.map_err(backend)?;
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
    /// Both reads strongly consistent: a sign-in moments after the sign-up that wrote the link
    /// (a double click, the re-read after a lost sign-up race) must find it, where an
    /// eventually consistent read may not yet (sign-ins are rare; the two reads cost 1 RCU each).
    pub(crate) async fn user_by_link(&self, link: Item) -> Result<Option<User>, StoreError> {
        let read =
            |k: Item| self.client.get_item().table_name(&self.table).set_key(Some(k)).consistent_read(true).send();
        let resp = read(link).await.map_err(backend)?;
        let Some(user_id) = resp.item.as_ref().and_then(|i| i.get(attrs::USER_ID)).and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        let user_id: UserId = user_id.parse().map_err(backend)?;
        read(key(keys::user(&user_id), keys::PROFILE)).await.map_err(backend)?.item.map(from_item).transpose()
    }

    pub(crate) fn space_item(&self, space: &Space) -> Result<Item, StoreError> {
        to_item(
            space,
            &[(PK, keys::space(&space.space_id)), (SK, keys::META.to_owned()), (attrs::TYPE, "Space".into())],
        )
    }

    /// The two writes of someone joining a space: their membership (not there yet) and its count
    /// on the live space (guards: `Membership`, `Space`).
    pub(crate) fn joining(&self, m: &Membership) -> Result<[TransactWriteItem; 2], StoreError> {
        let count = crate::expr::Changes::new()
            .increment(attrs::MEMBER_COUNT, 1)
            .when(expr::exists_not_deleting())
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
                (attrs::TYPE, "Membership".into()),
            ],
        )
    }
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
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
    use super::*;

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
