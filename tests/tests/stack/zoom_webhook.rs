//! Zoom's webhook as Zoom sends it: the transcript comes minutes after the recording, in its own
//! `recording.transcript_completed` event, and a meeting recorded in several segments has a video
//! per segment. Through the stand-in, which speaks the shapes of Zoom's published examples.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use vivid_local::{
    infra::faults::{Fault, FaultRule},
    standins::zoom::{AddedMeeting, NewFile},
};
use vivid_tests::{TestApp, TestUser, generated_clip, job_event, s3_event};

const VTT: &str = "WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.000\nAna Li: Today we study eigenvalues.\n\n\
                   2\n00:00:02.000 --> 00:00:03.800\nAna Li: A matrix stretches vectors.\n";

async fn deliver(app: &TestApp, event: &Value) -> (u16, Value) {
    // Zoom's events come seconds to minutes apart, well after the indexes caught up (the
    // transcript's event finds the imports on one).
    app.indexes_settled().await;
    let zoom = &app.stack.zoom;
    zoom.deliver(&format!("{}/zoom/webhook", app.base), event, &zoom.webhook_secret).await
}

/// A meeting that ended a moment ago, its transcript still being made by Zoom.
fn fresh_meeting(app: &TestApp, topic: &str) -> AddedMeeting {
    let start = OffsetDateTime::now_utc() - Duration::hours(1);
    app.stack.zoom.add_meeting(
        topic,
        start,
        vec![NewFile::mp4(generated_clip(4)), NewFile::audio(), NewFile::chat(), NewFile::later_transcript(VTT)],
    )
}

async fn videos(app: &TestApp, host: &TestUser, space: &str) -> Vec<Value> {
    // The host lists the space after the import: its list reads an index.
    app.indexes_settled().await;
    let r = app.get(&format!("/spaces/{space}/videos"), &host.token).await;
    r.body["items"].as_array().cloned().unwrap_or_default()
}

fn captioned(v: &Value) -> bool {
    v["playback"]["hlsUrl"].as_str().is_some_and(|u| u.contains("/hls/captioned-"))
}

/// What a member sees of the video's captions and transcript once Zoom's transcript is in.
async fn assert_zoom_captions(app: &TestApp, host: &TestUser, space: &str, v: &Value) {
    let id = v["videoId"].as_str().expect("id");
    let tracks = v["captions"].as_array().cloned().unwrap_or_default();
    assert_eq!(tracks.len(), 1, "{v}");
    assert_eq!((tracks[0]["lang"].as_str(), tracks[0]["source"].as_str()), (Some("en"), Some("zoom")));
    assert_eq!(tracks[0]["cues"], 2);
    let master = app.http.get(v["playback"]["hlsUrl"].as_str().expect("hls")).send().await.expect("master");
    let master = master.text().await.unwrap_or_default();
    assert!(master.contains("#EXT-X-MEDIA:TYPE=SUBTITLES") && master.contains("LANGUAGE=\"en\""), "{master}");
    let r = app.get(&format!("/videos/{id}/transcript?q=matrix"), &host.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["items"][0]["matchSeconds"].as_f64().is_some(), "{}", r.body);
    let r = app.get(&format!("/spaces/{space}/search?q=eigenvalues"), &host.token).await;
    assert_eq!(r.body["items"][0]["videoId"], id, "{}", r.body);
}

#[tokio::test]
async fn given_zoom_s_transcript_after_the_import_is_ready_then_it_becomes_the_captions_and_transcript_once() {
    // Transcription on for new spaces (the stack's default): Zoom's recording still starts no
    // Transcribe job, its transcript being Zoom's.
    let app = TestApp::spawn_configured(|c| {
        c.pipeline = true;
        c.parameters.insert("TranscriptionDefault".into(), "on".into());
    })
    .await;
    let (host, space) = app.zoom_linked_host().await;
    let m = fresh_meeting(&app, "Lecture 11");
    let completed = app.stack.zoom.recording_completed_event(&m.meeting_id);
    let files = completed["payload"]["object"]["recording_files"].as_array().cloned().unwrap_or_default();
    assert!(files.iter().all(|f| f["file_type"] != "TRANSCRIPT"), "Zoom announces the transcript later");
    let (status, body) = deliver(&app, &completed).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(1)), "{body}");
    let id = videos(&app, &host, &space).await[0]["videoId"].as_str().expect("id").to_owned();
    let v = app.wait_for_video(&host.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(v["status"], "READY", "{v}");
    assert!(v["captions"].as_array().is_none_or(Vec::is_empty), "no transcript yet: {v}");

    // Minutes later: the transcript, announced in its own event; delivered twice.
    let transcript = app.stack.zoom.complete_transcripts(&m.meeting_id);
    let (status, body) = deliver(&app, &transcript).await;
    assert_eq!((status, body["transcripts"].as_u64()), (200, Some(1)), "{body}");
    let v = app
        .wait_for_video(&host.token, &id, |v| {
            captioned(v) && v["transcript"]["status"] == "COMPLETED" || v["status"] == "FAILED"
        })
        .await;
    assert_zoom_captions(&app, &host, &space, &v).await;
    // Zoom delivers it again: nothing is asked of the worker twice.
    let (status, body) = deliver(&app, &transcript).await;
    assert_eq!((status, body["transcripts"].as_u64()), (200, Some(0)), "{body}");
    assert!(app.stack.transcribe.jobs().is_empty());
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

#[tokio::test]
async fn given_zoom_s_transcript_before_the_import_finishes_then_the_video_is_ready_with_it() {
    let app = TestApp::spawn().await;
    let (host, space) = app.zoom_linked_host().await;
    let m = fresh_meeting(&app, "Lecture 12");
    let (status, _) = deliver(&app, &app.stack.zoom.recording_completed_event(&m.meeting_id)).await;
    assert_eq!(status, 200);
    let id = videos(&app, &host, &space).await[0]["videoId"].as_str().expect("id").to_owned();
    // The recording is in the raw bucket (Zoom had no transcript yet); the job starts.
    let raw = app.stack.buckets.raw.clone();
    let key = format!("raw/{id}");
    for _ in 0..200 {
        if app.object_exists(&raw, &key).await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let size = app.s3().head_object().bucket(&raw).key(&key).send().await.expect("raw").content_length();
    app.invoke("on-raw-upload", s3_event(&raw, &key, size.unwrap_or(0) as u64)).await.expect("job started");
    let v = app.get(&format!("/videos/{id}"), &host.token).await.body;
    assert_eq!(v["status"], "TRANSCODING", "{v}");

    // Zoom's transcript comes while the video transcodes.
    let (status, body) = deliver(&app, &app.stack.zoom.complete_transcripts(&m.meeting_id)).await;
    assert_eq!((status, body["transcripts"].as_u64()), (200, Some(1)), "{body}");
    let v = app.wait_for_video(&host.token, &id, |v| v["captions"].as_array().is_some_and(|c| !c.is_empty())).await;
    assert_eq!(v["status"], "TRANSCODING", "the transcript came first: {v}");
    assert!(!captioned(&v), "no master before READY: {v}");

    // The job completes: the master offers the track, the words are the transcript.
    let media = app.stack.buckets.media.clone();
    let master = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360\nindex_360p.m3u8\n";
    app.put_object(&media, &format!("media/{id}/hls/index.m3u8"), master.into(), "application/vnd.apple.mpegurl").await;
    let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
    app.invoke("on-transcode-event", job_event("on-transcode-event", &id, &job, &media)).await.expect("ready");
    let v = app.get(&format!("/videos/{id}"), &host.token).await.body;
    assert_eq!(v["status"], "READY", "{v}");
    assert!(captioned(&v), "{v}");
    assert_eq!(v["transcript"]["status"], "COMPLETED", "{v}");
    assert_zoom_captions(&app, &host, &space, &v).await;
}

#[tokio::test]
async fn given_a_meeting_recorded_in_two_segments_then_each_segment_is_a_video_imported_once() {
    let app = TestApp::spawn().await;
    let (host, space) = app.zoom_linked_host().await;
    let m = app.stack.zoom.add_meeting(
        "Lecture 13",
        OffsetDateTime::now_utc() - Duration::hours(2),
        vec![
            NewFile::mp4(vec![1u8; 64]),
            NewFile::speaker_mp4(vec![2u8; 64]),
            NewFile::audio(),
            NewFile::mp4(vec![3u8; 96]).in_segment(1),
            NewFile::speaker_mp4(vec![4u8; 96]).in_segment(1),
        ],
    );
    let event = app.stack.zoom.recording_completed_event(&m.meeting_id);
    let (status, body) = deliver(&app, &event).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(2)), "{body}");
    let (status, body) = deliver(&app, &event).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(0)), "a redelivery imports nothing: {body}");
    let mut list = videos(&app, &host, &space).await;
    list.sort_by_key(|v| v["title"].as_str().unwrap_or_default().to_owned());
    let titles: Vec<&str> = list.iter().filter_map(|v| v["title"].as_str()).collect();
    assert_eq!(titles, ["Lecture 13 (part 1 of 2)", "Lecture 13 (part 2 of 2)"]);
    // Each segment's shared screen: the stand-in's file sizes tell them apart.
    let sizes: Vec<u64> = list.iter().filter_map(|v| v["sizeBytes"].as_u64()).collect();
    assert_eq!(sizes, [64, 96], "{list:?}");
    // The listing shows each file's segment.
    let r = app.get("/zoom/recordings", &host.token).await;
    let files = r.body["items"][0]["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 4, "{}", r.body);
    let starts: std::collections::BTreeSet<&str> = files.iter().filter_map(|f| f["recordingStart"].as_str()).collect();
    assert_eq!(starts.len(), 2, "{}", r.body);
}

/// The import worker's transcript job, as the webhook starts it, run to its end.
async fn transcript_job(app: &TestApp, video: &str, user: &TestUser, reference: &str) -> Result<Value, String> {
    let job = json!({ "videoId": video, "userId": user.id(), "provider": "zoom", "recordingId": reference, "kind": "transcript" });
    app.invoke("import-worker", job).await
}

/// A fresh meeting imported by hand and READY (its transcript still pending at Zoom).
async fn imported_ready(app: &TestApp, host: &TestUser, space: &str, topic: &str) -> (String, String, String) {
    let m = fresh_meeting(app, topic);
    let import = json!({ "meetingId": m.meeting_id, "recordingFileId": m.file_ids[0], "title": topic });
    let r = app.post(&format!("/spaces/{space}/videos/zoom"), &host.token, import).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let id = r.body["videoId"].as_str().expect("id").to_owned();
    let v = app.wait_for_video(&host.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(v["status"], "READY", "{v}");
    let reference = format!("{}/{}", m.meeting_id, m.file_ids[0]);
    (id, m.meeting_id, reference)
}

#[tokio::test]
async fn given_zoom_failing_then_the_transcript_job_is_retried_and_another_user_s_job_changes_nothing() {
    let app = TestApp::spawn_pipeline().await;
    let (host, space) = app.zoom_linked_host().await;
    let zoom = &app.stack.zoom;
    let (id, meeting, reference) = imported_ready(&app, &host, &space, "Lecture 14").await;
    zoom.complete_transcripts(&meeting);

    // A job naming another user (not the video's importer) adds nothing.
    let other = app.user("Other").await;
    transcript_job(&app, &id, &other, &reference).await.expect("ignored");
    let v = app.get(&format!("/videos/{id}"), &host.token).await.body;
    assert!(v["captions"].as_array().is_none_or(Vec::is_empty), "{v}");

    // Zoom failing for now: the job fails, so that Lambda retries it; then it succeeds.
    zoom.set_mode(vivid_local::standins::platform::Mode::ServerError);
    let failed = transcript_job(&app, &id, &host, &reference).await;
    assert!(failed.as_ref().is_err_and(|e| e.contains("retry")), "{failed:?}");
    zoom.set_mode(vivid_local::standins::platform::Mode::Normal);
    transcript_job(&app, &id, &host, &reference).await.expect("retried");
    let v = app.get(&format!("/videos/{id}"), &host.token).await.body;
    assert_eq!(v["captions"][0]["source"], "zoom", "{v}");
    assert_eq!(v["transcript"]["status"], "COMPLETED", "{v}");
}

#[tokio::test]
async fn given_an_uploaded_english_track_then_zoom_s_late_transcript_does_not_replace_it() {
    let app = TestApp::spawn_pipeline().await;
    let (host, space) = app.zoom_linked_host().await;
    let (id, meeting, reference) = imported_ready(&app, &host, &space, "Lecture 15").await;
    // The host's own English track, before Zoom's transcript is done.
    let put = app
        .http
        .put(format!("{}/videos/{id}/captions/en", app.base))
        .bearer_auth(&host.token)
        .header("content-type", "text/vtt")
        .body("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nThe host's words\n")
        .send()
        .await
        .expect("put captions");
    assert_eq!(put.status(), StatusCode::CREATED);
    app.stack.zoom.complete_transcripts(&meeting);
    transcript_job(&app, &id, &host, &reference).await.expect("job");
    let v = app.get(&format!("/videos/{id}"), &host.token).await.body;
    assert_eq!(v["captions"].as_array().map(Vec::len), Some(1), "{v}");
    assert_ne!(v["captions"][0]["source"], "zoom", "{v}");
}

#[tokio::test]
async fn given_a_linked_space_that_is_full_then_the_delivery_is_answered_and_nothing_is_imported() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("MaxVideosPerSpace".into(), "1".into());
    })
    .await;
    let (host, space) = app.zoom_linked_host().await;
    app.uploaded_video(&space, &host, vec![1u8; 256]).await;
    let m = fresh_meeting(&app, "Lecture 16");
    // The full space is read to tell why the import cannot start (the function's grant allows
    // it): Zoom gets its 200, not a 500 it would retry for days.
    let (status, body) = deliver(&app, &app.stack.zoom.recording_completed_event(&m.meeting_id)).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(0)), "{body}");
    assert_eq!(videos(&app, &host, &space).await.len(), 1);
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

#[tokio::test]
async fn given_an_import_that_fails_then_its_claim_is_released_and_zoom_s_retry_imports_it() {
    let app = TestApp::spawn().await;
    let (host, space) = app.zoom_linked_host().await;
    let m = fresh_meeting(&app, "Lecture 17");
    let event = app.stack.zoom.recording_completed_event(&m.meeting_id);
    // The video's creation fails with an error that is not a "try again" (a transaction the table
    // refuses): the delivery answers 500, so Zoom delivers it again later.
    let faults = app.stack.faults();
    let rule = faults
        .add(FaultRule::dynamodb("TransactWriteItems", Fault::CancelTransaction("ValidationError".into())).times(1));
    let (status, body) = deliver(&app, &event).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(faults.fired(rule), 1);
    assert!(videos(&app, &host, &space).await.is_empty());
    // Zoom's retry: the claim was given back, the recording is imported now, and once.
    let (status, body) = deliver(&app, &event).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(1)), "{body}");
    let (status, body) = deliver(&app, &event).await;
    assert_eq!((status, body["imports"].as_u64()), (200, Some(0)), "{body}");
    let list = videos(&app, &host, &space).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["title"], "Lecture 17");
}
