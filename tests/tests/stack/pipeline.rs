//! The media pipeline (SPEC §4): presigned and multipart uploads into the emulator's raw bucket,
//! `on-raw-upload` → one MediaConvert job (counted at the stand-in the SDK talks to over HTTP),
//! job-state events in any order, converted outputs, signed playback.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, job_event, s3_event, sample_event};

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

async fn video(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/videos/{id}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn given_a_small_file_when_put_to_the_presigned_url_then_it_lands_and_one_job_starts() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let created = app.new_video(&space, &host, 4096).await;
    assert_eq!(created["status"], "UPLOADING");
    assert_eq!(created["upload"]["kind"], "single");
    assert_eq!(created["upload"]["method"], "PUT");
    let id = created["videoId"].as_str().expect("id").to_owned();
    app.upload_single(&created, bytes(4096)).await;
    assert!(
        app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await,
        "the bytes went to S3, not through us"
    );

    app.invoke("on-raw-upload", s3_event(&app.stack.buckets.raw, &format!("raw/{id}"), 4096)).await.expect("handled");
    let v = video(&app, &host.token, &id).await;
    assert_eq!(v["status"], "TRANSCODING");
    let jobs = app.stack.mediaconvert.jobs();
    assert_eq!(jobs.len(), 1);
    let request = &app.stack.mediaconvert.create_requests()[0];
    // The stack's name and the video's: the same video never starts a second job, and another
    // stack's video of the same id (a restored backup) never finds this one's.
    let stack = app.stack.environments["on-raw-upload"]["VIVID_APPLICATION"].clone();
    assert_eq!(request["clientRequestToken"], format!("{stack}-{id}"));
    assert_eq!(request["userMetadata"]["videoId"], id.as_str());
    assert_eq!(request["statusUpdateInterval"], "SECONDS_10");
    let space_after = app.get(&format!("/spaces/{space}"), &host.token).await;
    assert_eq!(space_after.body["videoCount"], 1);
}

#[tokio::test]
async fn the_job_settings_match_the_reviewed_golden_document() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let id = app.uploaded_video(&space, &host, bytes(1024)).await;
    let mut request = app.stack.mediaconvert.create_requests()[0].clone();
    // The jobs carry the stack's name (its rule matches it): the on-raw-upload's environment.
    let stack = app.stack.environments["on-raw-upload"]["VIVID_APPLICATION"].clone();
    assert_eq!(request["userMetadata"]["application"], stack.as_str());
    request["userMetadata"]["application"] = "{stackName}".into();
    assert_eq!(request["clientRequestToken"], format!("{stack}-{id}"));
    request["clientRequestToken"] = "{stackName}-{videoId}".into();
    let text = serde_json::to_string_pretty(&request)
        .expect("json")
        .replace(&id, "{videoId}")
        .replace(&app.stack.buckets.raw, "{rawBucket}")
        .replace(&app.stack.buckets.media, "{mediaBucket}");
    let golden_path = vivid_tests::repo_root().join("tests/fixtures/mediaconvert-create-job.json");
    if std::env::var_os("VIVID_BLESS").is_some() {
        std::fs::write(&golden_path, format!("{text}\n")).expect("write golden");
    }
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(&golden_path).expect("golden file")).expect("golden JSON");
    let sent: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(sent, golden, "CreateJob body changed: review it and bless with VIVID_BLESS=1");
    // The facts the golden file was reviewed for.
    // No job transcodes more than the longest lecture (MaxLectureSeconds, 6 h), whatever the
    // source's header says: the bound of its cost and of the objects it writes.
    let input = &sent["settings"]["inputs"][0];
    assert_eq!(input["timecodeSource"], "ZEROBASED");
    assert_eq!(input["inputClippings"], json!([{ "endTimecode": "06:00:00:00" }]));
    let groups = sent["settings"]["outputGroups"].as_array().expect("groups");
    let hls = &groups[0];
    assert_eq!(hls["outputGroupSettings"]["type"], "HLS_GROUP_SETTINGS");
    let heights: Vec<i64> = hls["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter_map(|o| o["videoDescription"]["height"].as_i64())
        .collect();
    assert_eq!(heights, vec![360, 540, 720]);
    let rates: Vec<i64> = hls["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter_map(|o| o["videoDescription"]["codecSettings"]["h264Settings"]["maxBitrate"].as_i64())
        .collect();
    assert_eq!(rates, vec![1_000_000, 2_000_000, 3_000_000]);
    assert!(
        hls["outputs"]
            .as_array()
            .expect("outputs")
            .iter()
            .all(|o| o["videoDescription"]["scalingBehavior"] == "FIT_NO_UPSCALE")
    );
    assert!(
        hls["outputs"]
            .as_array()
            .expect("outputs")
            .iter()
            .all(|o| o["audioDescriptions"][0]["codecSettings"]["codec"] == "AAC")
    );
    assert_eq!(groups[1]["outputs"][0]["containerSettings"]["container"], "MP4");
    assert_eq!(groups[1]["outputs"][0]["videoDescription"]["height"], 720);
    let capture = &groups[2]["outputs"][0]["videoDescription"]["codecSettings"];
    assert_eq!(capture["codec"], "FRAME_CAPTURE");
    assert_eq!(capture["frameCaptureSettings"]["framerateDenominator"], 5);
}

#[tokio::test]
async fn given_a_large_file_when_uploaded_in_three_parts_then_the_object_is_whole() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let size = 20 * 1024 * 1024;
    let created = app.new_video(&space, &host, size as u64).await;
    let upload = &created["upload"];
    assert_eq!(upload["kind"], "multipart");
    assert_eq!(upload["partSize"], 8 * 1024 * 1024);
    let parts = upload["parts"].as_array().expect("parts").clone();
    assert_eq!(parts.len(), 3);
    let data = bytes(size);
    let mut completed = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let from = i * 8 * 1024 * 1024;
        let to = (from + 8 * 1024 * 1024).min(size);
        let resp =
            app.http.put(part["url"].as_str().expect("url")).body(data[from..to].to_vec()).send().await.expect("part");
        assert!(resp.status().is_success());
        let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).expect("etag").to_owned();
        completed.push(json!({ "partNumber": part["partNumber"], "etag": etag }));
    }
    let id = created["videoId"].as_str().expect("id");
    // Wrong ETags are refused, and nothing is completed.
    let bad = app
        .post(
            &format!("/videos/{id}/upload/complete"),
            &host.token,
            json!({ "parts": [{ "partNumber": 1, "etag": "\"nope\"" }] }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", bad.body);
    // One part number with two ETags is refused before S3 is asked.
    let mut twice = completed.clone();
    twice.push(json!({ "partNumber": 1, "etag": "\"other\"" }));
    let r = app.post(&format!("/videos/{id}/upload/complete"), &host.token, json!({ "parts": twice })).await;
    assert_eq!(r.code(), "invalid_parts", "{:?}", r.body);
    // The parts in any order, one of them twice: the upload completes.
    completed.reverse();
    completed.push(completed[0].clone());
    let r = app.post(&format!("/videos/{id}/upload/complete"), &host.token, json!({ "parts": completed })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let head =
        app.s3().head_object().bucket(&app.stack.buckets.raw).key(format!("raw/{id}")).send().await.expect("object");
    assert_eq!(head.content_length, Some(size as i64));
    app.invoke("on-raw-upload", s3_event(&app.stack.buckets.raw, &format!("raw/{id}"), size as u64))
        .await
        .expect("handled");
    assert_eq!(video(&app, &host.token, id).await["status"], "TRANSCODING");
}

#[tokio::test]
async fn given_duplicate_upload_events_then_exactly_one_job_is_created() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let created = app.new_video(&space, &host, 2048).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    app.upload_single(&created, bytes(2048)).await;
    let event = s3_event(&app.stack.buckets.raw, &format!("raw/{id}"), 2048);
    for _ in 0..5 {
        app.invoke("on-raw-upload", event.clone()).await.expect("handled");
    }
    assert_eq!(app.stack.mediaconvert.create_requests().len(), 1, "one CreateJob call for five deliveries");

    // Five concurrent deliveries of another upload: still one job.
    let created = app.new_video(&space, &host, 2048).await;
    let id2 = created["videoId"].as_str().expect("id").to_owned();
    app.upload_single(&created, bytes(2048)).await;
    let event = s3_event(&app.stack.buckets.raw, &format!("raw/{id2}"), 2048);
    let results = futures_join(&app, event, 5).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let jobs = app.stack.mediaconvert.jobs();
    assert_eq!(jobs.len(), 2, "one job per video");
    assert_eq!(video(&app, &host.token, &id2).await["status"], "TRANSCODING");
}

/// `n` deliveries of one event, polled together so the handlers interleave at every await.
async fn futures_join(app: &TestApp, event: Value, n: usize) -> Vec<Result<Value, String>> {
    futures::future::join_all((0..n).map(|_| app.invoke("on-raw-upload", event.clone()))).await
}

#[tokio::test]
async fn given_job_events_in_any_order_then_the_video_ends_ready_with_its_outputs() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let orders: [[&str; 3]; 6] = [
        ["progressing", "status-update", "complete"],
        ["progressing", "complete", "status-update"],
        ["status-update", "progressing", "complete"],
        ["status-update", "complete", "progressing"],
        ["complete", "progressing", "status-update"],
        ["complete", "status-update", "progressing"],
    ];
    for order in orders {
        let id = app.uploaded_video(&space, &host, bytes(512)).await;
        let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
        for step in order {
            let sample = match step {
                "complete" => "on-transcode-event".to_owned(),
                other => format!("on-transcode-event-{other}"),
            };
            app.invoke("on-transcode-event", job_event(&sample, &id, &job, &app.stack.buckets.media))
                .await
                .expect("handled");
        }
        let v = video(&app, &host.token, &id).await;
        assert_eq!(v["status"], "READY", "{order:?}");
        assert_eq!(v["percentComplete"], 100);
        assert_eq!(v["durationSeconds"], 612.48);
        assert!(
            v["playback"]["hlsUrl"].as_str().is_some_and(|u| u.contains(&format!("/media/{id}/hls/index.m3u8?"))),
            "{v}"
        );
        assert!(v["playback"]["mp4Url"].as_str().is_some_and(|u| u.contains(&format!("/media/{id}/mp4/video.mp4?"))));
    }
}

#[tokio::test]
async fn given_progress_then_percent_only_rises_and_a_late_update_changes_nothing() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let id = app.uploaded_video(&space, &host, bytes(512)).await;
    let job = app.stack.mediaconvert.jobs()[0].id.clone();
    let media = app.stack.buckets.media.clone();
    let mut update = job_event("on-transcode-event-status-update", &id, &job, &media);
    app.invoke("on-transcode-event", update.clone()).await.expect("handled");
    assert_eq!(video(&app, &host.token, &id).await["percentComplete"], 47);
    update["detail"]["jobProgress"]["jobPercentComplete"] = 20.into();
    app.invoke("on-transcode-event", update.clone()).await.expect("handled");
    assert_eq!(video(&app, &host.token, &id).await["percentComplete"], 47, "never backwards");
    // Another job's events for this video are ignored.
    app.invoke("on-transcode-event", job_event("on-transcode-event-error", &id, "another-job", &media))
        .await
        .expect("handled");
    assert_eq!(video(&app, &host.token, &id).await["status"], "TRANSCODING");
}

#[tokio::test]
async fn given_an_error_event_then_failed_with_the_fixed_reason_and_nothing_revives_it() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let id = app.uploaded_video(&space, &host, bytes(512)).await;
    let job = app.stack.mediaconvert.jobs()[0].id.clone();
    let media = app.stack.buckets.media.clone();
    let raw = app.stack.buckets.raw.clone();
    // MediaConvert's messages name the source's URI (bucket, key) and the account.
    let mut error = job_event("on-transcode-event-error", &id, &job, &media);
    error["detail"]["errorMessage"] = format!(
        "Unable to open input file [s3://{raw}/raw/{id}]: [Failed probe/open: [Access denied for account 123456789012]]"
    )
    .into();
    app.invoke("on-transcode-event", error).await.expect("handled");
    let v = video(&app, &host.token, &id).await;
    assert_eq!(v["status"], "FAILED");
    assert_eq!(v["failureCode"], "transcode_failed", "{v}");
    assert_eq!(
        v["failureReason"],
        "the video could not be converted: the file may be damaged or in a format that is not supported"
    );
    let shown = v.to_string();
    for secret in [raw.as_str(), "s3://", "123456789012", "1010"] {
        assert!(!shown.contains(secret), "{secret} shown to members: {shown}");
    }
    app.invoke("on-transcode-event", job_event("on-transcode-event", &id, &job, &media)).await.expect("handled");
    assert_eq!(video(&app, &host.token, &id).await["status"], "FAILED");
    assert!(video(&app, &host.token, &id).await.get("playback").is_none());
}

#[tokio::test]
async fn given_an_object_larger_than_declared_then_it_is_removed_and_the_video_fails() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let created = app.new_video(&space, &host, 1000).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    // The presigned URL takes the declared size only (S3 refuses another: its length is signed)...
    assert_eq!(app.put_presigned(&created["upload"], bytes(2000)).await.status(), StatusCode::FORBIDDEN);
    // ...and an object that arrives otherwise is checked all the same.
    app.put_object(&app.stack.buckets.raw, &format!("raw/{id}"), bytes(2000), "video/mp4").await;
    app.invoke("on-raw-upload", s3_event(&app.stack.buckets.raw, &format!("raw/{id}"), 2000)).await.expect("handled");
    let v = video(&app, &host.token, &id).await;
    assert_eq!(v["status"], "FAILED");
    assert_eq!(v["failureCode"], "upload_mismatch", "{v}");
    assert_eq!(v["failureReason"], "the uploaded file is not the one announced: its size or type differs");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{id}")).await, "the object is removed");
    assert!(app.stack.mediaconvert.create_requests().is_empty(), "no job for a rejected upload");
    // Above the maximum the API refuses to begin with.
    let r = app
        .post(
            &format!("/spaces/{space}/videos"),
            &host.token,
            json!({
                "title": "Huge", "fileName": "huge.mp4", "contentType": "video/mp4", "sizeBytes": 65 * 1024 * 1024,
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!((r.code(), r.body["limit"].as_u64()), ("upload_too_large", Some(64 * 1024 * 1024)));
}

#[tokio::test]
async fn given_a_foreign_object_with_an_encoded_key_then_it_is_decoded_and_removed() {
    let app = TestApp::spawn().await;
    let raw = app.stack.buckets.raw.clone();
    let key = "raw/my lecture vidéo (1).mp4";
    app.put_object(&raw, key, bytes(2048), "video/mp4").await;
    let mut event = sample_event("on-raw-upload-foreign-key");
    event["Records"][0]["s3"]["bucket"]["name"] = raw.clone().into();
    assert_eq!(event["Records"][0]["s3"]["object"]["key"], "raw/my+lecture+vid%C3%A9o+%281%29.mp4");
    app.invoke("on-raw-upload", event).await.expect("handled");
    assert!(!app.object_exists(&raw, key).await, "the decoded key was found and removed");
    assert!(app.stack.mediaconvert.create_requests().is_empty());
}

#[tokio::test]
async fn given_converted_objects_landing_then_outputs_and_the_first_thumbnail_as_poster_are_recorded() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let id = app.uploaded_video(&space, &host, bytes(512)).await;
    let media = app.stack.buckets.media.clone();
    let playlist = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360\nindex_360p.m3u8\n";
    let objects: Vec<(String, Vec<u8>, &str)> = vec![
        (format!("media/{id}/thumbnails/thumb.0000002.jpg"), b"jpg2".to_vec(), "image/jpeg"),
        (format!("media/{id}/hls/index.m3u8"), playlist.as_bytes().to_vec(), "application/vnd.apple.mpegurl"),
        (format!("media/{id}/hls/index_360p_00001.ts"), bytes(1880), "video/mp2t"),
        (format!("media/{id}/thumbnails/thumb.0000000.jpg"), b"jpg0".to_vec(), "image/jpeg"),
        (format!("media/{id}/mp4/video.mp4"), bytes(4096), "video/mp4"),
        (format!("media/{id}/thumbnails/thumb.0000001.jpg"), b"jpg1".to_vec(), "image/jpeg"),
    ];
    for (key, body, ct) in &objects {
        app.put_object(&media, key, body.clone(), ct).await;
        let event = s3_event(&media, key, body.len() as u64);
        app.invoke("on-converted-output", event.clone()).await.expect("handled");
        app.invoke("on-converted-output", event).await.expect("a duplicate is harmless");
    }
    let job = app.stack.mediaconvert.jobs()[0].id.clone();
    // The job's COMPLETE names its last frame capture: the third here.
    let complete = job_event("on-transcode-event", &id, &job, &media)
        .to_string()
        .replace("thumb.0000122.jpg", "thumb.0000002.jpg");
    let complete: Value = serde_json::from_str(&complete).expect("event");
    app.invoke("on-transcode-event", complete).await.expect("handled");
    let v = video(&app, &host.token, &id).await;
    let playback = &v["playback"];
    assert!(playback["posterUrl"].as_str().is_some_and(|u| u.contains("thumb.0000000.jpg")), "{playback}");
    assert_eq!(playback["thumbnails"]["count"], 3, "{playback}");
    assert_eq!(playback["thumbnails"]["intervalSeconds"], 5);
    // Thumbnail i is the template with i in seven digits; it is signed like the rest.
    let template = playback["thumbnails"]["urlTemplate"].as_str().expect("template");
    let second = template.replace("{index}", "0000001");
    let got = app.http.get(&second).send().await.expect("cdn");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), b"jpg1");

    // The signed URLs work through the local CDN, and only for this video, only with the grant.
    let hls = playback["hlsUrl"].as_str().expect("hls").to_owned();
    let got = app.http.get(&hls).send().await.expect("cdn");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.text().await.expect("text"), playlist);
    let query = playback["signedQuery"].as_str().expect("query");
    let segment = format!("{}/_local/cdn/media/{id}/hls/index_360p_00001.ts?{query}", app.base);
    assert_eq!(app.http.get(&segment).send().await.expect("segment").bytes().await.expect("bytes").len(), 1880);
    let unsigned = hls.split('?').next().expect("url").to_owned();
    let refused = app.http.get(&unsigned).send().await.expect("cdn");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // What a player does about it: fetch a fresh grant.
    let said = refused.text().await.expect("text");
    assert!(said.contains("request a fresh playback grant from GET /videos/{videoId}/playback"), "{said}");
    let other = format!("{}/_local/cdn/media/01ARZ3NDEKTSV4RRFFQ69G5FAV/hls/index.m3u8?{query}", app.base);
    assert_eq!(app.http.get(&other).send().await.expect("cdn").status(), StatusCode::FORBIDDEN);
    let tampered = hls.replace("Signature=", "Signature=AA");
    assert_eq!(app.http.get(&tampered).send().await.expect("cdn").status(), StatusCode::FORBIDDEN);
    // The grant as CloudFront cookies (what the API sets for a same-site CDN) opens it too.
    let cookies: Vec<String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k != "Hash-Algorithm")
        .map(|(k, v)| format!("CloudFront-{k}={v}"))
        .collect();
    let with_cookie = app.http.get(&unsigned).header("cookie", cookies.join("; ")).send().await.expect("cdn");
    assert_eq!(with_cookie.status(), StatusCode::OK);
}

#[tokio::test]
async fn given_an_unfinished_upload_when_the_host_aborts_then_failed_and_no_object() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let created = app.new_video(&space, &host, 20 * 1024 * 1024).await;
    let id = created["videoId"].as_str().expect("id");
    let r = app.call(Method::DELETE, &format!("/videos/{id}/upload"), Some(&host.token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let v = video(&app, &host.token, id).await;
    assert_eq!(v["status"], "FAILED");
    let uploads = app.s3().list_multipart_uploads().bucket(&app.stack.buckets.raw).send().await.expect("list");
    assert!(uploads.uploads().is_empty(), "the multipart upload is aborted");
    let again = app.call(Method::DELETE, &format!("/videos/{id}/upload"), Some(&host.token), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}
