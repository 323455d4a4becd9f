//! Hostile input and abuse (issue 14): numbers the store cannot hold, text that lies about
//! itself, quotas with their problem codes, upload URLs that cannot be reused, and the media
//! lifecycle (orphans, failures, stale uploads) — each read back from the table and the buckets.

use reqwest::{Method, StatusCode};
use serde_json::json;
use vivid_tests::{TestApp, TestUser, job_event, s3_event};

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// A host, a space and a READY-less video the host studies (its progress is the member grant).
async fn video_of(app: &TestApp) -> (TestUser, String, String) {
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    // Notes are taken on ready videos only.
    let id = app.ready_video(&space, &host).await;
    (host, space, id)
}

/// A video uploaded and transcoding (its job started, nothing converted yet).
async fn transcoding_of(app: &TestApp) -> (TestUser, String, String) {
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let id = app.uploaded_video(&space, &host, bytes(2048)).await;
    (host, space, id)
}

#[tokio::test]
async fn numbers_the_store_cannot_hold_are_rounded_or_refused_never_a_500() {
    let app = TestApp::spawn().await;
    let (host, _, id) = video_of(&app).await;
    let progress = format!("/videos/{id}/progress");
    // 1e-200 is a position of 0 (kept to the millisecond); the write succeeds and reads back.
    let r = app
        .call(Method::PUT, &progress, Some(&host.token), Some(json!({ "progressRate": 10, "positionSeconds": 1e-200 })))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let v = app.get(&format!("/videos/{id}"), &host.token).await;
    assert_eq!(v.body["progress"]["positionSeconds"], 0.0);
    let r = app
        .call(
            Method::PUT,
            &progress,
            Some(&host.token),
            Some(json!({ "progressRate": 10, "positionSeconds": 12.3456 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/videos/{id}"), &host.token).await.body["progress"]["positionSeconds"], 12.346);
    // Subnormal and out of range (also by less than half a millisecond: checked before rounding):
    // 422 with the field named.
    for bad in [json!(5e-324), json!(86400.5), json!(-1), json!(-0.0001), json!(86400.0004)] {
        let r = app
            .call(
                Method::PUT,
                &progress,
                Some(&host.token),
                Some(json!({ "progressRate": 10, "positionSeconds": bad })),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {:?}", r.body);
        assert_eq!(r.code(), "invalid_seconds");
        assert!(r.body["detail"].as_str().is_some_and(|d| d.contains("positionSeconds")), "{:?}", r.body);
    }
    // A number JSON cannot carry as f64 is malformed JSON to serde: never a 500.
    let r = app
        .call_raw(
            Method::PUT,
            &progress,
            Some(&host.token),
            "application/json",
            br#"{"progressRate":10,"positionSeconds":1e400}"#.to_vec(),
        )
        .await;
    assert!(r.status.is_client_error(), "{:?}", r.status);

    let snap = app
        .post(
            &format!("/videos/{id}/snapshots"),
            &host.token,
            json!({ "videoSeconds": 1e-200, "contentType": "image/png", "sizeBytes": 100 }),
        )
        .await;
    assert_eq!(snap.status, StatusCode::CREATED, "{:?}", snap.body);
    assert_eq!(snap.body["videoSeconds"], 0.0);
    let memo = app
        .call(
            Method::PUT,
            &format!("/videos/{id}/text-memo"),
            Some(&host.token),
            Some(json!({ "stateJson": "{}", "videoTime": 1e-200 })),
        )
        .await;
    assert!(memo.status.is_success(), "{:?}", memo.body);
    let overlay = app
        .call(
            Method::PUT,
            &format!("/videos/{id}/drawings/d1"),
            Some(&host.token),
            Some(json!({ "kind": "overlay", "startSeconds": 1e-200, "endSeconds": 5e-324, "document": {} })),
        )
        .await;
    assert_eq!(overlay.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", overlay.body);
    assert_eq!(overlay.code(), "invalid_seconds");
    // An overlay is kept to the millisecond outwards: two distinct times never collapse into one.
    let tiny = app
        .call(
            Method::PUT,
            &format!("/videos/{id}/drawings/d2"),
            Some(&host.token),
            Some(json!({ "kind": "overlay", "startSeconds": 0.0001, "endSeconds": 0.0002, "document": {} })),
        )
        .await;
    assert_eq!(tiny.status, StatusCode::CREATED, "{:?}", tiny.body);
    assert_eq!((tiny.body["startSeconds"].as_f64(), tiny.body["endSeconds"].as_f64()), (Some(0.0), Some(0.001)));
}

#[tokio::test]
async fn text_with_bidirectional_overrides_or_controls_is_refused() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    for name in ["Invoice\u{202E}fdp.exe", "a\u{2066}b", "tab\u{0007}bell"] {
        let r = app.post("/spaces", &host.token, json!({ "name": name })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}: {:?}", r.body);
    }
    let r = app.post("/spaces", &host.token, json!({ "name": "שלום עולם" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "right-to-left text itself is fine");
}

#[tokio::test]
async fn hosted_spaces_are_counted_and_a_deleted_space_frees_its_place() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("MaxHostedSpaces".into(), "2".into());
    })
    .await;
    let host = app.user("Host").await;
    let a = app.space(&host, "One").await;
    app.space(&host, "Two").await;
    let r = app.post("/spaces", &host.token, json!({ "name": "Three" })).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "space_quota_exceeded");
    assert_eq!(r.body["limit"], 2);
    let me = app.get("/users/me", &host.token).await;
    assert_eq!(me.body["usage"]["hostedSpaces"], json!({ "used": 2, "limit": 2 }));
    app.delete_and_wait(&format!("/spaces/{a}"), &host.token).await;
    assert_eq!(app.get("/users/me", &host.token).await.body["usage"]["hostedSpaces"]["used"], 1);
    let r = app.post("/spaces", &host.token, json!({ "name": "Three" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    // Another account has its own count.
    let other = app.user("Other").await;
    assert_eq!(app.post("/spaces", &other.token, json!({ "name": "Mine" })).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn concurrent_creations_at_the_last_free_place_let_exactly_one_through() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("MaxHostedSpaces".into(), "3".into());
    })
    .await;
    let host = app.user("Host").await;
    app.space(&host, "One").await;
    app.space(&host, "Two").await;
    let tries = (0..12).map(|i| app.post("/spaces", &host.token, json!({ "name": format!("Race {i}") })));
    let answers = futures::future::join_all(tries).await;
    let created = answers.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let refused = answers.iter().filter(|r| r.code() == "space_quota_exceeded").count();
    assert_eq!((created, refused), (1, 11), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    let me = app.get("/users/me", &host.token).await;
    assert_eq!(me.body["usage"]["hostedSpaces"], json!({ "used": 3, "limit": 3 }));
    let listed = app.get("/spaces", &host.token).await;
    let hosted = listed.body["items"].as_array().map(|a| a.iter().filter(|s| s["personal"] == false).count());
    assert_eq!(hosted, Some(3), "the count and the spaces agree");
}

#[tokio::test]
async fn a_deleted_accounts_live_token_creates_nothing() {
    let app = TestApp::spawn().await;
    let host = app.user("Gone").await;
    app.delete_and_wait("/users/me", &host.token).await;
    let r = app.post("/spaces", &host.token, json!({ "name": "Ghost" })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    let scan = app.scan_all().await;
    assert!(
        !scan.iter().any(|i| i.get("hostId").and_then(|v| v.as_s().ok()) == Some(&host.id())),
        "no space was written for the deleted user"
    );
    assert!(
        !scan.iter().any(|i| vivid_tests::pk(i) == format!("USER#{}", host.id())),
        "and no profile came back to life"
    );
    assert_eq!(app.get("/users/me", &host.token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/spaces", &host.token).await.body["items"], json!([]));
}

#[tokio::test]
async fn videos_per_space_uploads_and_the_daily_budget_are_bounded() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("MaxVideosPerSpace".into(), "2".into());
        c.parameters.insert("DailyTranscodeBytes".into(), "10000".into());
        c.parameters.insert("MaxUploadBytes".into(), "6000".into());
    })
    .await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let create = |size: u64| {
        let (app, token, space) = (&app, host.token.clone(), space.clone());
        async move {
            app.post(
                &format!("/spaces/{space}/videos"),
                &token,
                json!({ "title": "L", "fileName": "l.mp4", "contentType": "video/mp4", "sizeBytes": size }),
            )
            .await
        }
    };
    let r = create(6001).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    assert_eq!((r.code(), r.body["limit"].as_u64()), ("upload_too_large", Some(6000)));
    assert_eq!(create(6000).await.status, StatusCode::CREATED);
    // 6000 + 5000 passes the day's 10 000 bytes: 429 until midnight UTC, nothing written.
    let r = create(5000).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(r.code(), "transcode_budget_exceeded");
    assert!(r.body["detail"].as_str().is_some_and(|d| d.contains("try again after midnight UTC")), "{:?}", r.body);
    let retry: u64 = r.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=86_400).contains(&retry));
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 1);
    assert_eq!(create(4000).await.status, StatusCode::CREATED);
    let usage = app.get("/users/me", &host.token).await.body["usage"].clone();
    assert_eq!(usage["transcodeBytesToday"], json!({ "used": 10000, "limit": 10000 }));
    assert_eq!(usage["videosPerSpace"], 2);
    assert!(usage["transcodeBudgetResetsAt"].as_str().is_some_and(|t| t.ends_with("T00:00:00.000Z")), "{usage}");
    // The space is full (the budget is too, but the space's count answers first).
    let r = create(1).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!((r.code(), r.body["limit"].as_u64()), ("video_quota_exceeded", Some(2)));
    assert_eq!(r.body["detail"], "the space already holds 2 videos, the most allowed: delete one first");
}

#[tokio::test]
async fn snapshots_drawings_and_checkpoints_are_counted_per_member_and_video() {
    let app = TestApp::spawn_configured(|c| {
        for p in ["MaxSnapshotsPerVideo", "MaxDrawingsPerVideo", "MaxCheckpointsPerVideo"] {
            c.parameters.insert(p.into(), "2".into());
        }
    })
    .await;
    let (host, _, id) = video_of(&app).await;
    let snapshots = format!("/videos/{id}/snapshots");
    let snap =
        || app.post(&snapshots, &host.token, json!({ "videoSeconds": 1, "contentType": "image/png", "sizeBytes": 10 }));
    let first = snap().await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(snap().await.status, StatusCode::CREATED);
    let r = snap().await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "snapshot_quota_exceeded"));
    assert_eq!(r.body["detail"], "you have 2 snapshots of this video, the most allowed: delete one first");
    let gone = first.body["snapshotId"].as_str().expect("id");
    let del = app.call(Method::DELETE, &format!("/videos/{id}/snapshots/{gone}"), Some(&host.token), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(snap().await.status, StatusCode::CREATED, "a deleted snapshot frees its place");

    let draw = |d: &str| {
        let path = format!("/videos/{id}/drawings/{d}");
        let (app, token) = (&app, host.token.clone());
        async move {
            app.call(Method::PUT, &path, Some(&token), Some(json!({ "kind": "page", "document": { "strokes": [] } })))
                .await
        }
    };
    assert!(draw("a").await.status.is_success());
    assert!(draw("b").await.status.is_success());
    assert!(draw("a").await.status.is_success(), "replacing a drawing is not a new one");
    let r = draw("c").await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "drawing_quota_exceeded"));
    assert_eq!(r.body["detail"], "you have 2 drawings on this video, the most allowed: delete one first");
    let del = app.call(Method::DELETE, &format!("/videos/{id}/drawings/b"), Some(&host.token), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert!(draw("c").await.status.is_success());

    let memo = format!("/videos/{id}/text-memo");
    for n in 0..3 {
        let r = app
            .call(Method::PUT, &memo, Some(&host.token), Some(json!({ "stateJson": format!("{{\"n\":{n}}}") })))
            .await;
        assert!(r.status.is_success(), "{:?}", r.body);
        let c = app.post(&format!("{memo}/history"), &host.token, json!({})).await;
        if n < 2 {
            assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.body);
        } else {
            assert_eq!((c.status, c.code()), (StatusCode::CONFLICT, "checkpoint_quota_exceeded"), "{:?}", c.body);
            // Nothing frees a checkpoint's place: the memo itself still saves.
            assert_eq!(
                c.body["detail"],
                "this memo has 2 checkpoints, the most allowed: it still saves, but keeps no more checkpoints"
            );
        }
    }
}

#[tokio::test]
async fn an_upload_url_binds_its_size_and_works_once_and_an_upload_after_abort_is_removed() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let created = app.new_video(&space, &host, 1000).await;
    let url = created["upload"]["url"].as_str().expect("url");
    let signed = vivid_tests::query_param(url, "X-Amz-SignedHeaders").expect("signed headers");
    let signed = vivid_tests::form_decode(&signed);
    for header in ["content-length", "content-type", "if-none-match"] {
        assert!(signed.split(';').any(|h| h == header), "{header} is signed: {signed}");
    }
    assert_eq!(created["upload"]["headers"]["if-none-match"], "*");
    assert!(app.put_presigned(&created["upload"], bytes(1000)).await.status().is_success());
    let again = app.put_presigned(&created["upload"], bytes(1000)).await;
    assert_eq!(again.status(), StatusCode::PRECONDITION_FAILED, "the URL does not overwrite");

    // Abort, then use the URL anyway: the object that lands is removed, the video stays FAILED.
    let created = app.new_video(&space, &host, 1000).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    let r = app.call(Method::DELETE, &format!("/videos/{id}/upload"), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert!(app.put_presigned(&created["upload"], bytes(1000)).await.status().is_success());
    let key = format!("raw/{id}");
    app.invoke("on-raw-upload", s3_event(&app.stack.buckets.raw, &key, 1000)).await.expect("handled");
    assert!(!app.object_exists(&app.stack.buckets.raw, &key).await, "the late upload is removed");
    assert_eq!(app.get(&format!("/videos/{id}"), &host.token).await.body["status"], "FAILED");
    assert!(app.stack.mediaconvert.jobs().is_empty(), "and never transcoded");
}

#[tokio::test]
async fn a_recording_is_imported_once_per_space_and_imports_are_capped() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("MaxImportBytes".into(), (5 * 1024 * 1024).to_string());
    })
    .await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    app.connect_webex(&host).await;
    let small = app.stack.webex.add_synthetic_recording("Short", 1024 * 1024);
    let import = |recording: String| {
        let (app, token, space) = (&app, host.token.clone(), space.clone());
        async move {
            app.post(
                &format!("/spaces/{space}/videos/webex"),
                &token,
                json!({ "recordingId": recording, "title": "L" }),
            )
            .await
        }
    };
    let first = import(small.clone()).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:?}", first.body);
    let again = import(small.clone()).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "already_imported"), "{:?}", again.body);
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.body["videoCount"], 1);
    // Deleting the video frees the recording for another import.
    let id = first.body["videoId"].as_str().expect("id");
    app.delete_and_wait(&format!("/videos/{id}"), &host.token).await;
    assert_eq!(import(small).await.status, StatusCode::ACCEPTED);

    let big = app.stack.webex.add_synthetic_recording("Long", 6 * 1024 * 1024);
    let r = import(big).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large"), "{:?}", r.body);
}

#[tokio::test]
async fn a_video_deleted_while_it_transcodes_has_its_job_cancelled_and_its_outputs_removed() {
    let app = TestApp::spawn().await;
    let (host, _, id) = transcoding_of(&app).await;
    let job = app.stack.mediaconvert.jobs()[0].id.clone();
    let media = app.stack.buckets.media.clone();
    let early = format!("media/{id}/hls/index.m3u8");
    app.put_object(&media, &early, b"#EXTM3U".to_vec(), "application/vnd.apple.mpegurl").await;
    app.delete_and_wait(&format!("/videos/{id}"), &host.token).await;
    // The job goes on writing until its next event: that output is removed as it lands...
    let late = format!("media/{id}/thumbnails/thumb.0000003.jpg");
    app.put_object(&media, &late, vec![0xff, 0xd8], "image/jpeg").await;
    app.invoke("on-converted-output", s3_event(&media, &late, 2)).await.expect("handled");
    assert!(!app.object_exists(&media, &late).await, "an orphan output is removed");
    // ...and its next status update cancels it and clears the prefix.
    app.put_object(&media, &early, b"#EXTM3U".to_vec(), "application/vnd.apple.mpegurl").await;
    app.invoke("on-transcode-event", job_event("on-transcode-event-status-update", &id, &job, &media))
        .await
        .expect("handled");
    let status = app.stack.mediaconvert.jobs().into_iter().find(|j| j.id == job).map(|j| j.status);
    assert_eq!(status.as_deref(), Some("CANCELED"));
    assert!(app.list_keys(&media, &format!("media/{id}/")).await.is_empty());
}

#[tokio::test]
async fn a_failed_job_leaves_no_media_and_thumbnails_are_counted_not_listed() {
    let app = TestApp::spawn().await;
    let (host, _, id) = transcoding_of(&app).await;
    let job = app.stack.mediaconvert.jobs()[0].id.clone();
    let media = app.stack.buckets.media.clone();
    // Thumbnails land in any order, twice: the count only grows.
    for i in [2u32, 0, 1, 2] {
        let key = format!("media/{id}/thumbnails/thumb.{i:07}.jpg");
        app.put_object(&media, &key, vec![0xff, 0xd8], "image/jpeg").await;
        app.invoke("on-converted-output", s3_event(&media, &key, 2)).await.expect("handled");
    }
    let item = app.item(&format!("VIDEO#{id}"), "META").await.expect("video item");
    assert_eq!(item.get("thumbnailCount").and_then(|v| v.as_n().ok()).map(String::as_str), Some("3"));
    assert!(!item.contains_key("thumbnails"), "no key per thumbnail on the item");

    app.invoke("on-transcode-event", job_event("on-transcode-event-error", &id, &job, &media)).await.expect("handled");
    let v = app.get(&format!("/videos/{id}"), &host.token).await.body;
    assert_eq!(v["status"], "FAILED", "{v}");
    assert!(app.list_keys(&media, &format!("media/{id}/")).await.is_empty(), "a failed video keeps no media");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await);
}

#[tokio::test]
async fn usage_is_visible_only_to_its_owner() {
    let app = TestApp::spawn().await;
    let me = app.user("Me").await;
    let r = app.get("/users/me", &me.token).await;
    let usage = &r.body["usage"];
    for key in ["hostedSpaces", "transcodeBytesToday"] {
        assert_eq!(usage[key]["used"], 0, "{usage}");
        assert!(usage[key]["limit"].as_u64().is_some_and(|l| l > 0), "{usage}");
    }
    let anon = app.call(Method::GET, "/users/me", None, None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deleting_an_account_finishes_a_space_deletion_that_was_interrupted() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Half gone").await;
    let guest = app.user("Guest").await;
    app.join(&space, &host, &guest).await;
    // An earlier `DELETE /spaces/{id}` stopped after its tombstone: readers see no space...
    app.dynamo()
        .update_item()
        .table_name(&app.table)
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("SPACE#{space}")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S("META".into()))
        .update_expression("SET deleting = :t")
        .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .send()
        .await
        .expect("tombstone");
    assert_eq!(app.get(&format!("/spaces/{space}"), &host.token).await.status, StatusCode::NOT_FOUND);
    // ...and deleting the host's account sweeps it all the same.
    app.delete_and_wait("/users/me", &host.token).await;
    let left: Vec<_> =
        app.scan_all().await.into_iter().filter(|i| vivid_tests::pk(i) == format!("SPACE#{space}")).collect();
    assert!(left.is_empty(), "nothing of the space is left: {left:?}");
    assert_eq!(
        app.get("/spaces", &guest.token).await.body["items"].as_array().map(Vec::len),
        Some(1),
        "the guest keeps only their personal space"
    );
}

/// Starts a Webex import of `recording` into `space`; the video's id.
async fn start_webex_import(app: &TestApp, host: &TestUser, space: &str, recording: &str) -> String {
    let r = app
        .post(&format!("/spaces/{space}/videos/webex"), &host.token, json!({ "recordingId": recording, "title": "L" }))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    r.body["videoId"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn an_import_downloads_only_from_the_platforms_hosts_and_only_up_to_the_cap() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("MaxImportBytes".into(), (2 * 1024 * 1024).to_string());
    })
    .await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    app.connect_webex(&host).await;
    let webex = &app.stack.webex;
    let failed = |v: &serde_json::Value| v["status"] == "FAILED" || v["status"] == "READY";

    // The link names a host outside the allow-list (the same server as `localhost`): refused
    // before any byte is asked for.
    let port = webex.base.rsplit(':').next().expect("port").to_owned();
    webex.set_download_base(Some(format!("http://localhost:{port}")));
    let recording = webex.add_synthetic_recording("Elsewhere", 1024);
    let id = start_webex_import(&app, &host, &space, &recording).await;
    let v = app.wait_for_video(&host.token, &id, failed).await;
    assert_eq!(v["status"], "FAILED", "{v}");
    // Why stays in the log (it names the host); members read the fixed reason.
    assert_eq!(v["failureCode"], "import_failed", "{v}");
    assert!(!v.to_string().contains("localhost"), "{v}");
    assert_eq!(webex.downloads(), 0, "nothing was fetched from the foreign host");
    webex.set_download_base(None);

    // A redirect to the instance metadata service is not followed.
    webex.set_redirect(Some("http://169.254.169.254/latest/meta-data/".into()));
    let recording = webex.add_synthetic_recording("Redirected", 1024);
    let id = start_webex_import(&app, &host, &space, &recording).await;
    let v = app.wait_for_video(&host.token, &id, failed).await;
    assert_eq!(v["status"], "FAILED", "{v}");
    assert_eq!(v["failureCode"], "import_failed", "{v}");
    assert!(!v.to_string().contains("169.254.169.254"), "{v}");
    webex.set_redirect(None);

    // The platform understates the size: the worker stops at the cap and leaves nothing behind.
    webex.set_stated_size(Some(1000));
    let recording = webex.add_synthetic_recording("Bigger than it says", 3 * 1024 * 1024);
    let id = start_webex_import(&app, &host, &space, &recording).await;
    let v = app.wait_for_video(&host.token, &id, failed).await;
    assert_eq!(v["status"], "FAILED", "{v}");
    assert_eq!(v["failureCode"], "import_failed", "{v}");
    assert!(app.no_multipart_uploads().await, "the multipart upload is aborted");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await);
}
