//! Zoom through its stand-in: connecting (state bound to the user), cloud recordings across
//! Zoom's month windows and pages, importing with the shared worker, rotating refresh tokens
//! (also under two concurrent refreshes), disconnecting, and the signed webhook that imports each
//! new recording once into the spaces linked to it.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use vivid_local::{
    standins::platform::Mode,
    standins::zoom::{AddedMeeting, NewFile},
};
use vivid_tests::{TestApp, TestUser, generated_clip};

fn days_ago(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - Duration::days(n)
}

fn date(t: OffsetDateTime) -> String {
    t.date().to_string()
}

async fn connected_host(app: &TestApp) -> (TestUser, String) {
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    app.connect_zoom(&host).await;
    (host, space)
}

async fn import(app: &TestApp, host: &TestUser, space: &str, m: &AddedMeeting) -> Value {
    let r = app
        .post(
            &format!("/spaces/{space}/videos/zoom"),
            &host.token,
            json!({ "meetingId": m.meeting_id, "recordingFileId": m.file_ids[0], "title": "Lecture" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["status"], "IMPORTING");
    r.body
}

#[tokio::test]
async fn given_a_foreign_or_replayed_state_then_connecting_is_refused_and_a_connect_is_sealed() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let (code, state) = app.zoom_code(&ana).await;
    let r = app.post("/zoom/token", &bo.token, json!({ "code": code, "state": state })).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_state"), "another user's state");
    let (code, state) = app.zoom_code(&ana).await;
    assert_eq!(
        app.post("/zoom/token", &ana.token, json!({ "code": code, "state": state })).await.status,
        StatusCode::NO_CONTENT
    );
    let again = app.post("/zoom/token", &ana.token, json!({ "code": code, "state": state })).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "replayed");
    let me = app.get("/users/me", &ana.token).await;
    assert_eq!((me.body["zoomConnected"].as_bool(), me.body["webexConnected"].as_bool()), (Some(true), Some(false)));
    let dump = format!("{:?}", app.scan_all().await);
    for token in app.stack.zoom.issued_tokens() {
        assert!(!dump.contains(token.as_str()), "a Zoom token is in the table in clear");
    }
}

#[tokio::test]
async fn given_recordings_across_months_then_pages_walk_the_windows_newest_first_with_video_files_only() {
    let app = TestApp::spawn().await;
    let (host, _) = connected_host(&app).await;
    let zoom = &app.stack.zoom;
    let clip = || NewFile::mp4(vec![1u8; 64]);
    let recent =
        zoom.add_meeting("Week 8", days_ago(3), vec![clip(), NewFile::audio(), NewFile::transcript("WEBVTT\n")]);
    zoom.add_meeting("Week 7", days_ago(10), vec![clip()]);
    zoom.add_meeting("Week 6", days_ago(17), vec![clip()]);
    zoom.add_meeting("Week 3", days_ago(40), vec![clip()]);
    zoom.add_meeting("Week 2", days_ago(47), vec![clip()]);
    zoom.add_meeting("Too old", days_ago(90), vec![clip()]);

    let query = format!("/zoom/recordings?from={}&to={}", date(days_ago(60)), date(days_ago(0)));
    let (items, pages) = app.all_pages(&query, &host.token, 2).await;
    let topics: Vec<&str> = items.iter().filter_map(|m| m["topic"].as_str()).collect();
    assert_eq!(topics, ["Week 8", "Week 7", "Week 6", "Week 3", "Week 2"], "newest first, none twice, none outside");
    assert!(pages >= 3, "{pages} pages");
    // The path before the Webex and Zoom names were made alike answers exactly as this one.
    let new = app.get(&format!("{query}&limit=2"), &host.token).await;
    let old_path = query.replacen("/zoom/recordings", "/users/me/recordings", 1);
    let old = app.get(&format!("{old_path}&limit=2"), &host.token).await;
    assert_eq!((new.status, old.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(old.body["items"], new.body["items"], "the deprecated alias lists the same page");
    // A cursor names its list, not its path: one handed out on either path continues on the other.
    let cursor = new.body["nextCursor"].as_str().expect("a next page").to_owned();
    let next = app.get(&format!("{old_path}&limit=2&cursor={cursor}"), &host.token).await;
    assert_eq!(next.status, StatusCode::OK, "{:?}", next.body);
    assert_eq!(next.body["items"][0]["topic"], "Week 6", "the page after the first two");
    for (from, to) in zoom.listings() {
        let days = (time::Date::parse(&to, time::macros::format_description!("[year]-[month]-[day]")).expect("to")
            - time::Date::parse(&from, time::macros::format_description!("[year]-[month]-[day]")).expect("from"))
        .whole_days();
        assert!(days < 31, "Zoom was asked for {from}..{to}");
    }
    let week8 = &items[0];
    assert_eq!(week8["meetingId"], recent.meeting_id.as_str());
    assert_eq!(week8["files"].as_array().map(Vec::len), Some(1), "audio and transcript are not videos: {week8}");
    assert_eq!(week8["files"][0]["recordingFileId"], recent.file_ids[0].as_str());
    assert_eq!(week8["transcriptFileId"], recent.file_ids[2].as_str());

    // Bad ranges, and Zoom's page tokens that expired.
    let bad =
        app.get(&format!("/zoom/recordings?from={}&to={}", date(days_ago(0)), date(days_ago(5))), &host.token).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let year =
        app.get(&format!("/zoom/recordings?from={}&to={}", date(days_ago(400)), date(days_ago(0))), &host.token).await;
    assert_eq!(year.status, StatusCode::BAD_REQUEST);
    let first = app.get(&format!("{query}&limit=1"), &host.token).await;
    let cursor = first.body["nextCursor"].as_str().expect("a next page").to_owned();
    zoom.expire_page_tokens();
    let stale = app.get(&format!("{query}&limit=1&cursor={cursor}"), &host.token).await;
    assert_eq!((stale.status, stale.code()), (StatusCode::BAD_REQUEST, "cursor_expired"));
}

#[tokio::test]
async fn given_a_recording_when_imported_then_the_shared_worker_makes_it_ready() {
    let app = TestApp::spawn_pipeline().await;
    let (host, space) = connected_host(&app).await;
    let m = app.stack.zoom.add_meeting("Lecture 5", days_ago(1), vec![NewFile::mp4(generated_clip(4))]);
    let created = import(&app, &host, &space, &m).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    let v = app.wait_for_video(&host.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(v["status"], "READY", "{v}");
    assert!((v["durationSeconds"].as_f64().unwrap_or(0.0) - 4.0).abs() < 0.5);
    assert_eq!(app.stack.zoom.downloads(), 1);
    assert!(app.no_multipart_uploads().await);
    // A file that is not one of the meeting's videos is not found; a participant may not import.
    let other = app
        .post(
            &format!("/spaces/{space}/videos/zoom"),
            &host.token,
            json!({ "meetingId": m.meeting_id, "recordingFileId": "nope", "title": "X" }),
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn given_a_recording_with_zoom_s_transcript_then_it_is_the_video_s_captions_and_searched_transcript() {
    let app = TestApp::spawn_pipeline().await;
    let (host, space) = connected_host(&app).await;
    // Transcription on: Zoom's transcript stands in for it (no job is started).
    let r = app
        .call(
            Method::PATCH,
            &format!("/spaces/{space}"),
            Some(&host.token),
            Some(json!({ "transcription": { "enabled": true } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let vtt = "WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.000\nAna Li: Today we study eigenvalues.\n\n\
               2\n00:00:02.000 --> 00:00:03.800\nAna Li: A matrix stretches vectors.\n";
    let m = app.stack.zoom.add_meeting(
        "Lecture 6",
        days_ago(1),
        vec![NewFile::mp4(generated_clip(4)), NewFile::audio(), NewFile::transcript(vtt)],
    );
    let created = import(&app, &host, &space, &m).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    let v = app
        .wait_for_video(&host.token, &id, |v| {
            let captioned = v["playback"]["hlsUrl"].as_str().is_some_and(|u| u.contains("/hls/captioned-"));
            v["status"] == "FAILED" || (v["status"] == "READY" && v["transcript"]["status"] == "COMPLETED" && captioned)
        })
        .await;
    assert_eq!(v["status"], "READY", "{v}");
    let tracks = v["captions"].as_array().expect("captions");
    assert_eq!(tracks.len(), 1, "{v}");
    assert_eq!(
        (tracks[0]["lang"].as_str(), tracks[0]["source"].as_str(), tracks[0]["cues"].as_u64()),
        (Some("en"), Some("zoom"), Some(2))
    );
    assert_eq!(tracks[0]["label"], "English (Zoom)");
    assert!(app.stack.transcribe.jobs().is_empty(), "Zoom's transcript is the transcript");

    // The master, written when the video became READY, offers it; its playlist spans the video.
    let hls = v["playback"]["hlsUrl"].as_str().expect("hlsUrl");
    assert!(hls.contains("/hls/captioned-"), "{hls}");
    let master = app.http.get(hls).send().await.expect("master").text().await.unwrap_or_default();
    assert!(master.contains("#EXT-X-MEDIA:TYPE=SUBTITLES") && master.contains("LANGUAGE=\"en\""), "{master}");
    let playlist = app.get_object_text(&format!("media/{id}/captions/en.m3u8")).await;
    let extinf: f64 = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXTINF:"))
        .and_then(|l| l.trim_end_matches(',').parse().ok())
        .expect("EXTINF");
    assert!((extinf - v["durationSeconds"].as_f64().unwrap_or(0.0)).abs() < 0.01, "{playlist}");

    // Its words are the transcript's (the speaker's name is not), found by both searches.
    let r = app.get(&format!("/videos/{id}/transcript?q=matrix"), &host.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let at = r.body["items"][0]["matchSeconds"].as_f64().expect("a match");
    assert!((2.0..3.8).contains(&at), "{}", r.body);
    let r = app.get(&format!("/videos/{id}/transcript?q=ana"), &host.token).await;
    assert_eq!(r.body["items"].as_array().map(Vec::len), Some(0), "{}", r.body);
    let r = app.get(&format!("/spaces/{space}/search?q=eigenvalues"), &host.token).await;
    assert_eq!(r.body["items"][0]["videoId"], id.as_str(), "{}", r.body);
    assert_eq!(r.body["items"][0]["matchedIn"], json!(["transcript"]));
}

#[tokio::test]
async fn given_a_download_that_breaks_off_then_failed_and_no_upload_left() {
    let app = TestApp::spawn().await;
    let (host, space) = connected_host(&app).await;
    let m = app.stack.zoom.add_meeting("Long lecture", days_ago(1), vec![NewFile::synthetic_mp4(20 * 1024 * 1024)]);
    app.stack.zoom.set_mode(Mode::BreakDownloadAfter(12 * 1024 * 1024));
    let created = import(&app, &host, &space, &m).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    let v = app.wait_for_video(&host.token, &id, |v| v["status"] == "FAILED" || v["status"] == "READY").await;
    assert_eq!(v["status"], "FAILED");
    assert_eq!(v["failureCode"], "import_failed", "{v}");
    assert!(app.no_multipart_uploads().await, "the multipart upload is aborted");
}

#[tokio::test]
async fn given_an_expired_access_token_then_the_rotated_pair_is_stored_and_the_old_refresh_token_never_used_again() {
    let app = TestApp::spawn().await;
    let (host, _) = connected_host(&app).await;
    let zoom = &app.stack.zoom;
    for round in 1..=3 {
        zoom.set_mode(Mode::ExpireAccessOnce);
        let r = app.get("/zoom/recordings", &host.token).await;
        assert_eq!(r.status, StatusCode::OK, "round {round}: {:?}", r.body);
        assert_eq!(zoom.refreshes(), round);
    }
    assert_eq!(zoom.reused_refresh_tokens(), 0, "each refresh used the newest refresh token");
    assert_eq!(app.get("/zoom/recordings", &host.token).await.status, StatusCode::OK);
    assert_eq!(zoom.refreshes(), 3, "a fresh access token needs no refresh");
}

#[tokio::test]
async fn given_two_concurrent_refreshes_then_the_account_stays_connected() {
    let app = TestApp::spawn().await;
    let (host, _) = connected_host(&app).await;
    // The stored access token has expired: both requests refresh with the same refresh token.
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", AttributeValue::S(format!("USER#{}", host.id())))
        .key("SK", AttributeValue::S("CONN#zoom".into()))
        .update_expression("SET accessExpiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N("0".into()))
        .send()
        .await
        .expect("expire");
    let (a, b) = tokio::join!(app.get("/zoom/recordings", &host.token), app.get("/zoom/recordings", &host.token));
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK), "{:?} {:?}", a.body, b.body);
    assert_eq!(app.stack.zoom.refreshes(), 1, "one refresh won; the other used its result");
    assert_eq!(app.get("/zoom/recordings", &host.token).await.status, StatusCode::OK);
    assert_eq!(app.get("/users/me", &host.token).await.body["zoomConnected"], true);
}

#[tokio::test]
async fn given_zoom_failures_then_clear_problems() {
    let app = TestApp::spawn().await;
    let (host, _) = connected_host(&app).await;
    let zoom = &app.stack.zoom;
    zoom.set_mode(Mode::RateLimited { retry_after: 60, once: false });
    let r = app.get("/zoom/recordings", &host.token).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_GATEWAY, "zoom_rate_limited"));
    zoom.set_mode(Mode::ServerError);
    assert_eq!(app.get("/zoom/recordings", &host.token).await.code(), "zoom_unavailable");
    zoom.set_mode(Mode::Revoked);
    let r = app.get("/zoom/recordings", &host.token).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "zoom_reconnect_required"));
    assert_eq!(
        r.body["detail"],
        "the Zoom connection has expired or was revoked: connect Zoom again (GET /zoom/login)"
    );
    let nobody = app.user("Nobody").await;
    let r = app.get("/zoom/recordings", &nobody.token).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "zoom_not_connected"));
    assert_eq!(r.body["detail"], "Zoom is not connected: connect it first (GET /zoom/login)");
}

#[tokio::test]
async fn given_a_disconnect_then_the_tokens_are_revoked_and_the_links_forgotten() {
    let app = TestApp::spawn().await;
    let (host, space) = connected_host(&app).await;
    let r = app
        .call(
            Method::PUT,
            &format!("/spaces/{space}/zoom-auto-import"),
            Some(&host.token),
            Some(json!({ "enabled": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // The disconnect finds the links on an index (the issue 25 pass makes it wait for it).
    app.indexes_settled().await;
    assert_eq!(app.call(Method::DELETE, "/zoom/token", Some(&host.token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/users/me", &host.token).await.body["zoomConnected"], false);
    let dump = format!("{:?}", app.scan_all().await);
    assert!(!dump.contains("ZOOMAUTO"), "the automatic import went with the connection");
    // Zoom no longer honours the tokens it revoked.
    app.connect_zoom(&host).await;
    assert_eq!(app.get("/zoom/recordings", &host.token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn given_a_linked_space_when_zoom_delivers_a_completed_recording_twice_then_it_is_imported_once() {
    let app = TestApp::spawn().await;
    let (host, space) = connected_host(&app).await;
    let other_space = app.space(&host, "Not linked").await;
    let participant = app.user("Pat").await;
    app.join(&space, &host, &participant).await;
    let url = format!("{}/zoom/webhook", app.base);
    let zoom = &app.stack.zoom;

    // Only the host links, and only a connected account.
    let path = format!("/spaces/{space}/zoom-auto-import");
    let r = app.call(Method::PUT, &path, Some(&participant.token), Some(json!({ "enabled": true }))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.call(Method::PUT, &path, Some(&host.token), Some(json!({ "enabled": true }))).await;
    assert_eq!((r.status, r.body["enabled"].as_bool()), (StatusCode::OK, Some(true)), "{:?}", r.body);
    // Zoom's webhooks find the link on an index; they come minutes after a link, not at once.
    app.indexes_settled().await;

    // Zoom's endpoint validation.
    let (status, answer) = zoom
        .deliver(
            &url,
            &json!({ "event": "endpoint.url_validation", "payload": { "plainToken": "qgg8vlvZRS6UYooatFL8Aw" } }),
            &zoom.webhook_secret,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    let expected = vivid_domain::zoom::WebhookSigner::new(&zoom.webhook_secret)
        .expect("signer")
        .encrypt_token("qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(answer["encryptedToken"], expected.as_str());

    let m = zoom.add_meeting("Lecture 9", days_ago(0), vec![NewFile::audio(), NewFile::mp4(vec![3u8; 128])]);
    let event = zoom.recording_completed_event(&m.meeting_id);
    // A forged delivery changes nothing.
    let (status, _) = zoom.deliver(&url, &event, "not-the-secret").await;
    assert_eq!(status, 401);
    let unsigned = app.http.post(&url).json(&event).send().await.expect("post");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    // Delivered twice (Zoom retries), and once more concurrently.
    let (first, _) = zoom.deliver(&url, &event, &zoom.webhook_secret).await;
    assert_eq!(first, 200);
    let ((a, _), (b, _)) = tokio::join!(
        zoom.deliver(&url, &event, &zoom.webhook_secret),
        zoom.deliver(&url, &event, &zoom.webhook_secret)
    );
    assert_eq!((a, b), (200, 200));
    let videos = app.get(&format!("/spaces/{space}/videos"), &host.token).await.body["items"].clone();
    assert_eq!(videos.as_array().map(Vec::len), Some(1), "imported once: {videos}");
    assert_eq!(videos[0]["title"], "Lecture 9");
    assert_eq!(videos[0]["status"], "IMPORTING");
    let untouched = app.get(&format!("/spaces/{other_space}/videos"), &host.token).await.body["items"].clone();
    assert_eq!(untouched, json!([]));

    // Unlinked: the next recording is not imported.
    let r = app.call(Method::PUT, &path, Some(&host.token), Some(json!({ "enabled": false }))).await;
    assert_eq!(r.body["enabled"], false);
    let next = zoom.add_meeting("Lecture 10", days_ago(0), vec![NewFile::mp4(vec![4u8; 128])]);
    let (status, body) =
        zoom.deliver(&url, &zoom.recording_completed_event(&next.meeting_id), &zoom.webhook_secret).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(0)));
}
