//! Fault injection (issue 14, item 3): the emulator proxy makes a chosen AWS call fail —
//! throttled, a 5xx in the service's error shape, or its connection dropped — on every attempt the
//! SDK makes. Each write route then answers 503 `service_unavailable` with `Retry-After`, and each
//! event consumer fails (so that Lambda delivers the event again). After each failure the table and
//! the buckets are read back: an atomic route left them exactly as they were, a multi-step one left
//! a consistent state its retry finishes; then the fault is cleared, the same request or event is
//! sent again, and it succeeds. A fault on fewer attempts than the SDK makes is never seen.
//!
//! "Consistent" is checked over everything stored (see [`Stored::problems`]): every space has its
//! host's membership, member and video counts match their items, hosted-space and per-member
//! quota counters match what they count, per-video data belongs to a video and a member, recording
//! locks to their video, and every object and multipart upload to the item that leads to it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_local::{
    faults::{Fault, FaultId, FaultRule},
    stack::SDK_MAX_ATTEMPTS,
};
use vivid_tests::{Reply, TestApp, TestUser, job_event, s3_event};

type Item = HashMap<String, AttributeValue>;

// ---------------------------------------------------------------------------------------------
// What the stack stores, and whether it holds together.

/// Everything stored: every item (attributes as canonical text), every object (size and ETag)
/// and every unfinished multipart upload of the three buckets.
#[derive(Debug, PartialEq, Eq)]
struct Contents {
    items: BTreeMap<(String, String), BTreeMap<String, String>>,
    objects: BTreeMap<(String, String), (i64, String)>,
    uploads: BTreeSet<(String, String, String)>,
}

struct Stored {
    contents: Contents,
    items: Vec<Item>,
    buckets: vivid_local::stack::Buckets,
}

fn text(item: &Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

fn number(item: &Item, name: &str) -> i64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn flag(item: &Item, name: &str) -> bool {
    item.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
}

fn canonical(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => format!("S:{s}"),
        AttributeValue::N(n) => format!("N:{n}"),
        AttributeValue::Bool(b) => format!("BOOL:{b}"),
        AttributeValue::Null(_) => "NULL".to_owned(),
        AttributeValue::M(m) => {
            let sorted: BTreeMap<_, _> = m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            format!("M:{sorted:?}")
        }
        AttributeValue::L(l) => format!("L:{:?}", l.iter().map(canonical).collect::<Vec<_>>()),
        AttributeValue::Ss(s) => format!("SS:{:?}", s.iter().collect::<BTreeSet<_>>()),
        AttributeValue::Ns(s) => format!("NS:{:?}", s.iter().collect::<BTreeSet<_>>()),
        other => format!("{other:?}"),
    }
}

impl Stored {
    async fn read(app: &TestApp) -> Self {
        let items = app.scan_all().await;
        let mut contents = Contents { items: BTreeMap::new(), objects: BTreeMap::new(), uploads: BTreeSet::new() };
        for item in &items {
            let attrs = item
                .iter()
                // A budget's expiry is pushed on with every charge: a TTL hint, not state.
                .filter(|(k, _)| !(k.as_str() == "expiresAt" && text(item, "SK").starts_with("BUDGET#")))
                .map(|(k, v)| (k.clone(), canonical(v)))
                .collect();
            contents.items.insert((text(item, "PK"), text(item, "SK")), attrs);
        }
        let buckets = app.stack.buckets.clone();
        let s3 = app.s3();
        for bucket in [&buckets.raw, &buckets.media, &buckets.user] {
            let mut token = None;
            loop {
                let page = s3
                    .list_objects_v2()
                    .bucket(bucket)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .expect("list objects");
                for o in page.contents() {
                    let key = o.key().unwrap_or_default().to_owned();
                    let etag = o.e_tag().unwrap_or_default().to_owned();
                    contents.objects.insert((bucket.clone(), key), (o.size().unwrap_or_default(), etag));
                }
                token = page.next_continuation_token.filter(|_| page.is_truncated == Some(true));
                if token.is_none() {
                    break;
                }
            }
            let uploads = s3.list_multipart_uploads().bucket(bucket).send().await.expect("list uploads");
            for u in uploads.uploads() {
                contents.uploads.insert((
                    bucket.clone(),
                    u.key().unwrap_or_default().to_owned(),
                    u.upload_id().unwrap_or_default().to_owned(),
                ));
            }
        }
        Self { contents, items, buckets }
    }

    fn find(&self, pk: &str, sk: &str) -> Option<&Item> {
        self.items.iter().find(|i| text(i, "PK") == pk && text(i, "SK") == sk)
    }

    fn partition(&self, pk: &str) -> impl Iterator<Item = &Item> {
        let pk = pk.to_owned();
        self.items.iter().filter(move |i| text(i, "PK") == pk)
    }

    /// Every way the stored state does not hold together.
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let keys: HashSet<(String, String)> = self.items.iter().map(|i| (text(i, "PK"), text(i, "SK"))).collect();
        let has = |pk: &str, sk: &str| keys.contains(&(pk.to_owned(), sk.to_owned()));
        let videos: Vec<&Item> =
            self.items.iter().filter(|i| text(i, "PK").starts_with("VIDEO#") && text(i, "SK") == "META").collect();
        let spaces: Vec<&Item> =
            self.items.iter().filter(|i| text(i, "PK").starts_with("SPACE#") && text(i, "SK") == "META").collect();
        for space in &spaces {
            let (pk, id, host) = (text(space, "PK"), text(space, "spaceId"), text(space, "hostId"));
            match self.find(&pk, &format!("MEMBER#{host}")) {
                Some(m) if text(m, "role") == "host" => {}
                _ => out.push(format!("space {id} has no host membership")),
            }
            if flag(space, "deleting") {
                continue; // being deleted: its partition is swept as it goes
            }
            let members = self.partition(&pk).filter(|i| text(i, "SK").starts_with("MEMBER#")).count() as i64;
            if number(space, "memberCount") != members {
                out.push(format!("space {id}: memberCount {} but {members} members", number(space, "memberCount")));
            }
            // A video being deleted left its space's count when it was marked.
            let count = videos.iter().filter(|v| text(v, "spaceId") == id && !flag(v, "deleting")).count() as i64;
            if number(space, "videoCount") != count {
                out.push(format!("space {id}: videoCount {} but {count} videos", number(space, "videoCount")));
            }
        }
        for profile in self.items.iter().filter(|i| text(i, "PK").starts_with("USER#") && text(i, "SK") == "PROFILE") {
            let user = text(profile, "userId");
            let hosted = spaces.iter().filter(|s| text(s, "hostId") == user && !flag(s, "personal")).count() as i64;
            if number(profile, "hostedSpaces") != hosted {
                out.push(format!("user {user}: hostedSpaces {} but {hosted} spaces", number(profile, "hostedSpaces")));
            }
        }
        for m in
            self.items.iter().filter(|i| text(i, "PK").starts_with("SPACE#") && text(i, "SK").starts_with("MEMBER#"))
        {
            let user = text(m, "userId");
            if !has(&text(m, "PK"), "META") {
                out.push(format!("membership of {user} in a space that is gone: {}", text(m, "PK")));
            }
            if !has(&format!("USER#{user}"), "PROFILE") {
                out.push(format!("membership of a user who is gone: {user} in {}", text(m, "PK")));
            }
        }
        for lock in self.items.iter().filter(|i| text(i, "SK").starts_with("IMPORTED#")) {
            let video = self.find(&format!("VIDEO#{}", text(lock, "videoId")), "META");
            let recording = text(lock, "SK")["IMPORTED#".len()..].to_owned();
            if video.is_none_or(|v| text(v, "recordingId") != recording) {
                out.push(format!("recording lock {recording} without its video"));
            }
        }
        for item in self.items.iter().filter(|i| text(i, "PK").starts_with("VIDEO#") && text(i, "SK") != "META") {
            let (pk, sk) = (text(item, "PK"), text(item, "SK"));
            let Some(video) = self.find(&pk, "META") else {
                out.push(format!("{sk} of a video that is gone: {pk}"));
                continue;
            };
            let user = sk.split('#').nth(1).unwrap_or_default();
            if !has(&format!("SPACE#{}", text(video, "spaceId")), &format!("MEMBER#{user}")) {
                out.push(format!("{sk} of {pk} {REVOKED}"));
            }
            if sk.starts_with("USAGE#") {
                for (attr, prefix) in [("snapshots", "SNAP#"), ("drawings", "DRAW#"), ("checkpoints", "MEMOHIST#")] {
                    let counted =
                        self.partition(&pk).filter(|i| text(i, "SK").starts_with(&format!("{prefix}{user}#"))).count()
                            as i64;
                    if number(item, attr) != counted {
                        out.push(format!("{pk} {sk}: {attr} {} but {counted} items", number(item, attr)));
                    }
                }
                // The bytes charged on the video: snapshots' and drawings' sizes, checkpoints' states.
                let own = |prefix: &str| format!("{prefix}{user}#");
                let stored: i64 = self
                    .partition(&pk)
                    .map(|i| match text(i, "SK") {
                        s if s.starts_with(&own("SNAP#")) || s.starts_with(&own("DRAW#")) => number(i, "sizeBytes"),
                        s if s.starts_with(&own("MEMOHIST#")) => text(i, "stateJson").len() as i64,
                        _ => 0,
                    })
                    .sum();
                if number(item, "bytes") != stored {
                    out.push(format!("{pk} {sk}: bytes {} but its notes take {stored}", number(item, "bytes")));
                }
            }
        }
        // Each account's storage total is the sum of its usage on every video.
        let mut charged: BTreeMap<String, i64> = BTreeMap::new();
        for usage in self.items.iter().filter(|i| text(i, "PK").starts_with("VIDEO#")) {
            if let Some(user) = text(usage, "SK").strip_prefix("USAGE#") {
                *charged.entry(user.to_owned()).or_default() += number(usage, "bytes");
            }
        }
        for total in self.items.iter().filter(|i| text(i, "SK") == "STORAGE") {
            let user = text(total, "PK").trim_start_matches("USER#").to_owned();
            if !has(&text(total, "PK"), "PROFILE") {
                out.push(format!("storage total of a user who is gone: {user}"));
            }
            charged.entry(user).or_default();
        }
        for (user, bytes) in charged {
            let total = self.find(&format!("USER#{user}"), "STORAGE").map_or(0, |t| number(t, "bytes"));
            if total != bytes {
                out.push(format!("user {user}: storage {total} but their usage on videos sums to {bytes}"));
            }
        }
        let drawing_objects: HashSet<String> =
            self.items.iter().map(|i| text(i, "objectKey")).filter(|k| !k.is_empty()).collect();
        for (bucket, key) in self.contents.objects.keys() {
            let video = |id: &str| self.find(&format!("VIDEO#{id}"), "META");
            let segment = |n: usize| key.split('/').nth(n).unwrap_or_default();
            let orphan = if *bucket == self.buckets.user {
                match segment(0) {
                    "snapshots" => {
                        let id = segment(3);
                        !has(&format!("VIDEO#{}", segment(1)), &format!("SNAP#{}#{id}", segment(2)))
                    }
                    _ => !drawing_objects.contains(key),
                }
            } else {
                video(segment(1)).is_none()
            };
            if orphan {
                out.push(format!("object {bucket}/{key} that no item leads to"));
            }
        }
        for (bucket, key, _) in &self.contents.uploads {
            let video = key.strip_prefix("raw/").and_then(|id| self.find(&format!("VIDEO#{id}"), "META"));
            if *bucket != self.buckets.raw
                || video.is_none_or(|v| !["UPLOADING", "IMPORTING"].contains(&text(v, "status").as_str()))
            {
                out.push(format!("multipart upload {bucket}/{key} of no pending video"));
            }
        }
        out
    }

    fn assert_consistent(&self, when: &str) {
        let problems = self.problems();
        assert!(problems.is_empty(), "{when}: the stored state does not hold together:\n  {}", problems.join("\n  "));
    }

    /// [`Self::assert_consistent`], a former member's data awaiting the worker's purge allowed.
    fn assert_consistent_but_revoked(&self, when: &str) {
        let problems: Vec<String> = self.problems().into_iter().filter(|p| !p.ends_with(REVOKED)).collect();
        assert!(problems.is_empty(), "{when}: the stored state does not hold together:\n  {}", problems.join("\n  "));
    }

    /// What changed from `self` to `later` (keys only), for failure messages.
    fn diff(&self, later: &Stored) -> String {
        let mut out = Vec::new();
        let (a, b) = (&self.contents, &later.contents);
        for k in a.items.keys().chain(b.items.keys()).collect::<BTreeSet<_>>() {
            match (a.items.get(k), b.items.get(k)) {
                (Some(_), None) => out.push(format!("item removed: {k:?}")),
                (None, Some(_)) => out.push(format!("item added: {k:?}")),
                (Some(x), Some(y)) if x != y => out.push(format!("item changed: {k:?}: {x:?} -> {y:?}")),
                _ => {}
            }
        }
        for k in a.objects.keys().chain(b.objects.keys()).collect::<BTreeSet<_>>() {
            if a.objects.get(k) != b.objects.get(k) {
                out.push(format!("object: {k:?}: {:?} -> {:?}", a.objects.get(k), b.objects.get(k)));
            }
        }
        for u in a.uploads.symmetric_difference(&b.uploads) {
            out.push(format!("multipart upload: {u:?}"));
        }
        out.join("\n  ")
    }
}

// ---------------------------------------------------------------------------------------------
// A request (or an event) through a failing backend, then again once it healed.

/// The problem a former member's data is, until the deletion worker purged it.
const REVOKED: &str = "belongs to no member of its space";

/// What a failed attempt may leave behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaves {
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
struct Req {
    method: Method,
    path: String,
    token: String,
    body: Option<Value>,
}

impl Req {
    fn new(method: Method, path: impl Into<String>, who: &TestUser, body: Option<Value>) -> Self {
        Self { method, path: path.into(), token: who.token.clone(), body }
    }

    async fn send(&self, app: &TestApp) -> Reply {
        app.call(self.method.clone(), &self.path, Some(&self.token), self.body.clone()).await
    }
}

/// Whether the SDK retries the fault by itself (and so met it on every attempt).
fn sdk_retries(fault: &Fault) -> bool {
    matches!(fault, Fault::Throttle | Fault::ServerError | Fault::Drop)
}

/// Arms `rule`, runs `attempt`, clears the rule; checks what the failure left. The rule's id.
async fn through_fault<F, Fut, T>(app: &TestApp, rule: FaultRule, leaves: Leaves, what: &str, attempt: F) -> (T, Stored)
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
async fn unavailable_then_ok(
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
async fn deletion_fails_then_replayed(app: &TestApp, rule: FaultRule, req: &Req, job: Value) -> Stored {
    worker_fails_then_replayed(app, rule, req, job, StatusCode::ACCEPTED).await
}

/// [`deletion_fails_then_replayed`] for a route that answers `answer` once it started the worker.
async fn worker_fails_then_replayed(
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
async fn event_fails_then_ok(app: &TestApp, rule: FaultRule, function: &str, event: &Value, leaves: Leaves) -> Value {
    let what = format!("{function} with {:?} on {}", rule.fault, rule.operation);
    let (failed, _) = through_fault(app, rule, leaves, &what, || app.invoke(function, event.clone())).await;
    let error = failed.expect_err(&format!("{what}: the consumer must fail so that Lambda retries the event"));
    assert!(error.contains("unavailable"), "{what}: {error}");
    let handled = app.invoke(function, event.clone()).await.unwrap_or_else(|e| panic!("{what}, retried: {e}"));
    Stored::read(app).await.assert_consistent(&format!("{what}, retried"));
    handled
}

// ---------------------------------------------------------------------------------------------
// A course with something of everything.

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// A drawing document too large for the table (kept in the user-content bucket).
fn large_drawing(marker: &str) -> Value {
    json!({ "kind": "page", "document": { "marker": marker, "strokes": "x".repeat(100 * 1024) } })
}

struct Course {
    host: TestUser,
    space: String,
    /// A ready video (notes are taken on ready videos only), with outputs in the media bucket.
    video: String,
}

impl Course {
    async fn new(app: &TestApp) -> Self {
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
    async fn participant(&self, app: &TestApp, name: &str) -> TestUser {
        let who = app.user(name).await;
        app.join(&self.space, &self.host, &who).await;
        study(app, &self.video, &who).await;
        who
    }
}

/// `who` leaves one of everything on `video`.
async fn study(app: &TestApp, video: &str, who: &TestUser) {
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

fn dynamodb(operation: &str, fault: Fault) -> FaultRule {
    FaultRule::dynamodb(operation, fault)
}

fn s3(operation: &str, fault: Fault) -> FaultRule {
    FaultRule::s3(operation, fault)
}

// ---------------------------------------------------------------------------------------------
// Routes.

#[tokio::test]
async fn space_and_member_writes_answer_503_and_a_retry_completes_them() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let host = &course.host;
    let space = &course.space;
    let invitee = app.user("Invitee").await;
    let ana = course.participant(&app, "Ana").await;
    let bob = course.participant(&app, "Bob").await;

    let create = Req::new(Method::POST, "/spaces", host, Some(json!({ "name": "Second" })));
    let patch = Req::new(Method::PATCH, format!("/spaces/{space}"), host, Some(json!({ "name": "Renamed" })));
    let add =
        Req::new(Method::POST, format!("/spaces/{space}/members"), host, Some(json!({ "email": invitee.email() })));
    let cases = [
        (dynamodb("TransactWriteItems", Fault::Throttle), &create, StatusCode::CREATED),
        (dynamodb("UpdateItem", Fault::ServerError), &patch, StatusCode::OK),
        (dynamodb("TransactWriteItems", Fault::Drop), &add, StatusCode::CREATED),
    ];
    for (rule, req, ok) in cases {
        unavailable_then_ok(&app, rule, req, Leaves::Nothing, ok).await;
    }
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["name"], "Renamed");

    // Removing a member: the membership goes first, in one transaction — a failure there leaves
    // everything, and the removal retried succeeds.
    let bob_leaves = Req::new(Method::DELETE, format!("/spaces/{space}/members/{}", bob.id()), &bob, None);
    let rule = dynamodb("TransactWriteItems", Fault::ServerError);
    unavailable_then_ok(&app, rule, &bob_leaves, Leaves::Nothing, StatusCode::NO_CONTENT).await;
    app.deletions_settled().await;
    // ...then the deletion worker purges the data: a failure there fails every run while the
    // member is already out, and the replayed event finishes it.
    let remove_ana = Req::new(Method::DELETE, format!("/spaces/{space}/members/{}", ana.id()), host, None);
    let user_bucket = app.stack.buckets.user.clone();
    let rule = s3("DeleteObject", Fault::ServerError).on(&user_bucket);
    let job = json!({ "kind": "member", "spaceId": space, "userId": ana.id() });
    let left = worker_fails_then_replayed(&app, rule, &remove_ana, job, StatusCode::NO_CONTENT).await;
    assert!(left.find(&format!("SPACE#{space}"), &format!("MEMBER#{}", ana.id())).is_none(), "out at once");
    let stored = Stored::read(&app).await;
    for who in [&ana, &bob] {
        assert!(stored.find(&format!("SPACE#{space}"), &format!("MEMBER#{}", who.id())).is_none());
        let theirs = |k: &str| k.contains(&who.id());
        assert!(!stored.contents.items.keys().any(|(pk, sk)| pk.starts_with("VIDEO#") && theirs(sk)), "their data");
        assert!(!stored.contents.objects.keys().any(|(_, key)| theirs(key)), "their objects");
    }
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["memberCount"], 2);

    // Deleting the space: the route marks it (one write) and answers 202; the worker takes Carl's
    // progress out of his standing (one transaction), then every transaction after that fails —
    // the video item's, the sweep's — in every run. The space is gone for readers and holds
    // together; the failed event waits in the queue, and replaying it finishes the work.
    let carl = course.participant(&app, "Carl").await;
    let delete = Req::new(Method::DELETE, format!("/spaces/{space}"), host, None);
    let rule = dynamodb("TransactWriteItems", Fault::Throttle).after(1);
    let job = json!({ "kind": "space", "spaceId": space });
    let left = deletion_fails_then_replayed(&app, rule, &delete, job).await;
    let tombstone = left.find(&format!("SPACE#{space}"), "META").expect("the space item stays until the last step");
    assert!(flag(tombstone, "deleting"));
    let stored = Stored::read(&app).await;
    assert!(!stored.contents.items.keys().any(|(pk, _)| pk.contains(space.as_str())), "nothing of the space is left");
    assert!(!stored.contents.items.keys().any(|(pk, _)| pk.contains(&course.video)), "nor of its video");
    assert!(!stored.contents.objects.keys().any(|(_, k)| k.contains(&course.video)), "nor of its objects");
    assert_eq!(app.get(&format!("/spaces/{space}"), &carl.token).await.status, StatusCode::NOT_FOUND);
    let me = app.get("/users/me", &host.token).await;
    assert_eq!(me.body["usage"]["hostedSpaces"]["used"], 1, "the second space only: {:?}", me.body);
}

#[tokio::test]
async fn video_writes_answer_503_and_a_retry_completes_them() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let (host, space) = (&course.host, &course.space);
    let new_video =
        |size: u64| json!({ "title": "Lecture", "fileName": "l.mp4", "contentType": "video/mp4", "sizeBytes": size });
    let videos = format!("/spaces/{space}/videos");
    let big: u64 = 17 * 1024 * 1024; // three parts: 8 + 8 + 1 MiB
    let single = Req::new(Method::POST, &videos, host, Some(new_video(1000)));
    let multipart = Req::new(Method::POST, &videos, host, Some(new_video(big)));
    // The video, its count and the day's budget are one transaction; a multipart upload started
    // for it is aborted when the transaction fails.
    let cases = [
        (dynamodb("TransactWriteItems", Fault::ServerError), &single),
        (dynamodb("TransactWriteItems", Fault::Throttle), &multipart),
        (s3("CreateMultipartUpload", Fault::Drop), &multipart),
    ];
    let mut created = Vec::new();
    for (rule, req) in cases {
        let (r, _) = unavailable_then_ok(&app, rule, req, Leaves::Nothing, StatusCode::CREATED).await;
        created.push(r.body);
    }
    let me = app.get("/users/me", &host.token).await.body;
    assert_eq!(me["usage"]["transcodeBytesToday"]["used"], 256 + 1000 + 2 * big, "each charged once: {me}");

    // Completing a multipart upload: S3 refuses for now, then completes it.
    let upload = created[1]["upload"].clone();
    let id = created[1]["videoId"].as_str().expect("id").to_owned();
    let mut parts = Vec::new();
    for (i, part) in upload["parts"].as_array().expect("parts").iter().enumerate() {
        let size = if i < 2 { 8 * 1024 * 1024 } else { 1024 * 1024 };
        let resp = app.http.put(part["url"].as_str().expect("url")).body(bytes(size)).send().await.expect("part");
        assert!(resp.status().is_success());
        let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).expect("etag").to_owned();
        parts.push(json!({ "partNumber": i + 1, "etag": etag }));
    }
    let complete =
        Req::new(Method::POST, format!("/videos/{id}/upload/complete"), host, Some(json!({ "parts": parts })));
    unavailable_then_ok(
        &app,
        s3("CompleteMultipartUpload", Fault::Throttle),
        &complete,
        Leaves::Nothing,
        StatusCode::OK,
    )
    .await;
    assert!(app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await);

    // Aborting: the upload goes first, the status last; aborting again finishes it.
    let aborted = created[2]["videoId"].as_str().expect("id").to_owned();
    let abort = Req::new(Method::DELETE, format!("/videos/{aborted}/upload"), host, None);
    let (_, left) = unavailable_then_ok(
        &app,
        dynamodb("UpdateItem", Fault::ServerError),
        &abort,
        Leaves::Progress,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(left.contents.uploads.is_empty(), "the multipart upload was aborted");
    assert_eq!(app.get(&format!("/videos/{aborted}"), &host.token).await.body["status"], "FAILED");
    assert!(app.no_multipart_uploads().await);

    // Progress: the first write creates the member's grant, the next ones touch it.
    let progress = Req::new(
        Method::PUT,
        format!("/videos/{}/progress", course.video),
        host,
        Some(json!({ "progressRate": 30, "positionSeconds": 4.0 })),
    );
    unavailable_then_ok(
        &app,
        dynamodb("TransactWriteItems", Fault::Drop),
        &progress,
        Leaves::Nothing,
        StatusCode::NO_CONTENT,
    )
    .await;
    unavailable_then_ok(
        &app,
        dynamodb("UpdateItem", Fault::Throttle),
        &progress,
        Leaves::Nothing,
        StatusCode::NO_CONTENT,
    )
    .await;
    let v = app.get(&format!("/videos/{}", course.video), &host.token).await.body;
    assert_eq!(v["progress"]["progressRate"], 30);
    let rename = Req::new(Method::PATCH, format!("/videos/{}", course.video), host, Some(json!({ "title": "Waves" })));
    unavailable_then_ok(&app, dynamodb("UpdateItem", Fault::Drop), &rename, Leaves::Nothing, StatusCode::OK).await;

    // Deleting a video: the route marks it and frees its place in the space (one transaction)
    // and starts the worker. A failure there is a 503 that leaves the mark (the video reads as
    // gone), and deleting it again starts the worker; the worker's failures are retried, then
    // queued, and a replay finishes them. The worker removes its objects first, its items next,
    // the video item last.
    let ana = course.participant(&app, "Ana").await;
    let third = app.uploaded_video(space, host, bytes(1000)).await;
    let delete = Req::new(Method::DELETE, format!("/videos/{third}"), host, None);
    let (_, left) = unavailable_then_ok(
        &app,
        FaultRule::lambda_invoke(Fault::ServerError).on("deletion-worker"),
        &delete,
        Leaves::Progress,
        StatusCode::ACCEPTED,
    )
    .await;
    let marked = left.find(&format!("VIDEO#{third}"), "META").expect("the video stays, marked");
    assert!(flag(marked, "deleting"));
    assert_eq!(app.get(&format!("/videos/{third}"), &host.token).await.status, StatusCode::NOT_FOUND);
    app.deletions_settled().await;
    let delete = Req::new(Method::DELETE, format!("/videos/{}", course.video), host, None);
    let media = app.stack.buckets.media.clone();
    let job = json!({ "kind": "video", "videoId": course.video });
    let left =
        deletion_fails_then_replayed(&app, s3("DeleteObjects", Fault::ServerError).on(&media), &delete, job).await;
    assert!(left.find(&format!("VIDEO#{}", course.video), "META").is_some());
    assert!(left.find(&format!("VIDEO#{}", course.video), &format!("MEMO#{}", ana.id())).is_some());
    let second = app.ready_video(space, host).await;
    study(&app, &second, &ana).await;
    let delete = Req::new(Method::DELETE, format!("/videos/{second}"), host, None);
    // The first transaction is the route's mark; the worker's first gives Ana's notes' bytes back
    // to her storage, its second takes her progress out of her standing; its third, failing here,
    // is the video item's.
    let job = json!({ "kind": "video", "videoId": second });
    let left =
        deletion_fails_then_replayed(&app, dynamodb("TransactWriteItems", Fault::ServerError).after(3), &delete, job)
            .await;
    let kept: Vec<_> = left.partition(&format!("VIDEO#{second}")).map(|i| text(i, "SK")).collect();
    assert_eq!(kept, ["META"], "the per-member items went, the video item stays to the last");
    assert!(!left.contents.objects.keys().any(|(_, k)| k.contains(&second)), "its objects went first");
    let stored = Stored::read(&app).await;
    for gone in [&course.video, &second, &third] {
        assert!(!stored.contents.items.keys().any(|(pk, _)| pk.contains(gone.as_str())));
        assert!(!stored.contents.objects.keys().any(|(_, k)| k.contains(gone.as_str())));
    }
}

#[tokio::test]
async fn notes_drawings_and_snapshots_answer_503_and_a_retry_completes_them() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let ana = app.user("Ana").await;
    app.join(&course.space, &course.host, &ana).await;
    let video = &course.video;
    let memo = format!("/videos/{video}/text-memo");
    let first_save = Req::new(Method::PUT, &memo, &ana, Some(json!({ "stateJson": "<p>one</p>" })));
    let next_save = Req::new(Method::PUT, &memo, &ana, Some(json!({ "stateJson": "<p>two</p>" })));
    let checkpoint = Req::new(Method::POST, format!("{memo}/history"), &ana, Some(json!({})));
    let drawing = format!("/videos/{video}/drawings/large");
    let draw = Req::new(Method::PUT, &drawing, &ana, Some(large_drawing("first")));
    let redraw = Req::new(Method::PUT, &drawing, &ana, Some(large_drawing("second")));
    let snapshot = Req::new(
        Method::POST,
        format!("/videos/{video}/snapshots"),
        &ana,
        Some(json!({ "videoSeconds": 3.0, "contentType": "image/png", "sizeBytes": 4 })),
    );
    let cases = [
        // Every write of a member's own data is a transaction with the live grant's checks.
        (dynamodb("TransactWriteItems", Fault::ServerError), &first_save, StatusCode::CREATED),
        (dynamodb("TransactWriteItems", Fault::Drop), &next_save, StatusCode::OK),
        // A cancelled transaction is read by its reasons: throttled is 503, never a failed
        // condition (the SDK does not retry a cancelled transaction).
        (
            dynamodb("TransactWriteItems", Fault::CancelTransaction("ThrottlingError".into())),
            &checkpoint,
            StatusCode::CREATED,
        ),
        // A large document goes to S3 before its item: when the item cannot be written, the
        // document is removed.
        (dynamodb("TransactWriteItems", Fault::ServerError), &draw, StatusCode::CREATED),
        // A replacement writes a new document: the one the item points at is never touched.
        (dynamodb("TransactWriteItems", Fault::Throttle), &redraw, StatusCode::OK),
        // Conflicting transactions are retried a few times, then 503.
        (
            dynamodb("TransactWriteItems", Fault::CancelTransaction("TransactionConflict".into())),
            &snapshot,
            StatusCode::CREATED,
        ),
    ];
    let mut replies = Vec::new();
    for (rule, req, ok) in cases {
        replies.push(unavailable_then_ok(&app, rule, req, Leaves::Nothing, ok).await.0);
    }
    let got = app.get(&drawing, &ana.token).await;
    assert_eq!(got.body["document"]["marker"], "second");
    let user_bucket = app.stack.buckets.user.clone();
    let documents = app.list_keys(&user_bucket, &format!("drawings/{video}/")).await;
    assert_eq!(documents.len(), 1, "only the current document is kept: {documents:?}");
    let history = app.get(&format!("{memo}/history"), &ana.token).await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(1));

    // Deleting a drawing or a snapshot: the object first, the item (with its count) last. A
    // failure in between leaves the item, without its document: the drawing reads as gone, and
    // deleting it again finishes it.
    let delete_drawing = Req::new(Method::DELETE, &drawing, &ana, None);
    let rule = dynamodb("TransactWriteItems", Fault::ServerError);
    let (failed, _) = through_fault(&app, rule, Leaves::Progress, "DELETE drawing", || delete_drawing.send(&app)).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", failed.body);
    assert_eq!(app.get(&drawing, &ana.token).await.status, StatusCode::NOT_FOUND, "half-deleted reads as gone");
    assert_eq!(delete_drawing.send(&app).await.status, StatusCode::NO_CONTENT);
    Stored::read(&app).await.assert_consistent("drawing deleted");
    assert!(app.list_keys(&user_bucket, &format!("drawings/{video}/")).await.is_empty());

    let snap = &replies[5].body;
    let upload = &snap["upload"];
    let mut put = app.http.put(upload["url"].as_str().expect("url")).body(vec![1u8, 2, 3, 4]);
    for (name, value) in upload["headers"].as_object().expect("headers") {
        put = put.header(name.as_str(), value.as_str().expect("value"));
    }
    assert!(put.send().await.expect("PUT").status().is_success());
    let id = snap["snapshotId"].as_str().expect("id");
    let delete_snapshot = Req::new(Method::DELETE, format!("/videos/{video}/snapshots/{id}"), &ana, None);
    let rule = dynamodb("TransactWriteItems", Fault::Drop);
    unavailable_then_ok(&app, rule, &delete_snapshot, Leaves::Progress, StatusCode::NO_CONTENT).await;
    assert!(app.list_keys(&user_bucket, &format!("snapshots/{video}/")).await.is_empty());
    let usage = Stored::read(&app).await;
    let counter = usage.find(&format!("VIDEO#{video}"), &format!("USAGE#{}", ana.id())).expect("usage");
    assert_eq!((number(counter, "snapshots"), number(counter, "drawings"), number(counter, "checkpoints")), (0, 0, 1));
}

#[tokio::test]
async fn account_deletion_answers_503_when_it_cannot_start_and_a_replay_finishes_a_failed_one() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let leaving = course.participant(&app, "Leaving").await;
    // They also host a space with a video that has media and another member's notes.
    let own = app.space(&leaving, "Own").await;
    let theirs = app.ready_video(&own, &leaving).await;
    app.put_object(&app.stack.buckets.media, &format!("media/{theirs}/hls/index.m3u8"), b"x".to_vec(), "text/plain")
        .await;
    let guest = app.user("Guest").await;
    app.join(&own, &leaving, &guest).await;
    study(&app, &theirs, &guest).await;

    let delete = Req::new(Method::DELETE, "/users/me", &leaving, None);
    // The worker cannot be started: 503, and the account is left exactly as it was (its owner
    // could not sign in to ask again otherwise).
    let rule = FaultRule::lambda_invoke(Fault::Throttle).on("deletion-worker");
    let (failed, _) =
        through_fault(&app, rule, Leaves::Nothing, "DELETE /users/me, Invoke throttled", || delete.send(&app)).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", failed.body);
    assert_eq!(app.get("/users/me", &leaving.token).await.status, StatusCode::OK, "still an account");
    // The worker fails every retry: the account stays marked (it reads as gone), and a replay of
    // the queued event finishes it.
    let media = app.stack.buckets.media.clone();
    let rule = s3("ListObjectsV2", Fault::ServerError).on(&media);
    let job = json!({ "kind": "account", "userId": leaving.id() });
    let left = deletion_fails_then_replayed(&app, rule, &delete, job).await;
    let profile = left.find(&format!("USER#{}", leaving.id()), "PROFILE").expect("the account goes last");
    assert!(flag(profile, "deleting"));
    let stored = Stored::read(&app).await;
    let id = leaving.id();
    assert!(
        !stored
            .contents
            .items
            .keys()
            .any(|(pk, sk)| (pk.contains(&id) && !sk.starts_with("BUDGET#")) || sk.contains(&id)),
        "nothing of the account is left but its budget counter (which expires)"
    );
    assert!(!stored.contents.items.keys().any(|(pk, _)| pk.contains(own.as_str()) || pk.contains(theirs.as_str())));
    assert!(!stored.contents.objects.keys().any(|(_, k)| k.contains(&id) || k.contains(&theirs)));
    assert_eq!(app.get(&format!("/spaces/{}", course.space), &course.host.token).await.body["memberCount"], 1);
}

#[tokio::test]
async fn imports_answer_503_when_the_worker_cannot_be_started_and_leave_nothing() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let host = &course.host;
    app.connect_webex(host).await;
    app.connect_zoom(host).await;
    let webex = app.stack.webex.add_synthetic_recording("Webex lecture", 1024 * 1024);
    let meeting = app.stack.zoom.add_meeting(
        "Zoom lecture",
        time::OffsetDateTime::now_utc() - time::Duration::days(1),
        vec![vivid_local::zoom::NewFile::synthetic_mp4(1024 * 1024)],
    );
    let webex_import = Req::new(
        Method::POST,
        format!("/spaces/{}/videos/webex", course.space),
        host,
        Some(json!({ "recordingId": webex, "title": "From Webex" })),
    );
    let zoom_import = Req::new(
        Method::POST,
        format!("/spaces/{}/videos/zoom", course.space),
        host,
        Some(json!({ "meetingId": meeting.meeting_id, "recordingFileId": meeting.file_ids[0], "title": "From Zoom" })),
    );
    // The video is created (counted, charged, the recording locked), then the worker's `Invoke`
    // fails: the video is withdrawn — uncounted, unlocked, its charge refunded — so that the same
    // import can be asked again and is charged once.
    for (fault, req) in [(Fault::Throttle, &webex_import), (Fault::ServerError, &zoom_import)] {
        let (r, _) =
            unavailable_then_ok(&app, FaultRule::lambda_invoke(fault), req, Leaves::Nothing, StatusCode::ACCEPTED)
                .await;
        let id = r.body["videoId"].as_str().expect("id").to_owned();
        // The worker runs on (as Lambda's `Event` invocation does): wait until its recording landed.
        wait_until("the import landed", || async {
            app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await && app.no_multipart_uploads().await
        })
        .await;
    }
    let me = app.get("/users/me", &host.token).await.body;
    assert_eq!(me["usage"]["transcodeBytesToday"]["used"], 256 + 2 * 1024 * 1024, "charged once each: {me}");
    assert_eq!(app.get(&format!("/spaces/{}", course.space), &host.token).await.body["videoCount"], 3);

    // Zoom's webhook: an automatic import that cannot start answers 503 and gives its claim on
    // the delivery back, so that Zoom's next delivery imports the recording (once).
    let link = format!("/spaces/{}/zoom-auto-import", course.space);
    let r = app.call(Method::PUT, &link, Some(&host.token), Some(json!({ "enabled": true }))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let zoom = &app.stack.zoom;
    let next = zoom.add_meeting(
        "Automatic",
        time::OffsetDateTime::now_utc(),
        vec![vivid_local::zoom::NewFile::synthetic_mp4(512 * 1024)],
    );
    let event = zoom.recording_completed_event(&next.meeting_id);
    let url = format!("{}/zoom/webhook", app.base);
    let what = "the Zoom webhook with the worker's Invoke throttled";
    let rule = FaultRule::lambda_invoke(Fault::Throttle);
    let ((status, _), _) =
        through_fault(&app, rule, Leaves::Nothing, what, || zoom.deliver(&url, &event, &zoom.webhook_secret)).await;
    assert_eq!(status, 503, "{what}");
    for _ in 0..2 {
        let (status, _) = zoom.deliver(&url, &event, &zoom.webhook_secret).await;
        assert_eq!(status, 200, "delivered again");
    }
    let videos = app.get(&format!("/spaces/{}/videos", course.space), &host.token).await.body["items"].clone();
    let automatic = videos.as_array().into_iter().flatten().filter(|v| v["title"] == "Automatic").count();
    assert_eq!(automatic, 1, "imported once: {videos}");
}

async fn wait_until<F, Fut>(what: &str, done: F)
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

// ---------------------------------------------------------------------------------------------
// Event consumers.

#[tokio::test]
async fn event_consumers_fail_so_that_lambda_retries_and_the_retry_completes_them() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let (raw, media) = (app.stack.buckets.raw.clone(), app.stack.buckets.media.clone());

    // on-raw-upload: the upload is recorded and the job started on the retry, once.
    let created = app.new_video(&space, &host, 2048).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    app.upload_single(&created, bytes(2048)).await;
    let landed = s3_event(&raw, &format!("raw/{id}"), 2048);
    event_fails_then_ok(&app, dynamodb("UpdateItem", Fault::Throttle), "on-raw-upload", &landed, Leaves::Nothing).await;
    let jobs = app.stack.mediaconvert.jobs();
    assert_eq!(jobs.len(), 1, "one job");
    assert_eq!(app.get(&format!("/videos/{id}"), &host.token).await.body["status"], "TRANSCODING");
    // A job's start that MediaConvert confirmed but the table did not record: the retry finds the
    // same job (its token is the video's), never a second one.
    let second = app.new_video(&space, &host, 2048).await;
    let second_id = second["videoId"].as_str().expect("id").to_owned();
    app.upload_single(&second, bytes(2048)).await;
    let event = s3_event(&raw, &format!("raw/{second_id}"), 2048);
    let rule = dynamodb("UpdateItem", Fault::ServerError).after(1);
    event_fails_then_ok(&app, rule, "on-raw-upload", &event, Leaves::Progress).await;
    assert_eq!(app.stack.mediaconvert.jobs().len(), 2, "one job per video");
    // An upload that does not match its video: FAILED first, then the object goes.
    let wrong = app.new_video(&space, &host, 4096).await;
    let wrong_id = wrong["videoId"].as_str().expect("id").to_owned();
    app.put_object(&raw, &format!("raw/{wrong_id}"), bytes(100), "video/mp4").await;
    let event = s3_event(&raw, &format!("raw/{wrong_id}"), 100);
    let rule = s3("DeleteObject", Fault::ServerError).on(&raw);
    event_fails_then_ok(&app, rule, "on-raw-upload", &event, Leaves::Progress).await;
    assert!(!app.object_exists(&raw, &format!("raw/{wrong_id}")).await);
    assert_eq!(app.get(&format!("/videos/{wrong_id}"), &host.token).await.body["status"], "FAILED");

    // on-converted-output: an output is recorded on the retry.
    let thumb = format!("media/{id}/thumbnails/thumb.0000000.jpg");
    app.put_object(&media, &thumb, vec![0xff, 0xd8], "image/jpeg").await;
    let event = s3_event(&media, &thumb, 2);
    event_fails_then_ok(&app, dynamodb("UpdateItem", Fault::Drop), "on-converted-output", &event, Leaves::Nothing)
        .await;
    let stored = Stored::read(&app).await;
    assert_eq!(number(stored.find(&format!("VIDEO#{id}"), "META").expect("video"), "thumbnailCount"), 1);

    // on-transcode-event: COMPLETE makes it READY on the retry.
    let job = jobs[0].id.clone();
    let complete = job_event("on-transcode-event", &id, &job, &media);
    event_fails_then_ok(
        &app,
        dynamodb("UpdateItem", Fault::ServerError),
        "on-transcode-event",
        &complete,
        Leaves::Nothing,
    )
    .await;
    assert_eq!(app.get(&format!("/videos/{id}"), &host.token).await.body["status"], "READY");
    // ERROR: the video is FAILED, then its media go; when they cannot, the retried event finds
    // a failed video and removes them.
    let job = app.stack.mediaconvert.jobs().into_iter().find(|j| j.id != jobs[0].id).expect("second job").id;
    app.put_object(&media, &format!("media/{second_id}/hls/index.m3u8"), b"x".to_vec(), "text/plain").await;
    let error = job_event("on-transcode-event-error", &second_id, &job, &media);
    let rule = s3("DeleteObjects", Fault::Throttle).on(&media);
    event_fails_then_ok(&app, rule, "on-transcode-event", &error, Leaves::Progress).await;
    assert_eq!(app.get(&format!("/videos/{second_id}"), &host.token).await.body["status"], "FAILED");
    assert!(app.list_keys(&media, &format!("media/{second_id}/")).await.is_empty(), "a failed video keeps no media");

    // sweep-stale-videos: a stale upload is marked for deletion (with its count and its charge)
    // in one transaction, or not at all; the deletion worker then removes its multipart upload.
    let stale = app.new_video(&space, &host, 17 * 1024 * 1024).await;
    assert_eq!(stale["upload"]["kind"], "multipart");
    let stale = stale["videoId"].as_str().expect("id").to_owned();
    age(&app, &stale).await;
    app.indexes_settled().await;
    let sweep = json!({ "source": "aws.events" });
    let rule = dynamodb("TransactWriteItems", Fault::ServerError);
    let swept = event_fails_then_ok(&app, rule, "sweep-stale-videos", &sweep, Leaves::Nothing).await;
    assert_eq!(swept["removed"], 1, "{swept}");
    assert_eq!(app.deletions_settled().await.exhausted, 0);
    assert_eq!(app.get(&format!("/videos/{stale}"), &host.token).await.status, StatusCode::NOT_FOUND);
    assert!(app.no_multipart_uploads().await);
}

/// Makes a video two days old (its creation time and its place in the sweep's index).
async fn age(app: &TestApp, video: &str) {
    let old = "2020-01-01T00:00:00.000Z";
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("VIDEO#{video}")))
        .key("SK", AttributeValue::S("META".into()))
        .update_expression("SET createdAt = :t, GSI2SK = :k")
        .expression_attribute_values(":t", AttributeValue::S(old.into()))
        .expression_attribute_values(":k", AttributeValue::S(format!("{old}#{video}")))
        .send()
        .await
        .expect("age the video");
}

#[tokio::test]
async fn the_import_worker_hands_its_run_back_when_the_bucket_fails_and_the_retry_imports() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let host = &course.host;
    app.connect_webex(host).await;
    let recording = app.stack.webex.add_synthetic_recording("Lecture", 9 * 1024 * 1024);
    // The route starts the worker; every UploadPart fails, so that run hands the video back.
    let faults = app.stack.faults();
    let parts = faults.add(s3("UploadPart", Fault::ServerError));
    let r = app
        .post(
            &format!("/spaces/{}/videos/webex", course.space),
            &host.token,
            json!({ "recordingId": recording, "title": "Imported" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let id = r.body["videoId"].as_str().expect("id").to_owned();
    let claimed = || async {
        let stored = Stored::read(&app).await;
        stored.find(&format!("VIDEO#{id}"), "META").is_some_and(|v| v.contains_key("importClaimedAt"))
    };
    // The run fails, and so does Lambda's one retry (the template's MaximumRetryAttempts): the
    // event goes to the failed-events queue.
    wait_until("the run and its retry failed", || async {
        app.stack.async_invocations().counts("import-worker").in_flight == 0
    })
    .await;
    let counts = app.stack.async_invocations().counts("import-worker");
    assert_eq!((counts.failed_runs, counts.exhausted), (2, 1), "{counts:?}");
    assert!(faults.fired(parts) >= 2 * u64::from(SDK_MAX_ATTEMPTS));
    assert!(!claimed().await && app.no_multipart_uploads().await, "each run handed the video back");
    assert_eq!(app.failed_events().await.len(), 1, "the event waits in the queue");
    faults.clear();
    // Replayed: through the same fault, the worker fails again (the video still IMPORTING, no
    // partial upload left, the claim handed back)...
    let job = json!({ "videoId": id, "userId": host.id(), "provider": "webex", "recordingId": recording });
    event_fails_then_ok(&app, s3("UploadPart", Fault::Drop), "import-worker", &job, Leaves::Nothing).await;
    // ...and once the bucket is back, the retry imports the recording.
    let raw = app.stack.buckets.raw.clone();
    let head = app.s3().head_object().bucket(&raw).key(format!("raw/{id}")).send().await.expect("imported");
    assert_eq!(head.content_length, Some(9 * 1024 * 1024));
    assert!(app.no_multipart_uploads().await);
    assert_eq!(app.get(&format!("/videos/{id}"), &host.token).await.body["status"], "IMPORTING");
    app.invoke("on-raw-upload", s3_event(&raw, &format!("raw/{id}"), 9 * 1024 * 1024)).await.expect("handled");
    assert_eq!(app.get(&format!("/videos/{id}"), &host.token).await.body["status"], "TRANSCODING");
}

// ---------------------------------------------------------------------------------------------
// Faults the SDK absorbs, and reads.

#[tokio::test]
async fn a_fault_on_fewer_attempts_than_the_sdk_makes_is_absorbed() {
    let app = TestApp::spawn().await;
    let course = Course::new(&app).await;
    let host = &course.host;
    let faults = app.stack.faults();
    let transient = SDK_MAX_ATTEMPTS - 1;
    let video = &course.video;
    let progress = json!({ "progressRate": 5, "positionSeconds": 1.0 });
    let cases = [
        (
            dynamodb("TransactWriteItems", Fault::Throttle),
            Req::new(Method::POST, "/spaces", host, Some(json!({ "name": "S" }))),
            StatusCode::CREATED,
        ),
        (
            dynamodb("TransactWriteItems", Fault::Drop),
            Req::new(Method::PUT, format!("/videos/{video}/progress"), host, Some(progress.clone())),
            StatusCode::NO_CONTENT,
        ),
        (
            dynamodb("UpdateItem", Fault::ServerError),
            Req::new(Method::PUT, format!("/videos/{video}/progress"), host, Some(progress)),
            StatusCode::NO_CONTENT,
        ),
        (
            s3("PutObject", Fault::ServerError),
            Req::new(Method::PUT, format!("/videos/{video}/drawings/big"), host, Some(large_drawing("t"))),
            StatusCode::CREATED,
        ),
        (dynamodb("Query", Fault::Throttle), Req::new(Method::GET, "/spaces", host, None), StatusCode::OK),
        // Our own retry of conflicting transactions absorbs a few.
        (
            dynamodb("TransactWriteItems", Fault::CancelTransaction("TransactionConflict".into())),
            Req::new(
                Method::POST,
                format!("/spaces/{}/members", course.space),
                host,
                Some(json!({ "email": app.user("M").await.email() })),
            ),
            StatusCode::CREATED,
        ),
    ];
    for (rule, req, ok) in cases {
        let what = format!("{} {} with {:?} on {}", req.method, req.path, rule.fault, rule.operation);
        let id = faults.add(rule.times(u64::from(transient)));
        let r = req.send(&app).await;
        faults.clear();
        assert_eq!(r.status, ok, "{what}: {:?}", r.body);
        assert_eq!(faults.fired(id), u64::from(transient), "{what}");
    }
    let converted = format!("media/{video}/thumbnails/thumb.0000001.jpg");
    app.put_object(&app.stack.buckets.media, &converted, vec![0xff], "image/jpeg").await;
    let id = faults.add(dynamodb("UpdateItem", Fault::Drop).times(u64::from(transient)));
    app.invoke("on-converted-output", s3_event(&app.stack.buckets.media, &converted, 1)).await.expect("absorbed");
    faults.clear();
    assert_eq!(faults.fired(id), u64::from(transient));
    Stored::read(&app).await.assert_consistent("after transient faults");

    // A read through a persistent fault is a 503 too, never a 500.
    faults.add(dynamodb("BatchGetItem", Fault::ServerError));
    let r = app.get(&format!("/videos/{video}"), &host.token).await;
    faults.clear();
    assert_eq!((r.status, r.code()), (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"), "{:?}", r.body);
}
