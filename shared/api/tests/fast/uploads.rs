//! A video's way in: created with its upload instructions, its bytes put (a single PUT or the parts
//! of a multipart upload, as the browser sends them to S3), completed or aborted, then carried to
//! `READY` by the event consumers on the same world (`on-raw-upload`, `on-transcode-event`).

use serde_json::{Value, json};
use vivid_domain::{
    media::{Bucket, MediaStore},
    types::VideoId,
    video::{MIB, layout},
};
use vivid_events::EventHandler;
use vivid_testkit::{
    memory::{MEDIA_BUCKET, RAW_BUCKET},
    requests::Req,
};

use crate::{App, Class};

fn create(class: &Class, token: Option<&str>, size: u64) -> Req {
    Req::post("/spaces/{spaceId}/videos").param("spaceId", &class.space.space_id).bearer(token).json(&json!({
        "title": "Week 1", "fileName": "week1.mp4", "contentType": "video/mp4", "sizeBytes": size,
    }))
}

/// The notification S3 sends when an object is created in `bucket`.
fn created_object(bucket: &str, key: &str, size: usize) -> Value {
    json!({ "Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-central-1",
        "eventTime": "2026-11-25T13:34:22.123Z", "eventName": "ObjectCreated:Put",
        "userIdentity": { "principalId": "AWS:AROAEXAMPLE" },
        "requestParameters": { "sourceIPAddress": "203.0.113.7" },
        "responseElements": { "x-amz-request-id": "C3D13FE58DE4C810" },
        "s3": { "s3SchemaVersion": "1.0", "configurationId": "vivid",
                "bucket": { "name": bucket, "arn": format!("arn:aws:s3:::{bucket}"), "ownerIdentity": { "principalId": "A3NL1KOZZKExample" } },
                "object": { "key": key, "size": size, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0A1B2C" } },
    }]})
}

/// MediaConvert's news that `job` of `video` completed (an HLS master, the MP4, 13 thumbnails).
fn job_complete(video: &str, job: &str) -> Value {
    let uri = |path: &str| format!("s3://{MEDIA_BUCKET}/media/{video}/{path}");
    json!({
        "version": "0", "id": "1", "detail-type": "MediaConvert Job State Change", "source": "aws.mediaconvert",
        "account": "123456789012", "time": "2026-11-25T13:40:12Z", "region": "eu-central-1", "resources": [],
        "detail": {
            "jobId": job, "status": "COMPLETE", "userMetadata": { "videoId": video },
            "outputGroupDetails": [
                { "type": "HLS_GROUP", "playlistFilePaths": [uri("hls/index.m3u8")],
                  "outputDetails": [{ "outputFilePaths": [uri("hls/index_720.m3u8")], "durationInMs": 61_500 }] },
                { "type": "FILE_GROUP", "outputDetails": [
                    { "outputFilePaths": [uri("mp4/video.mp4")], "durationInMs": 61_500 },
                    { "outputFilePaths": [uri("thumbnails/thumb.0000012.jpg")], "durationInMs": 65_000 },
                ] },
            ],
        },
    })
}

#[tokio::test]
async fn managers_create_videos_within_the_quotas_and_bad_bodies_are_refused() {
    let app = App::new();
    let class = app.class();
    for (who, token) in class.callers() {
        let reply = app.send(&app.create_video(), create(&class, token, 1000)).await;
        let expected = match who {
            "anonymous" => (401, "unauthenticated"),
            "stranger" => (404, "not_found"),
            "participant" => (403, "managers_only"),
            _ => (201, ""),
        };
        assert_eq!((reply.status, reply.code()), expected, "{who}");
    }
    let host = class.host.bearer();
    let reply = app.send(&app.create_video(), create(&class, class.cohost.bearer(), 1000)).await;
    assert_eq!(reply.status, 201, "a co-host uploads too");
    assert_eq!(
        (reply.body["status"].as_str(), reply.body["upload"]["kind"].as_str()),
        (Some("UPLOADING"), Some("single"))
    );
    assert_eq!(reply.body["upload"]["headers"], json!({ "content-type": "video/mp4", "if-none-match": "*" }));
    assert_eq!(reply.header("location"), format!("/videos/{}", reply.body["videoId"].as_str().unwrap_or_default()));
    let zero = app.send(&app.create_video(), create(&class, host, 0)).await;
    assert_eq!((zero.status, zero.code()), (422, "invalid_size"));
    let huge = app.send(&app.create_video(), create(&class, host, app.quotas.upload_bytes + 1)).await;
    assert_eq!(
        (huge.status, huge.code(), huge.body["limit"].as_u64()),
        (413, "upload_too_large", Some(app.quotas.upload_bytes))
    );
    let image =
        Req::post("/spaces/{spaceId}/videos").param("spaceId", &class.space.space_id).bearer(host).json(&json!({
            "title": "Slides", "fileName": "s.png", "contentType": "image/png", "sizeBytes": 10,
        }));
    assert_eq!(app.send(&app.create_video(), image).await.code(), "invalid_body");
    // Two created above, two more fill the space.
    for _ in 0..2 {
        assert_eq!(app.send(&app.create_video(), create(&class, host, 1000)).await.status, 201);
    }
    let full = app.send(&app.create_video(), create(&class, host, 1000)).await;
    assert_eq!((full.status, full.code(), full.body["limit"].as_u64()), (409, "video_quota_exceeded", Some(4)));
    let space = app
        .send(&app.get_space(), Req::get("/spaces/{spaceId}").param("spaceId", &class.space.space_id).bearer(host))
        .await;
    assert_eq!(space.body["videoCount"].as_u64(), Some(4));
}

#[tokio::test]
async fn a_day_s_transcoding_bytes_are_a_budget_that_says_when_it_resets() {
    let mut app = App::new();
    app.quotas.daily_transcode_bytes = 1500;
    let class = app.class();
    let host = class.host.bearer();
    assert_eq!(app.send(&app.create_video(), create(&class, host, 1000)).await.status, 201);
    let over = app.send(&app.create_video(), create(&class, host, 1600)).await;
    assert_eq!((over.status, over.code()), (413, "upload_too_large"), "more than a whole day's budget");
    let reply = app.send(&app.create_video(), create(&class, host, 1000)).await;
    assert_eq!((reply.status, reply.code()), (429, "transcode_budget_exceeded"));
    let retry: u64 = reply.header("retry-after").parse().expect("Retry-After");
    assert!((1..=86_400).contains(&retry), "{retry}");
}

#[tokio::test]
async fn a_single_put_upload_goes_to_ready_through_the_event_consumers() {
    let app = App::new();
    let class = app.class();
    let reply = app.send(&app.create_video(), create(&class, class.host.bearer(), 1000)).await;
    let id: VideoId = reply.body["videoId"].as_str().and_then(|v| v.parse().ok()).expect("videoId");
    let url = reply.body["upload"]["url"].as_str().expect("a presigned PUT");
    assert!(url.contains(&format!("{RAW_BUCKET}.")) && url.contains(&layout::raw(&id)), "{url}");
    // The browser's PUT, then S3's notification.
    let key = layout::raw(&id);
    app.memory.put(Bucket::Raw, &key, "video/mp4", vec![7; 1000]).await.expect("put");
    let got = app.on_raw_upload().handle(created_object(RAW_BUCKET, &key, 1000)).await;
    assert!(matches!(got, Ok(Value::Null)), "{got:?}");
    let read = || Req::get("/videos/{videoId}").param("videoId", &id).bearer(class.member.bearer());
    let reply = app.send(&app.get_video(), read()).await;
    assert_eq!((reply.body["status"].as_str(), reply.body["percentComplete"].as_u64()), (Some("TRANSCODING"), Some(0)));
    let jobs = app.memory.jobs_of(&id);
    assert_eq!(jobs.len(), 1, "one job");
    let got = app.on_transcode_event().handle(job_complete(id.as_str(), &jobs[0].0)).await;
    assert!(matches!(got, Ok(Value::Null)), "{got:?}");
    let reply = app.send(&app.get_video(), read()).await;
    assert_eq!((reply.body["status"].as_str(), reply.body["durationSeconds"].as_f64()), (Some("READY"), Some(61.5)));
    let playback = &reply.body["playback"];
    assert!(playback["hlsUrl"].as_str().is_some_and(|u| u.contains(&format!("media/{id}/hls/index.m3u8"))));
    assert!(playback["mp4Url"].as_str().is_some_and(|u| u.contains(&format!("media/{id}/mp4/video.mp4"))));
    assert_eq!(playback["thumbnails"]["count"].as_u64(), Some(13));
    // Redelivered, it changes nothing.
    let again = app.on_raw_upload().handle(created_object(RAW_BUCKET, &key, 1000)).await;
    assert!(again.is_ok() && app.memory.jobs_of(&id).len() == 1);
}

#[tokio::test]
async fn an_upload_of_another_size_than_declared_fails_with_its_reason_and_is_removed() {
    let app = App::new();
    let class = app.class();
    let reply = app.send(&app.create_video(), create(&class, class.host.bearer(), 1000)).await;
    let id: VideoId = reply.body["videoId"].as_str().and_then(|v| v.parse().ok()).expect("videoId");
    let key = layout::raw(&id);
    app.memory.put(Bucket::Raw, &key, "video/mp4", vec![7; 999]).await.expect("put");
    app.on_raw_upload().handle(created_object(RAW_BUCKET, &key, 999)).await.expect("handled");
    let reply = app
        .send(&app.get_video(), Req::get("/videos/{videoId}").param("videoId", &id).bearer(class.host.bearer()))
        .await;
    assert_eq!(
        (reply.body["status"].as_str(), reply.body["failureCode"].as_str()),
        (Some("FAILED"), Some("upload_mismatch"))
    );
    assert_eq!(app.memory.get(Bucket::Raw, &key).await.expect("get"), None, "the object is removed");
    assert!(app.memory.jobs_of(&id).is_empty(), "nothing transcoded");
}

#[tokio::test]
async fn a_multipart_upload_is_resumed_completed_with_s3_s_etags_and_refused_without_them() {
    let app = App::new();
    let class = app.class();
    let size = 9 * MIB;
    let reply = app.send(&app.create_video(), create(&class, class.host.bearer(), size)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let upload = &reply.body["upload"];
    assert_eq!((upload["kind"].as_str(), upload["partSize"].as_u64()), (Some("multipart"), Some(8 * MIB)));
    assert_eq!(upload["parts"].as_array().map(Vec::len), Some(2));
    let id: VideoId = reply.body["videoId"].as_str().and_then(|v| v.parse().ok()).expect("videoId");
    let upload_id = upload["uploadId"].as_str().expect("uploadId").to_owned();
    let key = layout::raw(&id);
    let first = app.memory.upload_part(&key, &upload_id, 1, vec![1; 8 * MIB as usize]).await.expect("part 1");
    let parts = |token: Option<&str>| Req::post("/videos/{videoId}/upload/parts").param("videoId", &id).bearer(token);
    let participant = app.send(&app.upload_parts(), parts(class.member.bearer())).await;
    assert_eq!((participant.status, participant.code()), (403, "managers_only"));
    let resume = app.send(&app.upload_parts(), parts(class.host.bearer())).await;
    assert_eq!(resume.status, 200, "{resume:?}");
    assert_eq!(resume.body["uploadedParts"], json!([{ "partNumber": 1, "etag": first, "size": 8 * MIB }]));
    let missing: Vec<_> =
        resume.body["parts"].as_array().into_iter().flatten().map(|p| p["partNumber"].clone()).collect();
    assert_eq!(missing, [json!(2)], "fresh URLs for what S3 does not have");
    let second = app.memory.upload_part(&key, &upload_id, 2, vec![2; MIB as usize]).await.expect("part 2");
    let complete = |body: Value| {
        Req::post("/videos/{videoId}/upload/complete").param("videoId", &id).bearer(class.host.bearer()).json(&body)
    };
    let wrong = json!({ "parts": [{ "partNumber": 1, "etag": first }, { "partNumber": 2, "etag": "\"0000\"" }] });
    let reply = app.send(&app.complete_upload(), complete(wrong)).await;
    assert_eq!((reply.status, reply.code()), (422, "upload_rejected"));
    for bad in [
        json!({ "parts": [] }),
        json!({ "parts": [{ "partNumber": 0, "etag": first }] }),
        json!({ "parts": [{ "partNumber": 1, "etag": "" }] }),
    ] {
        let reply = app.send(&app.complete_upload(), complete(bad.clone())).await;
        assert_eq!((reply.status, reply.code()), (422, "invalid_parts"), "{bad}");
    }
    let right = json!({ "parts": [{ "partNumber": 2, "etag": second }, { "partNumber": 1, "etag": first }] });
    let reply = app.send(&app.complete_upload(), complete(right)).await;
    assert_eq!((reply.status, reply.body["videoId"].as_str()), (200, Some(id.as_str())), "in any order");
    let object = app.memory.get(Bucket::Raw, &key).await.expect("get").expect("the object");
    assert_eq!(object.len() as u64, size);
    app.on_raw_upload().handle(created_object(RAW_BUCKET, &key, object.len())).await.expect("handled");
    let reply = app
        .send(&app.get_video(), Req::get("/videos/{videoId}").param("videoId", &id).bearer(class.host.bearer()))
        .await;
    assert_eq!(reply.body["status"].as_str(), Some("TRANSCODING"));
    let late = app.send(&app.upload_parts(), parts(class.host.bearer())).await;
    assert_eq!((late.status, late.code()), (409, "not_uploading"));
}

#[tokio::test]
async fn an_aborted_upload_fails_the_video_and_a_single_put_has_no_parts() {
    let app = App::new();
    let class = app.class();
    let reply = app.send(&app.create_video(), create(&class, class.host.bearer(), 1000)).await;
    let id = reply.body["videoId"].as_str().expect("videoId").to_owned();
    let parts = Req::post("/videos/{videoId}/upload/parts").param("videoId", &id).bearer(class.host.bearer());
    let reply = app.send(&app.upload_parts(), parts).await;
    assert_eq!((reply.status, reply.code()), (409, "not_multipart"));
    let abort = |token: Option<&str>| Req::delete("/videos/{videoId}/upload").param("videoId", &id).bearer(token);
    let participant = app.send(&app.abort_upload(), abort(class.member.bearer())).await;
    assert_eq!((participant.status, participant.code()), (403, "managers_only"));
    let reply = app.send(&app.abort_upload(), abort(class.host.bearer())).await;
    assert_eq!(reply.status, 204);
    let again = app.send(&app.abort_upload(), abort(class.host.bearer())).await;
    assert_eq!((again.status, again.code()), (409, "not_uploading"));
    let reply = app
        .send(&app.get_video(), Req::get("/videos/{videoId}").param("videoId", &id).bearer(class.member.bearer()))
        .await;
    assert_eq!(
        (reply.body["status"].as_str(), reply.body["failureCode"].as_str()),
        (Some("FAILED"), Some("upload_aborted"))
    );
}
