//! What the stack does after it answered: deletions run by the worker, asynchronous invocations
//! that failed every retry (and their replay), and the table's items as they stand.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use vivid_local::infra::emulator::async_invoke::AsyncCounts;

use crate::{Reply, TestApp};

impl TestApp {
    /// Waits (a minute at most) until every deletion started so far has ended — its worker run,
    /// with Lambda's retries — and returns the worker's counts.
    pub async fn deletions_settled(&self) -> AsyncCounts {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let counts = self.stack.async_invocations().counts("deletion-worker");
            if counts.in_flight == 0 {
                return counts;
            }
            assert!(std::time::Instant::now() < deadline, "deletions still running after a minute: {counts:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// `DELETE path` as `token`: asserts the 202 `{"status": "deleting"}`, then waits for the
    /// deletion worker to finish (bounded, and without a run that failed every retry).
    pub async fn delete_and_wait(&self, path: &str, token: &str) -> Reply {
        let r = self.call(Method::DELETE, path, Some(token), None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "DELETE {path}: {:?}", r.body);
        assert_eq!(r.body["status"], "deleting", "DELETE {path}");
        let counts = self.deletions_settled().await;
        assert_eq!(counts.exhausted, 0, "a deletion failed every retry: {counts:?}");
        r
    }

    /// The asynchronous invocations that failed every retry and wait in the template's
    /// `FailedEventsQueue` (Lambda's on-failure records), without taking them off the queue.
    pub async fn failed_events(&self) -> Vec<Value> {
        let queue = self.stack.async_invocations().queue_url("FailedEventsQueue").expect("the failed-events queue");
        let sqs = aws_sdk_sqs::Client::new(&self.stack.sdk);
        let out = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .expect("receive");
        out.messages().iter().filter_map(|m| m.body().and_then(|b| serde_json::from_str(b).ok())).collect()
    }

    /// What `scripts/replay-failed.sh QUEUE_URL` does: each on-failure record of the
    /// failed-events queue is invoked again (`InvocationType: Event`) on the function its
    /// `requestContext.functionArn` names, with its `requestPayload`, and deleted once Lambda
    /// accepted it (202). How many were replayed.
    pub async fn replay_failed_events(&self) -> usize {
        let queue = self.stack.async_invocations().queue_url("FailedEventsQueue").expect("the failed-events queue");
        let sqs = aws_sdk_sqs::Client::new(&self.stack.sdk);
        let lambda = aws_sdk_lambda::Client::new(&self.stack.sdk);
        let mut replayed = 0;
        loop {
            let out = sqs
                .receive_message()
                .queue_url(&queue)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .send()
                .await
                .expect("receive");
            if out.messages().is_empty() {
                return replayed;
            }
            for m in out.messages() {
                let record: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("an on-failure record");
                let function = record["requestContext"]["functionArn"].as_str().expect("requestContext.functionArn");
                let payload = serde_json::to_vec(&record["requestPayload"]).expect("payload");
                let accepted = lambda
                    .invoke()
                    .function_name(function)
                    .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                    .payload(aws_sdk_lambda::primitives::Blob::new(payload))
                    .send()
                    .await
                    .expect("invoke");
                assert_eq!(accepted.status_code(), 202, "Lambda accepts the replay");
                sqs.delete_message()
                    .queue_url(&queue)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
                replayed += 1;
            }
        }
    }

    /// One item of the table as it stands (a consistent read), for what no route shows.
    pub async fn item(&self, pk: &str, sk: &str) -> Option<HashMap<String, AttributeValue>> {
        self.dynamo()
            .get_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(pk.to_owned()))
            .key("SK", AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// Moves a video's creation back to `created_at` (its `createdAt` and its place in the
    /// pending index, `GSI2SK = {createdAt}#{videoId}`), behind the API's back, and sets its
    /// `status` when given: what the sweep finds of an upload or import left for days.
    pub async fn backdate_video(&self, video: &str, created_at: &str, status: Option<&str>) {
        let mut update = self
            .dynamo()
            .update_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(format!("VIDEO#{video}")))
            .key("SK", AttributeValue::S("META".into()))
            .update_expression("SET createdAt = :t, GSI2SK = :k")
            .expression_attribute_values(":t", AttributeValue::S(created_at.into()))
            .expression_attribute_values(":k", AttributeValue::S(format!("{created_at}#{video}")));
        if let Some(status) = status {
            update = update
                .update_expression("SET createdAt = :t, GSI2SK = :k, #status = :s")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":s", AttributeValue::S(status.into()));
        }
        update.send().await.expect("backdate the video");
    }

    /// Every item of the table (for "nothing half-written / nothing left behind" checks).
    pub async fn scan_all(&self) -> Vec<HashMap<String, AttributeValue>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let resp =
                self.dynamo().scan().table_name(&self.table).set_exclusive_start_key(start).send().await.expect("scan");
            // The rate limiter's counters (`RATE#`, one per caller and minute, written by every
            // request) are no route's state: tests/tests/stack/rate_limits.rs reads them.
            out.extend(resp.items.unwrap_or_default().into_iter().filter(|i| !pk(i).starts_with("RATE#")));
            start = resp.last_evaluated_key;
            if start.is_none() {
                return out;
            }
        }
    }
}

/// The `PK` of an item, for scans.
pub fn pk(item: &HashMap<String, AttributeValue>) -> &str {
    item.get("PK").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("")
}
