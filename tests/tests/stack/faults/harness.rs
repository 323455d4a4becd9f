//! A request (or an event) through a failing backend, then again once it healed; a course with
//! something of everything to fail on.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_local::{
    infra::faults::{Fault, FaultId, FaultRule},
    stack::SDK_MAX_ATTEMPTS,
};
use vivid_tests::{Reply, TestApp, TestUser};

use super::stored::*;

/// What a failed attempt may leave behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Leaves {
    /// Exactly what was there before: the route is one atomic write, or undoes what it did.
    Nothing,
    /// Part of the work, in a consistent state that the retry finishes (a deletion that spans
    /// the table and the buckets cannot be one transaction).
    Progress,
    /// Part of a deletion worker's work: consistent, but for the data of members whose access
    /// is gone already (revocation first), which the worker's retry or replay removes.
    Revoked,
}

#[derive(Debug, Clone)]
pub(super) struct Req {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) token: String,
    pub(super) body: Option<Value>,
}

impl Req {
    pub(super) fn new(method: Method, path: impl Into<String>, who: &TestUser, body: Option<Value>) -> Self {
        Self { method, path: path.into(), token: who.token.clone(), body }
    }

    pub(super) async fn send(&self, app: &TestApp) -> Reply {
        app.call(self.method.clone(), &self.path, Some(&self.token), self.body.clone()).await
    }
}

/// Whether the SDK retries the fault by itself (and so met it on every attempt).
pub(super) fn sdk_retries(fault: &Fault) -> bool {
    matches!(fault, Fault::Throttle | Fault::ServerError | Fault::Drop)
}

/// Arms `rule`, runs `attempt`, clears the rule; checks what the failure left. The rule's id.
pub(super) async fn through_fault<F, Fut, T>(
    app: &TestApp,
    rule: FaultRule,
    leaves: Leaves,
    what: &str,
    attempt: F,
) -> (T, Stored)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let before = Stored::read(app).await;
    before.assert_consistent(&format!("{what}, before"));
    let faults = app.stack.faults();
    let fault = rule.fault.clone();
    let id: FaultId = faults.add(rule);
    let out = attempt().await;
    faults.clear();
    let fired = faults.fired(id);
    assert!(fired > 0, "{what}: the fault never fired (no such call?)");
    if sdk_retries(&fault) {
        assert!(fired >= u64::from(SDK_MAX_ATTEMPTS), "{what}: the SDK tried {fired} times, not {SDK_MAX_ATTEMPTS}");
    }
    let after = Stored::read(app).await;
    if leaves == Leaves::Revoked {
        after.assert_consistent_but_revoked(&format!("{what}, after the failure"));
    } else {
        after.assert_consistent(&format!("{what}, after the failure"));
    }
    if leaves == Leaves::Nothing {
        assert!(before.contents == after.contents, "{what}: the failure wrote something:\n  {}", before.diff(&after));
    }
    (out, after)
}

/// `req` while `rule` fails the call: 503 `service_unavailable` with `Retry-After`, nothing
/// half-written; healed, the same request answers `ok` and the state holds together. The
/// successful reply and what the failure left.
pub(super) async fn unavailable_then_ok(
    app: &TestApp,
    rule: FaultRule,
    req: &Req,
    leaves: Leaves,
    ok: StatusCode,
) -> (Reply, Stored) {
    let what = format!("{} {} with {:?} on {}", req.method, req.path, rule.fault, rule.operation);
    let (failed, left) = through_fault(app, rule, leaves, &what, || req.send(app)).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {:?}", failed.body);
    assert_eq!(failed.code(), "service_unavailable", "{what}");
    assert_eq!(failed.header("content-type"), Some("application/problem+json"));
    let wait: u64 = failed.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=30).contains(&wait), "{what}: Retry-After {wait}");
    let healed = req.send(app).await;
    assert_eq!(healed.status, ok, "{what}, retried: {:?}", healed.body);
    // With what it started: a removed member's data goes in the deletion worker.
    app.deletions_settled().await;
    Stored::read(app).await.assert_consistent(&format!("{what}, retried"));
    (healed, left)
}

/// `req` starts a deletion while `rule` fails a call of the deletion worker's on every attempt:
/// the route answers 202 at once, the worker fails, so do Lambda's two retries, and the event
/// waits in the failed-events queue as Lambda's on-failure record — what the worker left holds
/// together. Healed, a replay of the queued event (what `scripts/replay-failed.sh` does) finishes
/// the deletion. What the failure left.
pub(super) async fn deletion_fails_then_replayed(app: &TestApp, rule: FaultRule, req: &Req, job: Value) -> Stored {
    worker_fails_then_replayed(app, rule, req, job, StatusCode::ACCEPTED).await
}

/// [`deletion_fails_then_replayed`] for a route that answers `answer` once it started the worker.
pub(super) async fn worker_fails_then_replayed(
    app: &TestApp,
    rule: FaultRule,
    req: &Req,
    job: Value,
    answer: StatusCode,
) -> Stored {
    let what = format!("{} {} with {:?} on {} in the worker", req.method, req.path, rule.fault, rule.operation);
    let before = app.deletions_settled().await;
    let ((accepted, counts), left) = through_fault(app, rule, Leaves::Revoked, &what, || async {
        let accepted = req.send(app).await;
        (accepted, app.deletions_settled().await)
    })
    .await;
    assert_eq!(accepted.status, answer, "{what}: {:?}", accepted.body);
    if answer == StatusCode::ACCEPTED {
        assert_eq!(accepted.body["status"], "deleting", "{what}");
    }
    assert_eq!(counts.failed_runs - before.failed_runs, 3, "{what}: the first run and Lambda's two retries failed");
    assert_eq!(counts.exhausted - before.exhausted, 1, "{what}: the event failed every retry");
    let records = app.failed_events().await;
    assert_eq!(records.len(), 1, "{what}: one on-failure record: {records:?}");
    let record = &records[0];
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    let arn = record["requestContext"]["functionArn"].as_str().expect("functionArn");
    assert!(arn.contains(":function:deletion-worker"), "{what}: {arn}");
    assert_eq!(record["requestPayload"], job, "{what}: the job as the route started it");

    assert_eq!(app.replay_failed_events().await, 1, "{what}: the replay");
    let after = app.deletions_settled().await;
    assert_eq!(after.exhausted, counts.exhausted, "{what}: the replay finished the deletion");
    assert!(app.failed_events().await.is_empty(), "{what}: the queue is empty");
    Stored::read(app).await.assert_consistent(&format!("{what}, replayed"));
    left
}

/// The event consumer `function` on `event` while `rule` fails the call: it fails (Lambda
/// delivers the event again), nothing half-written; healed, the same event is handled.
pub(super) async fn event_fails_then_ok(
    app: &TestApp,
    rule: FaultRule,
    function: &str,
    event: &Value,
    leaves: Leaves,
) -> Value {
    let what = format!("{function} with {:?} on {}", rule.fault, rule.operation);
    let (failed, _) = through_fault(app, rule, leaves, &what, || app.invoke(function, event.clone())).await;
    let error = failed.expect_err(&format!("{what}: the consumer must fail so that Lambda retries the event"));
    assert!(error.contains("unavailable"), "{what}: {error}");
    let handled = app.invoke(function, event.clone()).await.unwrap_or_else(|e| panic!("{what}, retried: {e}"));
    Stored::read(app).await.assert_consistent(&format!("{what}, retried"));
    handled
}

pub(super) fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// A drawing document too large for the table (kept in the user-content bucket).
pub(super) fn large_drawing(marker: &str) -> Value {
    json!({ "kind": "page", "document": { "marker": marker, "strokes": "x".repeat(100 * 1024) } })
}

pub(super) struct Course {
    pub(super) host: TestUser,
    pub(super) space: String,
    /// A ready video (notes are taken on ready videos only), with outputs in the media bucket.
    pub(super) video: String,
}

impl Course {
    pub(super) async fn new(app: &TestApp) -> Self {
        let host = app.user("Host").await;
        let space = app.space(&host, "Course").await;
        let video = app.ready_video(&space, &host).await;
        let media = &app.stack.buckets.media;
        for key in ["hls/index.m3u8", "thumbnails/thumb.0000000.jpg"] {
            app.put_object(media, &format!("media/{video}/{key}"), b"output".to_vec(), "application/octet-stream")
                .await;
        }
        Self { host, space, video }
    }

    /// A participant with something of every kind on the video: progress, a memo and a
    /// checkpoint, a small and a large drawing, a snapshot with its image.
    pub(super) async fn participant(&self, app: &TestApp, name: &str) -> TestUser {
        let who = app.user(name).await;
        app.join(&self.space, &self.host, &who).await;
        study(app, &self.video, &who).await;
        who
    }
}

/// `who` leaves one of everything on `video`.
pub(super) async fn study(app: &TestApp, video: &str, who: &TestUser) {
    let ok = |r: &Reply| assert!(r.status.is_success(), "{:?}", r.body);
    let puts = [
        ("progress", json!({ "progressRate": 40, "positionSeconds": 12.5 })),
        ("text-memo", json!({ "stateJson": "<p>notes</p>" })),
        ("drawings/small", json!({ "kind": "page", "document": { "s": 1 } })),
        ("drawings/large", large_drawing("first")),
    ];
    for (path, body) in puts {
        ok(&app.call(Method::PUT, &format!("/videos/{video}/{path}"), Some(&who.token), Some(body)).await);
    }
    ok(&app.post(&format!("/videos/{video}/text-memo/history"), &who.token, json!({})).await);
    let snap = app
        .post(
            &format!("/videos/{video}/snapshots"),
            &who.token,
            json!({ "videoSeconds": 2.5, "contentType": "image/png", "sizeBytes": 4 }),
        )
        .await;
    ok(&snap);
    let upload = &snap.body["upload"];
    let mut req = app.http.put(upload["url"].as_str().expect("url")).body(vec![1u8, 2, 3, 4]);
    for (name, value) in upload["headers"].as_object().expect("headers") {
        req = req.header(name.as_str(), value.as_str().expect("value"));
    }
    assert!(req.send().await.expect("snapshot PUT").status().is_success());
}

pub(super) fn dynamodb(operation: &str, fault: Fault) -> FaultRule {
    FaultRule::dynamodb(operation, fault)
}

pub(super) fn s3(operation: &str, fault: Fault) -> FaultRule {
    FaultRule::s3(operation, fault)
}

/// Waits (30 s at most) until `done` holds.
pub(super) async fn wait_until<F, Fut>(what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
