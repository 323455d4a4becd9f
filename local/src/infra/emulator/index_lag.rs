//! DynamoDB's global secondary indexes as AWS has them: eventually consistent. moto updates an
//! index in the same request as the table, so a local test never meets the index that has not
//! caught up yet — the one a cascade or a purge reads in AWS a moment after a write. Here every
//! table created through the proxy with indexes gets a twin (`{table}.lagged-indexes`, same key
//! schema and indexes): each write's resulting item images are copied to the twin `lag` later,
//! in write order, and every `Query`/`Scan` naming an `IndexName` reads the twin. An index read
//! therefore sees the table as it was `lag` ago: an item written a moment before is missing, an
//! item deleted a moment before is still there, an update shows its old version.
//!
//! As DynamoDB does, a strongly consistent read of a global secondary index is refused
//! (`ValidationException`). The lag comes from `VIVID_INDEX_LAG_MS` (default
//! [`DEFAULT_LAG_MS`]; `0` turns the twin off, indexes then read their writes).
//!
//! Not modelled: an index lagging by different amounts per partition, or an index update
//! visible before an earlier one (AWS keeps no such order either way; here it is kept).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{sync::mpsc, time::Instant};

/// The lag when `VIVID_INDEX_LAG_MS` is not set. GSI propagation in AWS is usually well under a
/// second; locally a request takes a few milliseconds, so 50 ms is seen by every index read in
/// the same flow as the write (a handler's next step, a client's next request).
pub const DEFAULT_LAG_MS: u64 = 50;

/// Whether a DynamoDB request is the per-caller rate limiter's count (an `UpdateItem` of a
/// `RATE#` item, `shared/adapters/dynamo/src/rate_limits.rs`): such an item never carries an index
/// key, so it has nothing to copy to a twin, and it is no round trip of the route it precedes.
pub fn is_rate_count(target: &str, body: &[u8]) -> bool {
    operation(target) == "UpdateItem"
        && serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|doc| doc["Key"]["PK"]["S"].as_str().map(|pk| pk.starts_with("RATE#")))
            .unwrap_or(false)
}

/// The twin of a table whose index reads lag: `{table}.lagged-indexes`.
pub fn twin_name(table: &str) -> String {
    format!("{table}.lagged-indexes")
}

/// How far index reads lag the writes in stacks started now: `VIVID_INDEX_LAG_MS`, else
/// [`DEFAULT_LAG_MS`] (zero: no lag).
pub fn configured_lag() -> Duration {
    let ms = std::env::var("VIVID_INDEX_LAG_MS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_LAG_MS);
    Duration::from_millis(ms)
}

/// One item image to copy to a twin once due (`None`: the item is gone).
struct Copy {
    due: Instant,
    twin: String,
    key: Value,
    image: Option<Value>,
    upstream: Upstream,
}

/// The lagged indexes of the tables created through one proxy.
#[derive(Clone)]
pub struct IndexLag {
    lag: Duration,
    /// A table's key attribute names, by table name (tables with at least one GSI).
    tables: Arc<RwLock<HashMap<String, Vec<String>>>>,
    copies: mpsc::UnboundedSender<Copy>,
    /// Copies not applied yet.
    pending: Arc<std::sync::atomic::AtomicUsize>,
}

/// A write in flight (see [`IndexLag::begin`]); dropped once its copies are queued.
pub struct InFlight(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// DynamoDB JSON 1.0 requests straight to the emulator, past the proxy (neither counted nor
/// checked against a function's grants).
#[derive(Clone)]
pub struct Upstream {
    pub http: reqwest::Client,
    pub url: String,
    /// moto reads the account and region from the credential scope: the twin's calls sign alike.
    pub authorization: String,
}

impl Upstream {
    async fn call(&self, operation: &str, body: &Value) -> Result<Value, String> {
        let resp = self
            .http
            .post(format!("{}/", self.url))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
            .header(http::header::AUTHORIZATION, &self.authorization)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| e.without_url().to_string())?;
        if !status.is_success() {
            return Err(format!("{operation}: {status} {text}"));
        }
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }
}

/// A request for a strongly consistent read of a global secondary index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsistentIndexRead;

/// DynamoDB's answer to `ConsistentRead` on a global secondary index.
pub fn consistent_index_read_refused() -> axum::response::Response {
    let body = json!({
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "Consistent reads are not supported on global secondary indexes",
    });
    let mut resp = axum::response::Response::new(axum::body::Body::from(body.to_string()));
    *resp.status_mut() = http::StatusCode::BAD_REQUEST;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/x-amz-json-1.0"));
    resp
}

/// The operation of an `X-Amz-Target` (`DynamoDB_20120810.Query` → `Query`).
pub fn operation(target: &str) -> &str {
    target.rsplit('.').next().unwrap_or(target)
}

/// The key attributes of `item` (an image, or a request's `Key`).
fn key_of(item: &Value, names: &[String]) -> Option<Value> {
    let mut key = serde_json::Map::new();
    for name in names {
        key.insert(name.clone(), item.get(name)?.clone());
    }
    Some(Value::Object(key))
}

/// The (table, key-or-item) pairs a write request names.
fn written(operation: &str, body: &Value) -> Vec<(String, Value)> {
    let table = |v: &Value| v.get("TableName").and_then(Value::as_str).map(str::to_owned);
    let mut out = Vec::new();
    match operation {
        "PutItem" => out.extend(table(body).zip(body.get("Item").cloned())),
        "UpdateItem" | "DeleteItem" => out.extend(table(body).zip(body.get("Key").cloned())),
        "TransactWriteItems" => {
            for item in body.get("TransactItems").and_then(Value::as_array).into_iter().flatten() {
                if let Some(put) = item.get("Put") {
                    out.extend(table(put).zip(put.get("Item").cloned()));
                }
                for kind in ["Update", "Delete"] {
                    if let Some(op) = item.get(kind) {
                        out.extend(table(op).zip(op.get("Key").cloned()));
                    }
                }
            }
        }
        "BatchWriteItem" => {
            for (name, requests) in body.get("RequestItems").and_then(Value::as_object).into_iter().flatten() {
                for r in requests.as_array().into_iter().flatten() {
                    let item = r.pointer("/PutRequest/Item").or_else(|| r.pointer("/DeleteRequest/Key"));
                    out.extend(item.map(|i| (name.clone(), i.clone())));
                }
            }
        }
        _ => {}
    }
    out
}

impl IndexLag {
    /// The lag `VIVID_INDEX_LAG_MS` asks for (default [`DEFAULT_LAG_MS`]); `None` when 0.
    pub fn from_env(dynamodb: Arc<tokio::sync::Mutex<()>>) -> Option<Self> {
        let lag = configured_lag();
        (!lag.is_zero()).then(|| Self::new(lag, dynamodb))
    }

    /// Index reads `lag` behind the writes. The copies to the twins run in the background, in
    /// write order, each in a turn of the proxy's DynamoDB lock (`dynamodb`).
    pub fn new(lag: Duration, dynamodb: Arc<tokio::sync::Mutex<()>>) -> Self {
        let (copies, mut rx) = mpsc::unbounded_channel::<Copy>();
        let pending: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        let applied = Arc::clone(&pending);
        tokio::spawn(async move {
            while let Some(copy) = rx.recv().await {
                tokio::time::sleep_until(copy.due).await;
                let _turn = dynamodb.lock().await;
                let result = match &copy.image {
                    Some(item) => copy.upstream.call("PutItem", &json!({"TableName": copy.twin, "Item": item})).await,
                    None => copy.upstream.call("DeleteItem", &json!({"TableName": copy.twin, "Key": copy.key})).await,
                };
                if let Err(e) = result {
                    tracing::warn!(table = copy.twin, error = e, "lagged index copy failed");
                }
                applied.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        Self { lag, tables: Arc::default(), copies, pending }
    }

    /// A write on its way to the emulator: [`IndexLag::settled`] waits for it too (its copies are
    /// counted once it answered). `None` for a request that writes nothing.
    pub fn begin(&self, target: &str) -> Option<InFlight> {
        matches!(operation(target), "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" | "BatchWriteItem")
            .then(|| {
                self.pending.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                InFlight(Arc::clone(&self.pending))
            })
    }

    /// Returns once every write so far has reached the indexes (what a client waiting out the
    /// lag would see).
    pub async fn settled(&self) {
        while self.pending.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The request to send instead of `body`: an index read goes to the twin. `Err`: a strongly
    /// consistent index read, which DynamoDB refuses ([`consistent_index_read_refused`]).
    pub fn route(&self, target: &str, body: bytes::Bytes) -> Result<bytes::Bytes, ConsistentIndexRead> {
        if !matches!(operation(target), "Query" | "Scan") {
            return Ok(body);
        }
        let Ok(mut doc) = serde_json::from_slice::<Value>(&body) else { return Ok(body) };
        if doc.get("IndexName").is_none() {
            return Ok(body);
        }
        if doc.get("ConsistentRead").and_then(Value::as_bool) == Some(true) {
            return Err(ConsistentIndexRead);
        }
        let Some(table) = doc.get("TableName").and_then(Value::as_str).map(str::to_owned) else { return Ok(body) };
        if !self.tables.read().is_ok_and(|t| t.contains_key(&table)) {
            return Ok(body);
        }
        doc["TableName"] = Value::String(twin_name(&table));
        Ok(bytes::Bytes::from(doc.to_string()))
    }

    /// After a request succeeded: a new table with indexes gets its twin; a write's item images are
    /// read now (the proxy's DynamoDB turn is still held) and copied to the twin `lag` later.
    pub async fn after(&self, target: &str, body: &[u8], upstream: &Upstream) {
        let operation = operation(target);
        let Ok(doc) = serde_json::from_slice::<Value>(body) else { return };
        if operation == "CreateTable" {
            return self.create_twin(doc, upstream).await;
        }
        let writes = written(operation, &doc);
        if writes.is_empty() {
            return;
        }
        let due = Instant::now() + self.lag;
        for (table, item) in writes {
            let Some(names) = self.tables.read().ok().and_then(|t| t.get(&table).cloned()) else { continue };
            let Some(key) = key_of(&item, &names) else { continue };
            let read = json!({"TableName": table, "Key": key, "ConsistentRead": true});
            let image = match upstream.call("GetItem", &read).await {
                Ok(found) => found.get("Item").cloned(),
                Err(e) => {
                    tracing::warn!(table, error = e, "lagged index: the written item could not be read");
                    continue;
                }
            };
            let copy = Copy { due, twin: twin_name(&table), key, image, upstream: upstream.clone() };
            self.pending.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.copies.send(copy).is_err() {
                self.pending.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }

    async fn create_twin(&self, mut doc: Value, upstream: &Upstream) {
        let has_gsi = doc.get("GlobalSecondaryIndexes").and_then(Value::as_array).is_some_and(|g| !g.is_empty());
        let Some(table) = doc.get("TableName").and_then(Value::as_str).map(str::to_owned) else { return };
        if !has_gsi || table.ends_with(".lagged-indexes") {
            return;
        }
        let names: Vec<String> = doc
            .get("KeySchema")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|k| k.get("AttributeName").and_then(Value::as_str).map(str::to_owned))
            .collect();
        doc["TableName"] = Value::String(twin_name(&table));
        if let Some(o) = doc.as_object_mut() {
            // Streams, TTL and the like belong to the real table; the twin only answers index reads.
            o.remove("StreamSpecification");
            o.remove("Tags");
        }
        match upstream.call("CreateTable", &doc).await {
            Ok(_) => {
                if let Ok(mut t) = self.tables.write() {
                    t.insert(table, names);
                }
            }
            Err(e) => tracing::warn!(table, error = e, "lagged index: no twin, index reads of this table do not lag"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_names_the_items_it_changes() {
        let tx = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "a"}, "SK": {"S": "1"}, "x": {"N": "1"}}}},
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "b"}, "SK": {"S": "2"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"PK": {"S": "c"}, "SK": {"S": "3"}}}},
            {"Delete": {"TableName": "u", "Key": {"PK": {"S": "d"}, "SK": {"S": "4"}}}},
        ]});
        let keys: Vec<(String, Option<Value>)> = written("TransactWriteItems", &tx)
            .into_iter()
            .map(|(t, i)| (t, key_of(&i, &["PK".to_owned(), "SK".to_owned()])))
            .collect();
        assert_eq!(keys.len(), 3, "a condition check writes nothing");
        assert_eq!(keys[0], ("t".to_owned(), Some(json!({"PK": {"S": "a"}, "SK": {"S": "1"}}))));
        assert_eq!(keys[2].0, "u");
        let batch = json!({"RequestItems": {"t": [
            {"PutRequest": {"Item": {"PK": {"S": "a"}, "SK": {"S": "1"}}}},
            {"DeleteRequest": {"Key": {"PK": {"S": "b"}, "SK": {"S": "2"}}}},
        ]}});
        assert_eq!(written("BatchWriteItem", &batch).len(), 2);
        assert!(written("GetItem", &json!({"TableName": "t", "Key": {}})).is_empty());
    }

    #[tokio::test]
    async fn only_index_reads_go_to_the_twin_and_never_strongly_consistent() {
        let lag = IndexLag::new(Duration::from_millis(50), Arc::default());
        lag.tables.write().map(|mut t| t.insert("t".to_owned(), vec!["PK".to_owned()])).ok();
        let query = |v: Value| lag.route("DynamoDB_20120810.Query", bytes::Bytes::from(v.to_string()));
        let routed = query(json!({"TableName": "t", "IndexName": "GSI1"})).ok().unwrap_or_default();
        assert_eq!(
            serde_json::from_slice::<Value>(&routed).ok().map(|v| v["TableName"].clone()),
            Some(json!("t.lagged-indexes"))
        );
        let base = query(json!({"TableName": "t"})).ok().unwrap_or_default();
        assert_eq!(serde_json::from_slice::<Value>(&base).ok().map(|v| v["TableName"].clone()), Some(json!("t")));
        let refused = query(json!({"TableName": "t", "IndexName": "GSI1", "ConsistentRead": true}));
        assert_eq!(refused.err(), Some(ConsistentIndexRead));
        assert_eq!(consistent_index_read_refused().status(), http::StatusCode::BAD_REQUEST);
        let other = query(json!({"TableName": "other", "IndexName": "GSI1"})).ok().unwrap_or_default();
        assert_eq!(serde_json::from_slice::<Value>(&other).ok().map(|v| v["TableName"].clone()), Some(json!("other")));
    }
}
