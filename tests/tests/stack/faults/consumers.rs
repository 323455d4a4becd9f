//! Event consumers: one fails so that Lambda delivers its event again, and the retry completes it.

use reqwest::StatusCode;
use serde_json::json;
use vivid_local::{infra::faults::Fault, stack::SDK_MAX_ATTEMPTS};
use vivid_tests::{TestApp, job_event, s3_event};

use super::{harness::*, stored::*};

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
    app.backdate_video(&stale, "2020-01-01T00:00:00.000Z", None).await;
    app.indexes_settled().await;
    let sweep = json!({ "source": "aws.events" });
    let rule = dynamodb("TransactWriteItems", Fault::ServerError);
    let swept = event_fails_then_ok(&app, rule, "sweep-stale-videos", &sweep, Leaves::Nothing).await;
    assert_eq!(swept["removed"], 1, "{swept}");
    assert_eq!(app.deletions_settled().await.exhausted, 0);
    assert_eq!(app.get(&format!("/videos/{stale}"), &host.token).await.status, StatusCode::NOT_FOUND);
    assert!(app.no_multipart_uploads().await);
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
