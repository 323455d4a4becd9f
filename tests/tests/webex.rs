//! Webex (SPEC §6): connect, list recordings (refresh, rate limits, outages), import a recording
//! by streaming it into the pipeline; failures leave no multipart upload behind.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_domain::connectors::{ConnectionStore, Provider};
use vivid_local::webex::Mode;
use vivid_tests::{TestApp, TestUser, generated_clip};

async fn host_with_space(app: &TestApp) -> (TestUser, String) {
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    app.connect_webex(&host).await;
    (host, space)
}

#[tokio::test]
async fn given_a_connected_account_then_recordings_are_listed_and_the_profile_says_connected() {
    let app = TestApp::spawn().await;
    let (host, _) = host_with_space(&app).await;
    assert_eq!(app.get("/users/me", &host.token).await.body["webexConnected"], true);
    for i in 0..3 {
        app.stack.webex.add_recording(&format!("Lecture {i}"), vec![0u8; 10]);
    }
    let (items, pages) = app.all_pages("/webex/recordings", &host.token, 2).await;
    assert_eq!(pages, 2);
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["topic"], "Lecture 0");
    assert!(items[0]["recordingId"].is_string() && items[0]["sizeBytes"] == 10);
    let text = serde_json::to_string(&items).expect("json");
    assert!(!text.contains("wxat") && !text.contains("wxrt"), "tokens never leave the API");
    let r = app.get("/webex/recordings?from=yesterday", &host.token).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = app.call(Method::DELETE, "/webex/token", Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/users/me", &host.token).await.body["webexConnected"], false);
    let r = app.get("/webex/recordings", &host.token).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "webex_not_connected");
}

#[tokio::test]
async fn given_a_foreign_or_replayed_state_then_connecting_is_refused() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let authorize = app.webex_authorize_url(&ana).await;
    let back = app.http.get(&authorize).send().await.expect("authorize");
    let callback = back.headers().get("location").and_then(|v| v.to_str().ok()).expect("callback").to_owned();
    let code = vivid_tests::query_param(&callback, "code").expect("code");
    let state = vivid_tests::query_param(&callback, "state").expect("state");
    let r = app.post("/webex/token", &bo.token, json!({ "code": code, "state": state })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "Ana's state is not Bo's");
    let r = app.post("/webex/token", &ana.token, json!({ "code": code, "state": format!("{state}x") })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "tampered");
    let r = app.post("/webex/token", &ana.token, json!({ "code": code, "state": state })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.post("/webex/token", &ana.token, json!({ "code": code, "state": state })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "replayed");
}

#[tokio::test]
async fn given_an_expired_access_token_then_it_is_refreshed_once_and_stored() {
    let app = TestApp::spawn().await;
    let (host, _) = host_with_space(&app).await;
    app.stack.webex.add_recording("Lecture", vec![1u8; 5]);
    let connection = || async {
        app.stack.table.connection(&host.user.user_id, Provider::Webex).await.expect("store").expect("connection")
    };
    let before = connection().await;
    app.stack.webex.set_mode(Mode::ExpireAccessOnce);
    let r = app.get("/webex/recordings", &host.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(app.stack.webex.refreshes(), 1);
    let after = connection().await;
    assert_eq!(after.version, before.version + 1, "the new pair is stored");
    assert_ne!(after.sealed, before.sealed, "the new pair is stored");
    assert_eq!(app.get("/webex/recordings", &host.token).await.status, StatusCode::OK);
    assert_eq!(app.stack.webex.refreshes(), 1, "no second refresh");
}

#[tokio::test]
async fn given_webex_failures_then_clear_problems() {
    let app = TestApp::spawn().await;
    let (host, _) = host_with_space(&app).await;
    app.stack.webex.set_mode(Mode::RateLimited { retry_after: 1, once: true });
    let started = Instant::now();
    let r = app.get("/webex/recordings", &host.token).await;
    assert_eq!(r.status, StatusCode::OK, "a short Retry-After is waited out");
    assert!(started.elapsed() >= Duration::from_millis(900));
    app.stack.webex.set_mode(Mode::RateLimited { retry_after: 120, once: false });
    let r = app.get("/webex/recordings", &host.token).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(r.code(), "webex_rate_limited");
    app.stack.webex.set_mode(Mode::ServerError);
    let r = app.get("/webex/recordings", &host.token).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(r.code(), "webex_unavailable");
    app.stack.webex.set_mode(Mode::Revoked);
    let r = app.get("/webex/recordings", &host.token).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "webex_reconnect_required");
}

#[tokio::test]
async fn given_a_recording_when_imported_then_the_pipeline_makes_it_ready() {
    let app = TestApp::spawn_pipeline().await;
    let (host, space) = host_with_space(&app).await;
    let recording = app.stack.webex.add_recording("Lecture 3", generated_clip(4));
    let r = app
        .post(
            &format!("/spaces/{space}/videos/webex"),
            &host.token,
            json!({ "recordingId": recording, "title": "Lecture 3" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["status"], "IMPORTING");
    let id = r.body["videoId"].as_str().expect("id").to_owned();
    let v = app.wait_for_video(&host.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(v["status"], "READY", "{v}");
    assert!((v["durationSeconds"].as_f64().unwrap_or(0.0) - 4.0).abs() < 0.5);
    assert!(app.no_multipart_uploads().await);
    // A retried invocation changes nothing: no second object, no second job.
    let jobs = app.stack.mediaconvert.jobs().len();
    let handler = app.stack.event_handler("import-worker").expect("handler");
    handler.handle(json!({ "videoId": id, "userId": host.id(), "recordingId": recording })).await.expect("handled");
    assert_eq!(app.stack.webex.downloads(), 1);
    assert_eq!(app.stack.mediaconvert.jobs().len(), jobs);
}

#[tokio::test]
async fn given_a_download_that_breaks_off_then_failed_and_no_upload_left() {
    let app = TestApp::spawn().await;
    let (host, space) = host_with_space(&app).await;
    let recording = app.stack.webex.add_synthetic_recording("Long lecture", 20 * 1024 * 1024);
    app.stack.webex.set_mode(Mode::BreakDownloadAfter(12 * 1024 * 1024));
    let r = app
        .post(
            &format!("/spaces/{space}/videos/webex"),
            &host.token,
            json!({ "recordingId": recording, "title": "Long" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let id = r.body["videoId"].as_str().expect("id").to_owned();
    let v = app.wait_for_video(&host.token, &id, |v| v["status"] == "FAILED").await;
    assert!(v["failureReason"].as_str().is_some_and(|r| r.contains("broke off")), "{v}");
    assert!(app.no_multipart_uploads().await, "the multipart upload is aborted");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await);
}

#[tokio::test]
async fn given_an_unknown_recording_or_no_connection_then_the_import_is_refused() {
    let app = TestApp::spawn().await;
    let (host, space) = host_with_space(&app).await;
    let r = app
        .post(&format!("/spaces/{space}/videos/webex"), &host.token, json!({ "recordingId": "nope", "title": "X" }))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let other = app.user("Other").await;
    let own = app.space(&other, "Mine").await;
    let r = app
        .post(&format!("/spaces/{own}/videos/webex"), &other.token, json!({ "recordingId": "nope", "title": "X" }))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // A body with a field the route does not know is refused, as on every other route.
    for body in [
        json!({ "recordingId": "nope", "title": "X", "extra": 1 }),
        json!({ "recordingId": "nope" }),
        json!({ "title": "X" }),
    ] {
        let r = app.post(&format!("/spaces/{space}/videos/webex"), &host.token, body.clone()).await;
        assert!(matches!(r.status.as_u16(), 400 | 422), "{body}: {:?}", r.body);
    }
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 0, "nothing half-written");
}
