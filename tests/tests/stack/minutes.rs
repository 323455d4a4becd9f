//! Costs bounded by what AWS bills, minutes: a lecture's length is read from its container before
//! any job (MediaConvert's `Probe`), a source longer than `MaxLectureSeconds` never starts a job,
//! each video's minutes are charged once to its creator's `DailyTranscodeMinutes` (and a
//! transcript's to `DailyTranscribeMinutes`) before its job starts, and over either the video (or
//! its transcript) fails with a fixed reason. A source whose container states no length is
//! charged the longest lecture, transcoded no further than that, and settled to what was
//! transcoded.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser, generated_clip, job_event, s3_event};

async fn usage(app: &TestApp, who: &TestUser) -> Value {
    app.get("/users/me", &who.token).await.body["usage"].clone()
}

async fn video(app: &TestApp, who: &TestUser, id: &str) -> Value {
    app.get(&format!("/videos/{id}"), &who.token).await.body
}

/// The CreateJob requests made for `id`.
fn jobs_of(app: &TestApp, id: &str) -> Vec<Value> {
    app.stack.mediaconvert.create_requests().into_iter().filter(|r| r["userMetadata"]["videoId"] == id).collect()
}

/// An H.264 clip of `seconds` at 160×90 and 5 frames a second, muxed as Matroska to a pipe, as a
/// recorder that cannot seek back writes it: its container states no length at all.
fn clip_without_length(seconds: u32) -> Vec<u8> {
    let source = format!("testsrc=duration={seconds}:size=160x90:rate=5");
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", &source])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-f", "matroska", "pipe:1"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run ffmpeg: {e}"));
    assert!(out.status.success() && !out.stdout.is_empty(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[tokio::test]
async fn a_lecture_longer_than_the_longest_allowed_fails_before_any_job_and_costs_nothing() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("MaxLectureSeconds".into(), "2".into());
        c.parameters.insert("DailyTranscodeMinutes".into(), "600".into());
    })
    .await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;

    let long = app.uploaded_video(&space, &host, generated_clip(3)).await;
    let v = video(&app, &host, &long).await;
    assert_eq!(v["status"], "FAILED", "{v}");
    assert_eq!(v["failureCode"], "lecture_too_long", "{v}");
    assert_eq!(v["failureReason"], "the video is longer than the longest lecture allowed");
    // Read from its container, before anything was paid for: no job, no minutes, no object left.
    let probes = app.stack.mediaconvert.probe_requests();
    let file = format!("s3://{}/raw/{long}", app.stack.buckets.raw);
    assert!(probes.iter().any(|p| p["inputFiles"][0]["fileUrl"] == file.as_str()), "{probes:?}");
    assert!(jobs_of(&app, &long).is_empty(), "no job for a lecture too long");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{long}")).await);
    let u = usage(&app, &host).await;
    assert_eq!(u["transcodeMinutesToday"], json!({ "used": 0, "limit": 600 }), "{u}");
    assert_eq!(u["lectureSeconds"], 2, "{u}");
    // Delivered again, it stays failed and starts nothing.
    app.invoke("on-raw-upload", s3_event(&app.stack.buckets.raw, &format!("raw/{long}"), 1)).await.expect("again");
    assert!(jobs_of(&app, &long).is_empty());

    // Within the limit: its job starts, clipped at the limit, its minute charged.
    let short = app.uploaded_video(&space, &host, generated_clip(1)).await;
    assert_eq!(video(&app, &host, &short).await["status"], "TRANSCODING");
    let jobs = jobs_of(&app, &short);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["settings"]["inputs"][0]["inputClippings"], json!([{ "endTimecode": "00:00:02:00" }]));
    assert_eq!(usage(&app, &host).await["transcodeMinutesToday"], json!({ "used": 1, "limit": 600 }));
    assert_eq!(app.stack.denied_grants(), [], "Probe is granted to on-raw-upload by the template");
}

#[tokio::test]
async fn each_video_is_charged_its_minutes_once_and_the_one_over_the_days_budget_fails() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("DailyTranscodeMinutes".into(), "1".into());
    })
    .await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let clip = generated_clip(1);

    let first = app.uploaded_video(&space, &host, clip.clone()).await;
    assert_eq!(video(&app, &host, &first).await["status"], "TRANSCODING");
    // S3 delivers a notification more than once: still one charge, one job.
    let event = s3_event(&app.stack.buckets.raw, &format!("raw/{first}"), clip.len() as u64);
    app.invoke("on-raw-upload", event).await.expect("again");
    assert_eq!(jobs_of(&app, &first).len(), 1);
    assert_eq!(usage(&app, &host).await["transcodeMinutesToday"], json!({ "used": 1, "limit": 1 }));
    // Its job is clipped at the minute it paid for, not at the longest lecture: a header that
    // understates a source's length buys no more transcoding than it was charged.
    let jobs = jobs_of(&app, &first);
    assert_eq!(jobs[0]["settings"]["inputs"][0]["inputClippings"], json!([{ "endTimecode": "00:01:00:00" }]));

    // The day's minute is spent: the next video fails before its job, with the fixed reason.
    let second = app.uploaded_video(&space, &host, clip.clone()).await;
    let v = video(&app, &host, &second).await;
    assert_eq!(v["status"], "FAILED", "{v}");
    assert_eq!(v["failureCode"], "transcode_minutes_exceeded", "{v}");
    assert_eq!(
        v["failureReason"],
        "today's transcoding minutes are used up; upload the video again after midnight UTC"
    );
    assert!(jobs_of(&app, &second).is_empty(), "no job over the budget");
    assert!(!app.object_exists(&app.stack.buckets.raw, &format!("raw/{second}")).await);
    let u = usage(&app, &host).await;
    assert_eq!(u["transcodeMinutesToday"], json!({ "used": 1, "limit": 1 }), "nothing charged for it: {u}");
    assert!(u["transcodeBudgetResetsAt"].as_str().is_some_and(|t| t.ends_with("T00:00:00.000Z")), "{u}");

    // The budget is the creator's: another host's lecture of the same day is transcoded.
    let other = app.user("Other").await;
    let theirs = app.space(&other, "Theirs").await;
    let third = app.uploaded_video(&theirs, &other, clip).await;
    assert_eq!(video(&app, &other, &third).await["status"], "TRANSCODING");
    assert_eq!(usage(&app, &other).await["transcodeMinutesToday"], json!({ "used": 1, "limit": 1 }));
}

#[tokio::test]
async fn a_source_that_states_no_length_is_charged_the_longest_lecture_clipped_there_and_settled() {
    let app = TestApp::spawn_configured(|c| {
        c.pipeline = true;
        c.parameters.insert("MaxLectureSeconds".into(), "120".into());
        c.parameters.insert("DailyTranscodeMinutes".into(), "600".into());
    })
    .await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Recorded in a browser").await;
    let ended = |v: &Value| v["status"] == "READY" || v["status"] == "FAILED";

    // 30 s it does not state: charged 120 s (2 minutes) before its job, settled to 1 after it.
    let short = app.uploaded_video(&space, &host, clip_without_length(30)).await;
    let v = app.wait_for_video(&host.token, &short, ended).await;
    assert_eq!(v["status"], "READY", "{v}");
    let seconds = v["durationSeconds"].as_f64().expect("duration");
    assert!((seconds - 30.0).abs() < 1.0, "{seconds}");
    assert_eq!(usage(&app, &host).await["transcodeMinutesToday"], json!({ "used": 1, "limit": 600 }));

    // 150 s it does not state: transcoded no further than the longest lecture (its cost and the
    // objects it writes bounded by it), charged 2 minutes.
    let long = app.uploaded_video(&space, &host, clip_without_length(150)).await;
    let v = app.wait_for_video(&host.token, &long, ended).await;
    assert_eq!(v["status"], "READY", "{v}");
    let seconds = v["durationSeconds"].as_f64().expect("duration");
    // At 120 s (the cut lands on the frame there, a frame more or less).
    assert!((119.0..=121.5).contains(&seconds), "clipped at 120 s: {seconds}");
    // A thumbnail every 5 s of the first 120 s, not the whole source's 30.
    let thumbnails = v["playback"]["thumbnails"]["count"].as_u64().expect("thumbnails");
    assert!((24..=25).contains(&thumbnails), "{thumbnails}");
    assert_eq!(usage(&app, &host).await["transcodeMinutesToday"], json!({ "used": 3, "limit": 600 }));
}

#[tokio::test]
async fn a_transcript_is_charged_before_its_job_and_over_the_days_minutes_it_fails_without_one() {
    // The sample job's outputs last 612.48 s: 11 minutes.
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("DailyTranscribeMinutes".into(), "11".into());
    })
    .await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Transcribed").await;
    let on = json!({ "transcription": { "enabled": true } });
    let r = app.call(Method::PATCH, &format!("/spaces/{space}"), Some(&host.token), Some(on)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    let first = app.ready_video(&space, &host).await;
    assert_eq!(video(&app, &host, &first).await["transcript"]["status"], "IN_PROGRESS");
    // COMPLETE delivered again: one job, one charge.
    let job_id = app
        .stack
        .mediaconvert
        .jobs()
        .into_iter()
        .find(|j| j.body["userMetadata"]["videoId"] == first.as_str())
        .map(|j| j.id)
        .expect("job");
    let complete = job_event("on-transcode-event", &first, &job_id, &app.stack.buckets.media);
    app.invoke("on-transcode-event", complete).await.expect("again");
    let started =
        |id: &str| app.stack.transcribe.jobs().into_iter().filter(|j| j.name == app.transcription_job(id)).count();
    assert_eq!(started(&first), 1);
    assert_eq!(usage(&app, &host).await["transcribeMinutesToday"], json!({ "used": 11, "limit": 11 }));

    // The day's transcription minutes are spent: the next READY video gets no job.
    let second = app.ready_video(&space, &host).await;
    let v = video(&app, &host, &second).await;
    assert_eq!(v["status"], "READY", "the video itself is fine: {v}");
    assert_eq!(v["transcript"]["status"], "FAILED", "{v}");
    assert_eq!(v["transcript"]["failureCode"], "transcribe_minutes_exceeded", "{v}");
    assert_eq!(v["transcript"]["failureReason"], "today's transcription minutes were used up when the video was ready");
    assert_eq!(started(&second), 0, "no transcription job over the budget");
    assert_eq!(usage(&app, &host).await["transcribeMinutesToday"], json!({ "used": 11, "limit": 11 }));
}
