//! Webex (SPEC §6): connect, list recordings (refresh, rate limits, outages), import a recording
//! by streaming it into the pipeline; failures leave no multipart upload behind. Only MP4
//! recordings are offered and imported: Webex's ARF, its own format, is refused.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_domain::connectors::{ConnectionStore, Provider};
use vivid_local::standins::webex::{ARF_STAND_IN_BYTES, Mode, RecordingFormat};
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
    assert_eq!(items[0]["format"], "MP4");
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
    assert_eq!(r.body["detail"], "Webex is not connected: connect it first (GET /webex/login)");
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
    assert_eq!(v["failureCode"], "import_failed", "{v}");
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

#[tokio::test]
async fn given_mp4_and_arf_recordings_then_only_the_mp4_is_listed() {
    let app = TestApp::spawn().await;
    let (host, _) = host_with_space(&app).await;
    let arf =
        app.stack.webex.add_recording_with_format("Lecture ARF", RecordingFormat::Arf, ARF_STAND_IN_BYTES.to_vec());
    let mp4 = app.stack.webex.add_recording("Lecture MP4", vec![7u8; 10]);
    app.stack.webex.add_recording_with_format("Lecture uploaded", RecordingFormat::Uploaded, vec![1u8; 10]);
    let (items, _) = app.all_pages("/webex/recordings", &host.token, 10).await;
    let listed: Vec<_> = items.iter().map(|i| (i["recordingId"].as_str(), i["format"].as_str())).collect();
    assert_eq!(listed, vec![(Some(mp4.as_str()), Some("MP4"))], "{items:?}");
    assert!(!items.iter().any(|i| i["recordingId"] == arf.as_str()));
}

#[tokio::test]
async fn given_an_arf_recording_when_imported_then_422_and_no_video_and_no_download() {
    let app = TestApp::spawn().await;
    let (host, space) = host_with_space(&app).await;
    let arf =
        app.stack.webex.add_recording_with_format("Lecture ARF", RecordingFormat::Arf, ARF_STAND_IN_BYTES.to_vec());
    let r = app
        .post(&format!("/spaces/{space}/videos/webex"), &host.token, json!({ "recordingId": arf, "title": "ARF" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.code(), "unsupported_recording_format");
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("ARF") && detail.contains("MP4") && detail.contains("upload"), "{detail}");
    // Nothing was created, started or downloaded.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.stack.webex.downloads(), 0);
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 0);
    let videos = app.get(&format!("/spaces/{space}/videos"), &host.token).await;
    assert_eq!(videos.body["items"].as_array().map(Vec::len), Some(0), "{:?}", videos.body);
    // An MP4 of the same account still imports.
    let mp4 = app.stack.webex.add_recording("Lecture MP4", vec![7u8; 10]);
    let r = app
        .post(&format!("/spaces/{space}/videos/webex"), &host.token, json!({ "recordingId": mp4, "title": "MP4" }))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
}

/// The stand-in answers as Webex's published examples do, and filters by `format` as Webex does.
#[tokio::test]
async fn given_the_stand_in_then_it_lists_by_format_in_webexs_published_shape() {
    let app = TestApp::spawn().await;
    host_with_space(&app).await;
    let webex = &app.stack.webex;
    let mp4 = webex.add_recording("Lecture MP4", vec![7u8; 10]);
    let arfs: Vec<String> = (0..3)
        .map(|i| {
            webex.add_recording_with_format(
                &format!("Lecture ARF {i}"),
                RecordingFormat::Arf,
                ARF_STAND_IN_BYTES.to_vec(),
            )
        })
        .collect();
    // The access token our API was given for the host (the first the stand-in issued).
    let token = webex.issued_tokens().into_iter().find(|t| t.starts_with("wxat")).expect("an access token");
    let list = |query: String| {
        let (http, url, token) = (app.http.clone(), format!("{}/recordings{query}", webex.api_base()), token.clone());
        async move {
            let resp = http.get(url).bearer_auth(token).send().await.expect("request");
            let status = resp.status();
            let next = resp.headers().get("link").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body: serde_json::Value = resp.json().await.expect("json");
            (status, body, next)
        }
    };
    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["items"].as_array().into_iter().flatten().filter_map(|i| i["id"].as_str().map(str::to_owned)).collect()
    };
    let (status, body, _) = list("?format=ARF".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&body), arfs);
    assert!(body["items"].as_array().into_iter().flatten().all(|i| i["format"] == "ARF"), "{body}");
    let (_, body, _) = list("?format=MP4".into()).await;
    assert_eq!(ids(&body), vec![mp4.clone()]);
    let (_, body, _) = list(String::new()).await;
    assert_eq!(ids(&body).len(), 4, "no filter: every format");
    let (status, _, _) = list("?format=mp3".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Pages of a filtered listing keep the filter in their next link.
    let (_, body, next) = list("?format=ARF&max=2".into()).await;
    assert_eq!(ids(&body), arfs[..2].to_vec());
    let next = next.expect("a next link");
    assert!(next.contains("format=ARF") && next.contains("rel=\"next\""), "{next}");

    // A listed item has the published List Recordings fields (no hostEmail: the admin listing's).
    let (_, body, _) = list("?format=MP4".into()).await;
    let item = &body["items"][0];
    for field in [
        "id",
        "meetingId",
        "topic",
        "createTime",
        "timeRecorded",
        "siteUrl",
        "downloadUrl",
        "playbackUrl",
        "password",
        "format",
        "serviceType",
        "durationSeconds",
        "sizeBytes",
        "shareToMe",
        "status",
    ] {
        assert!(!item[field].is_null(), "{field} missing: {item}");
    }
    assert!(item.get("hostEmail").is_none() && item.get("temporaryDirectDownloadLinks").is_none(), "{item}");
    // Details add the temporary download links.
    let resp = app
        .http
        .get(format!("{}/recordings/{}", webex.api_base(), arfs[0]))
        .bearer_auth(&token)
        .send()
        .await
        .expect("details");
    let details: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(details["format"], "ARF");
    let links = &details["temporaryDirectDownloadLinks"];
    assert!(links["recordingDownloadLink"].is_string() && links["expiration"].is_string(), "{details}");
    assert_eq!(webex.downloads(), 0, "listing and details download nothing");
}
