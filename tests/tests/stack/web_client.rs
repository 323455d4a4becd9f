//! What a web client relies on beyond the routes' basics: playback grants that last a lecture
//! and renew cheaply (as cookies for a same-site CDN too), resumable multipart uploads, and times
//! as RFC 3339.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser, job_event, set_cookies};

/// Seconds from now until an RFC 3339 time.
fn seconds_until(rfc3339: &str) -> i64 {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339} is not RFC 3339: {e}"));
    (t - time::OffsetDateTime::now_utc()).whole_seconds()
}

/// A READY video of `duration_ms`, its outputs on the local CDN.
async fn ready_video(app: &TestApp, host: &TestUser, space: &str, duration_ms: u64) -> String {
    let id = app.uploaded_video(space, host, vec![7u8; 512]).await;
    let media = app.stack.buckets.media.clone();
    app.put_object(&media, &format!("media/{id}/hls/index.m3u8"), b"#EXTM3U\n".to_vec(), "application/x-mpegurl").await;
    let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
    let mut event = job_event("on-transcode-event", &id, &job, &media);
    for group in event["detail"]["outputGroupDetails"].as_array_mut().expect("groups") {
        for output in group["outputDetails"].as_array_mut().into_iter().flatten() {
            output["durationInMs"] = duration_ms.into();
        }
    }
    app.invoke("on-transcode-event", event).await.expect("complete");
    id
}

#[tokio::test]
async fn given_a_90_minute_lecture_then_its_grant_outlasts_it_and_renews_with_one_read() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let ana = app.user("Ana").await;
    let stranger = app.user("Stranger").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &ana).await;
    let id = ready_video(&app, &host, &space, 90 * 60 * 1000).await;

    let v = app.get(&format!("/videos/{id}"), &ana.token).await;
    assert_eq!(v.status, StatusCode::OK);
    let left = seconds_until(v.body["playback"]["expiresAt"].as_str().expect("expiresAt"));
    assert!((90 * 60 + 29 * 60..=90 * 60 + 30 * 60 + 5).contains(&left), "90 minutes plus the margin: {left}");
    assert!(v.body["playback"].get("cookies").is_none(), "grant cookies never travel in the body");

    // The player renews: a fresh grant, no thumbnails re-signed, and it opens the media.
    app.call(
        Method::PUT,
        &format!("/videos/{id}/progress"),
        Some(&ana.token),
        Some(json!({"progressRate": 5, "positionSeconds": 30})),
    )
    .await;
    let calls = app.stack.dynamodb_calls();
    let renewed = app.get(&format!("/videos/{id}/playback"), &ana.token).await;
    assert_eq!(renewed.status, StatusCode::OK, "{:?}", renewed.body);
    // The membership read consistently at every renewal: a removed member gets no grant.
    assert_eq!(app.stack.dynamodb_calls() - calls, 2, "the video, then its space and the membership");
    assert_eq!(renewed.header("cache-control"), Some("private, no-store"));
    assert_eq!(renewed.body["videoId"], id.as_str());
    assert!(renewed.body.get("thumbnails").is_none(), "renewal is for players: {:?}", renewed.body);
    assert!(seconds_until(renewed.body["expiresAt"].as_str().expect("expiresAt")) > 90 * 60);
    let hls = renewed.body["hlsUrl"].as_str().expect("hlsUrl");
    assert_eq!(app.http.get(hls).send().await.expect("cdn").status(), StatusCode::OK);
    let bare = hls.split('?').next().expect("url");
    let query = renewed.body["signedQuery"].as_str().expect("query");
    assert_eq!(app.http.get(format!("{bare}?{query}")).send().await.expect("cdn").status(), StatusCode::OK);

    // A member without progress yet is checked in full; a stranger learns nothing.
    assert_eq!(app.get(&format!("/videos/{id}/playback"), &host.token).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/videos/{id}/playback"), &stranger.token).await.status, StatusCode::NOT_FOUND);
    // Removed from the space, Ana loses the grant with her per-video data.
    let r = app.call(Method::DELETE, &format!("/spaces/{space}/members/{}", ana.id()), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/videos/{id}/playback"), &ana.token).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn given_a_short_clip_or_an_unfinished_video_then_an_hour_or_not_ready() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let id = ready_video(&app, &host, &space, 10_000).await;
    let p = app.get(&format!("/videos/{id}/playback"), &host.token).await;
    let left = seconds_until(p.body["expiresAt"].as_str().expect("expiresAt"));
    assert!((3590..=3605).contains(&left), "at least an hour: {left}");
    let uploading = app.new_video(&space, &host, 1024).await;
    let r = app.get(&format!("/videos/{}/playback", uploading["videoId"].as_str().expect("id")), &host.token).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_ready"));
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("poll GET /videos/{videoId} until its status is READY"), "{detail}");
}

#[tokio::test]
async fn given_a_cdn_on_the_front_ends_site_then_the_grant_also_comes_as_cookies_for_it() {
    let app = TestApp::spawn_configured(|c| {
        c.overrides.insert("VIVID_COOKIE_DOMAIN".into(), "vivid.localhost".into());
    })
    .await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let id = ready_video(&app, &host, &space, 60_000).await;
    let r = app.call(Method::GET, &format!("/videos/{id}/playback"), Some(&host.token), None).await;
    let cookies = set_cookies(&r.headers);
    assert_eq!(cookies.len(), 4, "{cookies:?}");
    for c in &cookies {
        for attribute in ["Domain=vivid.localhost", &format!("Path=/media/{id}/"), "HttpOnly", "Secure", "SameSite=Lax"]
        {
            assert!(c.contains(attribute), "{c} lacks {attribute}");
        }
    }
    // A native player sends them to the CDN instead of a query string.
    let jar: Vec<String> = cookies.iter().map(|c| c.split(';').next().unwrap_or_default().to_owned()).collect();
    let bare = r.body["hlsUrl"].as_str().expect("hls").split('?').next().expect("url").to_owned();
    let with_cookies = app.http.get(&bare).header("cookie", jar.join("; ")).send().await.expect("cdn");
    assert_eq!(with_cookies.status(), StatusCode::OK);
    assert_eq!(app.http.get(&bare).send().await.expect("cdn").status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn given_a_multipart_upload_interrupted_then_it_resumes_from_the_parts_s3_has() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let ana = app.user("Ana").await;
    let space = app.space(&host, "Course").await;
    app.join(&space, &host, &ana).await;
    let size = 20 * 1024 * 1024u64;
    let created = app.new_video(&space, &host, size).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    let upload = &created["upload"];
    assert_eq!(upload["kind"], "multipart");
    assert!(seconds_until(upload["expiresAt"].as_str().expect("expiresAt")) > 3000);
    assert_eq!(upload["partsUrl"], format!("/videos/{id}/upload/parts"));
    let part_size = upload["partSize"].as_u64().expect("partSize");
    let body = |n: u64| {
        let start = (n - 1) * part_size;
        vec![(n % 251) as u8; (size.min(start + part_size) - start) as usize]
    };
    let put = |url: String, bytes: Vec<u8>| async move {
        let resp = reqwest::Client::new().put(url).body(bytes).send().await.expect("part PUT");
        assert!(resp.status().is_success());
        resp.headers().get("etag").and_then(|v| v.to_str().ok()).expect("etag").to_owned()
    };
    // Part 1 goes up, then the page reloads: the URLs and the ETag are gone.
    let first = upload["parts"][0]["url"].as_str().expect("url").to_owned();
    put(first, body(1)).await;

    let resume = app.post(&format!("/videos/{id}/upload/parts"), &host.token, json!({})).await;
    assert_eq!(resume.status, StatusCode::OK, "{:?}", resume.body);
    let uploaded = resume.body["uploadedParts"].as_array().expect("uploadedParts").clone();
    assert_eq!(uploaded.len(), 1);
    assert_eq!((uploaded[0]["partNumber"].as_u64(), uploaded[0]["size"].as_u64()), (Some(1), Some(part_size)));
    let missing: Vec<u64> =
        resume.body["parts"].as_array().expect("parts").iter().filter_map(|p| p["partNumber"].as_u64()).collect();
    assert_eq!(missing, vec![2, 3]);
    assert_eq!(resume.body["partCount"], 3);
    let mut parts = vec![json!({ "partNumber": 1, "etag": uploaded[0]["etag"] })];
    for p in resume.body["parts"].as_array().expect("parts") {
        let n = p["partNumber"].as_u64().expect("n");
        let etag = put(p["url"].as_str().expect("url").to_owned(), body(n)).await;
        parts.push(json!({ "partNumber": n, "etag": etag }));
    }
    // Fresh URLs for chosen parts too; bad numbers are refused.
    let chosen =
        app.post(&format!("/videos/{id}/upload/parts"), &host.token, json!({ "partNumbers": [3, 3, 2] })).await;
    assert_eq!(chosen.body["parts"].as_array().map(Vec::len), Some(2));
    let bad = app.post(&format!("/videos/{id}/upload/parts"), &host.token, json!({ "partNumbers": [4] })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.post(&format!("/videos/{id}/upload/parts"), &ana.token, json!({})).await.status,
        StatusCode::FORBIDDEN
    );

    let done = app.post(&format!("/videos/{id}/upload/complete"), &host.token, json!({ "parts": parts })).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    let raw = app.stack.buckets.raw.clone();
    let head = app.s3().head_object().bucket(&raw).key(format!("raw/{id}")).send().await.expect("the object");
    assert_eq!(head.content_length, Some(size as i64));
    // Once completed there is nothing left to resume.
    let after = app.post(&format!("/videos/{id}/upload/parts"), &host.token, json!({})).await;
    assert_eq!(after.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn given_upload_instructions_then_every_expiry_is_an_rfc3339_time() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let single = app.new_video(&space, &host, 1024).await;
    assert!(seconds_until(single["upload"]["expiresAt"].as_str().expect("expiresAt")) > 3000);
    // Snapshots are taken of ready videos.
    let id = app.ready_video(&space, &host).await;
    let snap: Value = app
        .post(
            &format!("/videos/{id}/snapshots"),
            &host.token,
            json!({ "videoSeconds": 1.0, "contentType": "image/png", "sizeBytes": 2048 }),
        )
        .await
        .body;
    assert!(seconds_until(snap["upload"]["expiresAt"].as_str().expect("expiresAt")) > 0);
}
