//! AWS's own published samples (`tests/fixtures/vendor/`, each with its source beside it) through
//! the real consumers on the local stack: MediaConvert's job-state events into
//! `on-transcode-event`, S3's notifications into `on-raw-upload` and `on-converted-output`,
//! Transcribe's job-state events and transcripts into `on-transcribe-event`. A sample is changed
//! only where it must name our items (the job, the video, the bucket, the key); what a member
//! sees afterwards is asserted through the API.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser, vendor_sample};

/// A MediaConvert sample about our video's job: its `jobId`, its resources and our metadata (the
/// published samples have `userMetadata: {}`).
fn about_our_job(mut sample: Value, video: &str, job: &str) -> Value {
    sample["detail"]["jobId"] = job.into();
    sample["detail"]["userMetadata"] = json!({ "videoId": video, "application": "vivid" });
    sample["resources"] = json!([format!("arn:aws:mediaconvert:us-west-2:111122223333:jobs/{job}")]);
    sample
}

async fn video(app: &TestApp, host: &TestUser, id: &str) -> Value {
    let r = app.get(&format!("/videos/{id}"), &host.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

type Check = fn(&Value) -> bool;

#[tokio::test]
async fn mediaconvert_s_published_job_state_events_move_the_video_as_they_report() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let cases: [(&str, Check); 14] = [
        ("mediaconvert/job-state-progressing.json", |v| v["status"] == "TRANSCODING"),
        ("mediaconvert/job-state-status-update.json", |v| v["status"] == "TRANSCODING" && v["percentComplete"] == 7),
        ("mediaconvert/job-state-input-information.json", |v| {
            v["status"] == "TRANSCODING"
                && v["source"]
                    == json!({ "width": 1920, "height": 1080, "frameRate": 24.0, "codec": "H_264", "bitDepth": 8, "colorFormat": "YUV_420" })
        }),
        ("mediaconvert/job-state-complete.json", |v| v["status"] == "READY" && v["durationSeconds"] == 30.041),
        ("mediaconvert/job-state-error.json", |v| {
            v["status"] == "FAILED" && v["failureCode"] == "transcode_failed" && !v.to_string().contains("1040")
        }),
        ("mediaconvert/job-state-canceled.json", |v| {
            v["status"] == "FAILED" && v["failureCode"] == "transcode_canceled"
        }),
        ("mediaconvert/job-state-new-warning.json", |v| v["status"] == "TRANSCODING"),
        ("mediaconvert/job-state-queue-hop.json", |v| v["status"] == "TRANSCODING"),
        ("mediaconvert/complete-hls-group.json", |v| v["status"] == "READY" && v["durationSeconds"] == 180.041),
        ("mediaconvert/complete-file-group.json", |v| v["status"] == "READY" && v["durationSeconds"] == 180.041),
        // The frame capture says 185.0 s (37 captures × 5 s); the video is 180.041 s.
        ("mediaconvert/complete-file-group-with-frame-capture.json", |v| {
            v["status"] == "READY" && v["durationSeconds"] == 180.041
        }),
        // Groups this suite never asks for: the job completed all the same.
        ("mediaconvert/complete-cmaf-group.json", |v| v["status"] == "READY"),
        ("mediaconvert/complete-dash-iso-group.json", |v| v["status"] == "READY"),
        ("mediaconvert/complete-ms-smooth-group.json", |v| v["status"] == "READY"),
    ];
    for (sample, check) in cases {
        // As published (no metadata of ours): nothing of ours changes, nothing fails.
        app.invoke("on-transcode-event", vendor_sample(sample)).await.unwrap_or_else(|e| panic!("{sample}: {e}"));
        let id = app.uploaded_video(&space, &host, vec![1u8; 256]).await;
        let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
        let event = about_our_job(vendor_sample(sample), &id, &job);
        app.invoke("on-transcode-event", event).await.unwrap_or_else(|e| panic!("{sample}: {e}"));
        let v = video(&app, &host, &id).await;
        assert!(check(&v), "{sample}: {v}");
    }
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

/// The S3 PUT notification of AWS's documentation, for our bucket and key.
fn s3_put(bucket: &str, key: &str, size: u64) -> Value {
    let mut event = vendor_sample("s3/notification-objectcreated-put.json");
    let s3 = &mut event["Records"][0]["s3"];
    s3["bucket"]["name"] = bucket.into();
    s3["bucket"]["arn"] = format!("arn:aws:s3:::{bucket}").into();
    s3["object"]["key"] = key.into();
    s3["object"]["size"] = size.into();
    event
}

#[tokio::test]
async fn s3_s_published_notifications_start_the_job_and_remove_foreign_objects() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let raw = app.stack.buckets.raw.clone();

    // The documented PUT notification, naming our upload: the job starts.
    let created = app.new_video(&space, &host, 256).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    app.upload_single(&created, vec![1u8; 256]).await;
    app.invoke("on-raw-upload", s3_put(&raw, &format!("raw/{id}"), 256)).await.expect("raw upload");
    let v = video(&app, &host, &id).await;
    assert_eq!(v["status"], "TRANSCODING", "{v}");
    assert_eq!(app.stack.mediaconvert.jobs().len(), 1);

    // Its own key, at the bucket's root: no upload of ours (they land under `raw/`, the prefix
    // the bucket notifies), left alone — the function may delete nothing outside `raw/`.
    app.put_object(&raw, "HappyFace.jpg", b"jpg".to_vec(), "image/jpeg").await;
    app.invoke("on-raw-upload", s3_put(&raw, "HappyFace.jpg", 3)).await.expect("foreign");
    assert!(app.object_exists(&raw, "HappyFace.jpg").await);
    // The runtime's samples with a key S3 encoded, under `raw/`: an object that names no video
    // is removed, by its decoded key.
    for sample in ["s3/rust-runtime-s3-event-url-encoded-key.json", "s3/rust-runtime-s3-event-with-decoded-key.json"] {
        app.put_object(&raw, "raw/Happy Face.jpg", b"jpg".to_vec(), "image/jpeg").await;
        let mut event = vendor_sample(sample);
        event["Records"][0]["s3"]["bucket"]["name"] = raw.clone().into();
        let key = &mut event["Records"][0]["s3"]["object"]["key"];
        assert_eq!(*key, "Happy%20Face.jpg", "{sample}");
        *key = "raw/Happy%20Face.jpg".into();
        app.invoke("on-raw-upload", event).await.unwrap_or_else(|e| panic!("{sample}: {e}"));
        assert!(!app.object_exists(&raw, "raw/Happy Face.jpg").await, "{sample}");
    }

    // The test message S3 sends when notifications are configured has no records: nothing to do.
    app.invoke("on-raw-upload", vendor_sample("s3/notification-test-event.json")).await.expect("test event");
    // The documentation's description of the fields (strings where numbers go) and an
    // EventBridge `Object Created` event (not this function's trigger) are refused as malformed,
    // touching nothing.
    for sample in ["s3/notification-structure-v2.2-placeholders.json", "s3/eventbridge-object-created.json"] {
        let got = app.invoke("on-raw-upload", vendor_sample(sample)).await;
        assert!(got.as_ref().is_err_and(|e| e.contains("malformed")), "{sample}: {got:?}");
    }
    assert_eq!(app.stack.mediaconvert.jobs().len(), 1, "no other job");
    assert_eq!(video(&app, &host, &id).await["status"], "TRANSCODING");

    // The same notification for a converted object: the first thumbnail is the poster, which
    // the READY video shows.
    let media = app.stack.buckets.media.clone();
    let thumb = format!("media/{id}/thumbnails/thumb.0000000.jpg");
    app.put_object(&media, &thumb, b"jpg".to_vec(), "image/jpeg").await;
    app.invoke("on-converted-output", s3_put(&media, &thumb, 3)).await.expect("converted");
    let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
    let complete = about_our_job(vendor_sample("mediaconvert/complete-file-group.json"), &id, &job);
    app.invoke("on-transcode-event", complete).await.expect("complete");
    let v = video(&app, &host, &id).await;
    assert_eq!(v["playback"]["thumbnails"]["count"], 1, "{v}");
    assert!(v["playback"]["posterUrl"].as_str().is_some_and(|u| u.contains("thumb.0000000.jpg")), "{v}");
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

#[tokio::test]
async fn transcribe_s_published_events_and_transcripts_become_the_video_s_searched_transcript() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    // Transcription on in English: each READY video's job starts with that language, which
    // Transcribe's output does not repeat (it names one only when it identified it).
    let setting = json!({ "transcription": { "enabled": true, "language": "en-US" } });
    let r = app.call(reqwest::Method::PATCH, &format!("/spaces/{space}"), Some(&host.token), Some(setting)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let media = app.stack.buckets.media.clone();
    let our_job = |mut event: Value, id: &str| {
        event["detail"]["TranscriptionJobName"] = app.transcription_job(id).into();
        event
    };
    let outputs = [
        ("transcribe/output-basic.json", "transcribe", "welcome"),
        ("transcribe/output-speaker-labels.json", "hold", "hour"),
        ("transcribe/output-channel-identification.json", "hold", "sorry"),
    ];
    // The documentation's event has placeholders (`"time": "timestamp"`): refused as malformed.
    let docs = vendor_sample("transcribe/eventbridge-job-state-change-docs.json");
    let got = app.invoke("on-transcribe-event", docs).await;
    assert!(got.as_ref().is_err_and(|e| e.contains("malformed")), "{got:?}");
    for (output, first, second) in outputs {
        {
            let event = "transcribe/eventbridge-job-state-completed.json";
            let id = app.ready_video(&space, &host).await;
            let key = format!("media/{id}/transcript/transcribe.json");
            app.put_object(&media, &key, vendor_sample(output).to_string().into_bytes(), "application/json").await;
            // As published, the job is not ours: ignored.
            app.invoke("on-transcribe-event", vendor_sample(event)).await.unwrap_or_else(|e| panic!("{event}: {e}"));
            app.invoke("on-transcribe-event", our_job(vendor_sample(event), &id))
                .await
                .unwrap_or_else(|e| panic!("{event} {output}: {e}"));
            let v = video(&app, &host, &id).await;
            assert_eq!(v["transcript"]["status"], "COMPLETED", "{output}: {v}");
            assert_eq!(v["captions"][0]["source"], "transcribe", "{output}: {v}");
            for word in [first, second] {
                let r = app.get(&format!("/videos/{id}/transcript?q={word}"), &host.token).await;
                assert!(r.body["items"][0]["matchSeconds"].as_f64().is_some(), "{output} {word}: {}", r.body);
            }
        }
    }
    // The published failure, for the job and each of its two retries (the retries started with
    // the function's own grants): the third is recorded.
    let id = app.ready_video(&space, &host).await;
    let job = app.transcription_job(&id);
    for (k, name) in [job.clone(), format!("{job}.2"), format!("{job}.3")].into_iter().enumerate() {
        let mut failed = our_job(vendor_sample("transcribe/eventbridge-job-state-failed.json"), &id);
        failed["detail"]["TranscriptionJobName"] = name.clone().into();
        app.invoke("on-transcribe-event", failed).await.expect("failed");
        let v = video(&app, &host, &id).await;
        let expected = if k < 2 { "IN_PROGRESS" } else { "FAILED" };
        assert_eq!(v["transcript"]["status"], expected, "{name}: {v}");
    }
    let v = video(&app, &host, &id).await;
    assert_eq!(v["transcript"]["failureCode"], "transcription_failed", "{v}");
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}
