//! The emulator keeps DynamoDB's transaction semantics: moto's own undo deep-copies the table for
//! every action, ours (`local/moto/fast_transactions.py`) puts back the items a cancelled
//! transaction changed. Every test of a transaction relies on this being exact.

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update},
};
use vivid_tests::TestApp;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn key(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [("PK".to_owned(), s(pk)), ("SK".to_owned(), s("T"))].into_iter().collect()
}

async fn item(db: &Client, table: &str, pk: &str) -> Option<std::collections::HashMap<String, AttributeValue>> {
    db.get_item().table_name(table).set_key(Some(key(pk))).consistent_read(true).send().await.expect("get").item
}

fn put(table: &str, pk: &str, n: &str) -> TransactWriteItem {
    let mut attrs = key(pk);
    attrs.insert("n".into(), AttributeValue::N(n.into()));
    attrs.insert("GSI2PK".into(), s("EMULATOR"));
    attrs.insert("GSI2SK".into(), s(pk));
    TransactWriteItem::builder()
        .put(Put::builder().table_name(table).set_item(Some(attrs)).build().expect("put"))
        .build()
}

fn add_one(table: &str, pk: &str) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key(pk)))
        .update_expression("SET n = n + :one, touched = :yes")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":yes", AttributeValue::Bool(true))
        .build()
        .expect("update");
    TransactWriteItem::builder().update(update).build()
}

fn delete(table: &str, pk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .delete(Delete::builder().table_name(table).set_key(Some(key(pk))).build().expect("delete"))
        .build()
}

fn exists(table: &str, pk: &str) -> TransactWriteItem {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key(pk)))
        .condition_expression("attribute_exists(PK)")
        .build()
        .expect("check");
    TransactWriteItem::builder().condition_check(check).build()
}

async fn on_index(db: &Client, table: &str) -> Vec<String> {
    let out = db
        .query()
        .table_name(table)
        .index_name("GSI2")
        .key_condition_expression("GSI2PK = :pk")
        .expression_attribute_values(":pk", s("EMULATOR"))
        .send()
        .await
        .expect("query");
    out.items().iter().filter_map(|i| i.get("GSI2SK").and_then(|v| v.as_s().ok()).cloned()).collect()
}

#[tokio::test]
async fn given_a_cancelled_transaction_then_every_item_it_changed_is_as_before_and_a_committed_one_stays() {
    let app = TestApp::spawn().await;
    let (db, t) = (app.dynamo(), app.table.as_str());
    db.transact_write_items()
        .transact_items(put(t, "A", "1"))
        .transact_items(put(t, "D", "7"))
        .send()
        .await
        .expect("seed");
    let a_before = item(&db, t, "A").await;

    // A put of a new item, an update and a delete of existing ones, then a failing check.
    let err = db
        .transact_write_items()
        .transact_items(put(t, "B", "2"))
        .transact_items(add_one(t, "A"))
        .transact_items(delete(t, "D"))
        .transact_items(exists(t, "C"))
        .send()
        .await
        .expect_err("cancelled");
    let reasons: Vec<Option<String>> = err
        .as_service_error()
        .and_then(|e| match e {
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                Some(c.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect())
            }
            _ => None,
        })
        .expect("TransactionCanceledException");
    assert_eq!(reasons.last().cloned().flatten().as_deref(), Some("ConditionalCheckFailed"), "{reasons:?}");
    assert_eq!(item(&db, t, "B").await, None, "the put is undone");
    assert_eq!(item(&db, t, "A").await, a_before, "the update is undone");
    assert_eq!(item(&db, t, "D").await.and_then(|i| i.get("n").cloned()), Some(AttributeValue::N("7".into())));
    app.indexes_settled().await;
    assert_eq!(on_index(&db, t).await, ["A", "D"], "the index as before too");

    // The same actions without the failing check commit.
    db.transact_write_items()
        .transact_items(put(t, "B", "2"))
        .transact_items(add_one(t, "A"))
        .transact_items(delete(t, "D"))
        .send()
        .await
        .expect("committed");
    assert_eq!(item(&db, t, "A").await.and_then(|i| i.get("n").cloned()), Some(AttributeValue::N("2".into())));
    app.indexes_settled().await;
    assert_eq!(on_index(&db, t).await, ["A", "B"]);
}

/// DynamoDB's global secondary indexes are eventually consistent, and the emulator's are too
/// (`local/src/infra/emulator/index_lag.rs`): right after a write an index read shows the table as it
/// was, a moment later as it is; a strongly consistent index read is refused, as in AWS.
#[tokio::test]
async fn given_a_write_then_an_index_read_at_once_sees_the_table_as_before_and_later_as_after() {
    if vivid_local::infra::emulator::index_lag::configured_lag().is_zero() {
        // VIVID_INDEX_LAG_MS=0 asks for read-your-writes indexes: nothing lags to be seen.
        return;
    }
    let app = TestApp::spawn().await;
    let (db, t) = (app.dynamo(), app.table.as_str());
    db.transact_write_items().transact_items(put(t, "A", "1")).send().await.expect("seed");
    app.indexes_settled().await;
    assert_eq!(on_index(&db, t).await, ["A"]);

    // A new item, and the old one deleted: the index still shows the old state.
    db.transact_write_items()
        .transact_items(put(t, "B", "2"))
        .transact_items(delete(t, "A"))
        .send()
        .await
        .expect("write");
    assert_eq!(on_index(&db, t).await, ["A"], "the index has not caught up yet");
    assert_eq!(item(&db, t, "A").await, None, "the table reads its writes");
    app.indexes_settled().await;
    assert_eq!(on_index(&db, t).await, ["B"], "then it has");

    // Moved off the index by an update: gone from it only after the lag.
    db.update_item()
        .table_name(t)
        .set_key(Some(key("B")))
        .update_expression("REMOVE GSI2PK")
        .send()
        .await
        .expect("update");
    assert_eq!(on_index(&db, t).await, ["B"]);
    app.indexes_settled().await;
    assert!(on_index(&db, t).await.is_empty());

    let refused = db
        .query()
        .table_name(t)
        .index_name("GSI2")
        .key_condition_expression("GSI2PK = :pk")
        .expression_attribute_values(":pk", s("EMULATOR"))
        .consistent_read(true)
        .send()
        .await
        .expect_err("refused");
    let message = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&refused));
    assert!(message.contains("Consistent reads are not supported on global secondary indexes"), "{message}");
}
