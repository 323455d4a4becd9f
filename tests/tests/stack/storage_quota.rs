//! The per-account storage quota (issue 25): snapshots, drawings and memo checkpoints count
//! towards one total per account across every video and space (`MaxStorageBytesPerAccount`);
//! past it a note is refused with 409 `storage_quota_exceeded` and the limit, and deleting a
//! note, removing the member or deleting the video gives the bytes back.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_local::infra::faults::{Fault, FaultRule};
use vivid_tests::{Reply, TestApp, TestUser};

const LIMIT: u64 = 10_000;

async fn stack() -> TestApp {
    TestApp::spawn_configured(|c| {
        c.parameters.insert("MaxStorageBytesPerAccount".into(), LIMIT.to_string());
    })
    .await
}

/// A drawing document of exactly `bytes` bytes as sent (`{"p":"xxx…"}`).
fn document(bytes: usize) -> Value {
    serde_json::from_str(&format!(r#"{{"p":"{}"}}"#, "x".repeat(bytes - 8))).expect("a JSON document")
}

async fn draw(app: &TestApp, who: &TestUser, video: &str, id: &str, bytes: usize) -> Reply {
    let body = json!({ "kind": "page", "document": document(bytes) });
    app.call(Method::PUT, &format!("/videos/{video}/drawings/{id}"), Some(&who.token), Some(body)).await
}

async fn snap(app: &TestApp, who: &TestUser, video: &str, bytes: u64) -> Reply {
    let body = json!({ "videoSeconds": 1, "contentType": "image/png", "sizeBytes": bytes });
    app.post(&format!("/videos/{video}/snapshots"), &who.token, body).await
}

/// Saves a memo of `bytes` bytes and checkpoints it.
async fn checkpoint(app: &TestApp, who: &TestUser, video: &str, bytes: usize, fill: char) -> Reply {
    let state: String = std::iter::repeat_n(fill, bytes).collect();
    let saved = app
        .call(Method::PUT, &format!("/videos/{video}/text-memo"), Some(&who.token), Some(json!({ "stateJson": state })))
        .await;
    assert!(saved.status.is_success(), "{:?}", saved.body);
    app.call(Method::POST, &format!("/videos/{video}/text-memo/history"), Some(&who.token), None).await
}

/// The caller's drawings on a video, without their documents.
async fn drawings(app: &TestApp, who: &TestUser, video: &str) -> Value {
    app.get(&format!("/videos/{video}/drawings"), &who.token).await.body["items"].clone()
}

/// The caller's storage as `GET /users/me` shows it.
async fn storage(app: &TestApp, who: &TestUser) -> Value {
    let me = app.get("/users/me", &who.token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    me.body["usage"]["storageBytes"].clone()
}

async fn used(app: &TestApp, who: &TestUser) -> u64 {
    storage(app, who).await["used"].as_u64().expect("storageBytes.used")
}

#[track_caller]
fn assert_refused(r: &Reply) {
    assert_eq!(
        (r.status, r.code(), r.body["limit"].as_u64()),
        (StatusCode::CONFLICT, "storage_quota_exceeded", Some(LIMIT)),
        "{:?}",
        r.body
    );
}

/// Two hosts, a space each with a ready video; Ana belongs to both, Bo to the first.
struct Classes {
    app: TestApp,
    first_host: TestUser,
    second_host: TestUser,
    ana: TestUser,
    bo: TestUser,
    first_space: String,
    second_space: String,
    first: String,
    second: String,
}

async fn classes() -> Classes {
    let app = stack().await;
    let (first_host, second_host) = (app.user("HostOne").await, app.user("HostTwo").await);
    let (ana, bo) = (app.user("Ana").await, app.user("Bo").await);
    let first_space = app.space(&first_host, "Algebra").await;
    let second_space = app.space(&second_host, "Physics").await;
    app.join(&first_space, &first_host, &ana).await;
    app.join(&second_space, &second_host, &ana).await;
    app.join(&first_space, &first_host, &bo).await;
    let first = app.ready_video(&first_space, &first_host).await;
    let second = app.ready_video(&second_space, &second_host).await;
    Classes { app, first_host, second_host, ana, bo, first_space, second_space, first, second }
}

#[tokio::test]
async fn notes_fill_one_quota_across_videos_and_spaces_and_the_next_is_refused() {
    let c = classes().await;
    let (app, ana) = (&c.app, &c.ana);
    assert_eq!(storage(app, ana).await, json!({ "used": 0, "limit": LIMIT }));
    assert_eq!(draw(app, ana, &c.first, "d1", 3000).await.status, StatusCode::CREATED);
    let kept = snap(app, ana, &c.second, 4000).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{:?}", kept.body);
    // A checkpoint takes its state's bytes.
    assert_eq!(checkpoint(app, ana, &c.first, 2000, 'a').await.status, StatusCode::CREATED);
    assert_eq!(storage(app, ana).await, json!({ "used": 9000, "limit": LIMIT }));

    // 1000 bytes are left, in either space, whatever the kind.
    assert_refused(&snap(app, ana, &c.first, 1001).await);
    assert_refused(&draw(app, ana, &c.second, "d2", 1500).await);
    assert_refused(&checkpoint(app, ana, &c.first, 1001, 'b').await);
    assert_eq!(used(app, ana).await, 9000, "a refusal charges nothing");
    assert_eq!(app.get(&format!("/videos/{}/snapshots", c.first), &ana.token).await.body["items"], json!([]));
    assert_eq!(drawings(app, ana, &c.second).await, json!([]));
    let history = app.get(&format!("/videos/{}/text-memo/history", c.first), &ana.token).await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(1), "the refused checkpoint is not kept");

    // A replacement is charged the difference: a larger one past the quota is refused and the
    // drawing stays as it was, a smaller one gives bytes back.
    assert_refused(&draw(app, ana, &c.first, "d1", 4001).await);
    assert_eq!(drawings(app, ana, &c.first).await[0]["sizeBytes"], 3000);
    assert_eq!(draw(app, ana, &c.first, "d1", 2000).await.status, StatusCode::OK);
    assert_eq!(used(app, ana).await, 8000);
    // Up to the limit exactly.
    assert_eq!(snap(app, ana, &c.first, 2000).await.status, StatusCode::CREATED);
    assert_eq!(storage(app, ana).await, json!({ "used": LIMIT, "limit": LIMIT }));
    assert_refused(&draw(app, ana, &c.first, "d3", 9).await);

    // Each account has its own: Bo on the same video, the host (who kept nothing) at 0.
    assert_eq!(draw(app, &c.bo, &c.first, "b1", 9000).await.status, StatusCode::CREATED);
    assert_eq!((used(app, &c.bo).await, used(app, &c.first_host).await), (9000, 0));
    // A note larger than the whole quota, on an account that has kept nothing yet.
    assert_refused(&draw(app, &c.first_host, &c.first, "h1", LIMIT as usize + 1).await);

    // Deleting gives the bytes back.
    let id = kept.body["snapshotId"].as_str().expect("snapshotId");
    let gone = app.call(Method::DELETE, &format!("/videos/{}/snapshots/{id}", c.second), Some(&ana.token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(used(app, ana).await, 6000);
    let gone = app.call(Method::DELETE, &format!("/videos/{}/drawings/d1", c.first), Some(&ana.token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(used(app, ana).await, 4000);
    assert_eq!(draw(app, ana, &c.second, "d2", 6000).await.status, StatusCode::CREATED);
    assert_eq!(used(app, ana).await, LIMIT);
}

#[tokio::test]
async fn concurrent_notes_never_pass_the_quota() {
    let c = classes().await;
    let tries = (0..10).map(|i| {
        let video = if i % 2 == 0 { &c.first } else { &c.second };
        snap(&c.app, &c.ana, video, 2000)
    });
    let answers = futures::future::join_all(tries).await;
    let created = answers.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let refused = answers.iter().filter(|r| r.code() == "storage_quota_exceeded").count();
    assert_eq!((created, refused), (5, 5), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(used(&c.app, &c.ana).await, LIMIT);
}

#[tokio::test]
async fn removal_video_deletion_and_account_deletion_give_the_bytes_back() {
    let c = classes().await;
    let (app, ana) = (&c.app, &c.ana);
    assert_eq!(draw(app, ana, &c.first, "d1", 3000).await.status, StatusCode::CREATED);
    assert_eq!(snap(app, ana, &c.first, 1000).await.status, StatusCode::CREATED);
    assert_eq!(checkpoint(app, ana, &c.first, 500, 'a').await.status, StatusCode::CREATED);
    assert_eq!(draw(app, ana, &c.second, "d2", 2000).await.status, StatusCode::CREATED);
    assert_eq!(snap(app, ana, &c.second, 1500).await.status, StatusCode::CREATED);
    assert_eq!(draw(app, &c.bo, &c.first, "b1", 1000).await.status, StatusCode::CREATED);
    assert_eq!(used(app, ana).await, 8000);

    // Removed from the first space: what she kept there is given back once the worker purged it.
    let path = format!("/spaces/{}/members/{}", c.first_space, ana.id());
    let removed = app.call(Method::DELETE, &path, Some(&c.first_host.token), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    app.deletions_settled().await;
    assert_eq!(used(app, ana).await, 3500);
    assert_eq!(used(app, &c.bo).await, 1000, "another member's notes on the video are theirs");

    // The second space's video deleted: the rest comes back, and the whole quota is hers again.
    app.delete_and_wait(&format!("/videos/{}", c.second), &c.second_host.token).await;
    assert_eq!(used(app, ana).await, 0);
    let third = app.ready_video(&c.second_space, &c.second_host).await;
    assert_eq!(draw(app, ana, &third, "d3", LIMIT as usize).await.status, StatusCode::CREATED);
    assert_eq!(used(app, ana).await, LIMIT);
    let usage_left = app
        .scan_all()
        .await
        .iter()
        .filter(|i| i.get("SK").and_then(|v| v.as_s().ok()) == Some(&format!("USAGE#{}", ana.id())))
        .count();
    assert_eq!(usage_left, 1, "only the third video's usage item is hers");

    // Her account deleted: its total goes with it, and nothing else of hers is charged.
    app.delete_and_wait("/users/me", &ana.token).await;
    let scan = app.scan_all().await;
    let hers: Vec<_> = scan
        .iter()
        .filter(|i| {
            i.get("PK").and_then(|v| v.as_s().ok()) == Some(&format!("USER#{}", ana.id()))
                || i.get("SK").and_then(|v| v.as_s().ok()) == Some(&format!("USAGE#{}", ana.id()))
        })
        .collect();
    assert!(hers.is_empty(), "left of hers: {hers:?}");
    assert_eq!(used(app, &c.bo).await, 1000);
}

#[tokio::test]
async fn a_removal_that_purges_at_the_route_gives_the_bytes_back_too() {
    let c = classes().await;
    let (app, ana) = (&c.app, &c.ana);
    assert_eq!(draw(app, ana, &c.first, "d1", 3000).await.status, StatusCode::CREATED);
    assert_eq!(snap(app, ana, &c.second, 1000).await.status, StatusCode::CREATED);
    app.indexes_settled().await;
    // The deletion worker cannot be started: the route purges her data itself.
    let faults = app.stack.faults();
    let rule = faults.add(FaultRule::lambda_invoke(Fault::Throttle).on("deletion-worker"));
    let path = format!("/spaces/{}/members/{}", c.first_space, ana.id());
    let removed = app.call(Method::DELETE, &path, Some(&c.first_host.token), None).await;
    faults.clear();
    assert!(faults.fired(rule) > 0, "the worker's invocation was refused");
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    assert_eq!(used(app, ana).await, 1000);
}
