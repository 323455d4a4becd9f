//! Automatic transcripts: a lecture spoken by festival goes through upload → READY → a
//! transcription job (the local stand-in recognises it with pocketsphinx) → captions and a
//! searchable transcript whose words are found at the times they are spoken.

use std::{path::Path, process::Command, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vivid_tests::{TestApp, TestUser};

const LECTURE: &str = "Today we study linear algebra. The eigenvalue of a matrix tells us how a vector is stretched.";

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("the command runs");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A spoken lecture as an MP4: festival's voice over a test picture.
fn spoken_clip(dir: &Path) -> Vec<u8> {
    let text = dir.join("lecture.txt");
    let wav = dir.join("lecture.wav");
    let mp4 = dir.join("lecture.mp4");
    std::fs::write(&text, LECTURE).expect("text");
    run(Command::new("text2wave").arg(&text).arg("-o").arg(&wav));
    run(Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x180:rate=25")
        .arg("-i")
        .arg(&wav)
        .args(["-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", "48000"])
        .arg(&mp4));
    std::fs::read(&mp4).expect("mp4")
}

async fn with_transcription(app: &TestApp, space: &str, host: &TestUser) {
    let r = app
        .call(
            Method::PATCH,
            &format!("/spaces/{space}"),
            Some(&host.token),
            Some(json!({ "transcription": { "enabled": true, "language": "en-US" } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["transcription"], json!({ "enabled": true, "language": "en-US" }));
}

async fn wait_for_transcript(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..240 {
        let v = app.get(&format!("/videos/{id}"), token).await.body;
        if matches!(v["transcript"]["status"].as_str(), Some("COMPLETED" | "FAILED")) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no transcript within a minute");
}

#[tokio::test]
async fn given_a_spoken_lecture_then_its_words_are_found_in_the_transcript_at_the_times_they_are_spoken() {
    let app = TestApp::spawn_pipeline().await;
    let ana = app.user("Ana").await;
    let bo = app.user("Bo").await;
    let space = app.space(&ana, "Linear algebra").await;
    app.join(&space, &ana, &bo).await;
    with_transcription(&app, &space, &ana).await;
    let dir = std::env::temp_dir().join(format!("vivid-lecture-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let clip = spoken_clip(&dir);
    let _ = std::fs::remove_dir_all(&dir);

    // Transcribe fails the first job now and then (throttled, interrupted): its retry makes it.
    app.stack.transcribe.fail_next_jobs(1);
    let id = app.uploaded_video(&space, &ana, clip).await;
    let ready = app.wait_for_video(&ana.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(ready["status"], "READY", "{ready}");
    let v = wait_for_transcript(&app, &ana.token, &id).await;
    assert_eq!(v["transcript"]["status"], "COMPLETED", "{v}");
    assert_eq!(v["transcript"]["language"], "en-US");
    let job = app.transcription_job(&id);
    let jobs: Vec<(String, String)> = app
        .stack
        .transcribe
        .jobs()
        .into_iter()
        .filter(|j| j.name.starts_with(&job))
        .map(|j| (j.name, j.status))
        .collect();
    assert_eq!(
        jobs,
        [(job.clone(), "FAILED".to_owned()), (format!("{job}.2"), "COMPLETED".to_owned())],
        "a job named after the video failed, its retry named after its attempt made the transcript"
    );

    // The words a student looks for, where they are spoken (festival says "algebra" at about
    // 1.5 s and "matrix" at about 3.8 s; the recogniser's times are within half a second).
    let find = |q: &'static str| {
        let (app, token, id) = (&app, bo.token.clone(), id.clone());
        async move {
            let r = app.get(&format!("/videos/{id}/transcript?q={q}"), &token).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {:?}", r.body);
            r.body["items"].as_array().cloned().unwrap_or_default()
        }
    };
    let algebra = find("algebra").await;
    let matrix = find("matrix").await;
    println!("algebra: {algebra:?}\nmatrix: {matrix:?}");
    let at = |items: &[Value]| items.first().and_then(|i| i["matchSeconds"].as_f64()).expect("a match");
    assert!((1.0..=2.6).contains(&at(&algebra)), "{algebra:?}");
    assert!((3.3..=5.0).contains(&at(&matrix)), "{matrix:?}");
    assert!(algebra[0]["text"].as_str().is_some_and(|t| t.contains("algebra")), "{algebra:?}");
    for item in algebra.iter().chain(&matrix) {
        let (s, e, m) = (item["startSeconds"].as_f64(), item["endSeconds"].as_f64(), item["matchSeconds"].as_f64());
        assert!(s <= m && m < e, "the match lies in its cue: {item}");
    }
    assert!(find("photosynthesis").await.is_empty());

    // The space's search finds the lecture by what is said in it, at the moment it is said.
    let r = app.get(&format!("/spaces/{space}/search?q=algebra"), &bo.token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let hit = r.body["items"].as_array().and_then(|i| i.first()).cloned().expect("the lecture is found");
    assert_eq!((hit["videoId"].as_str(), hit["matchedIn"].clone()), (Some(id.as_str()), json!(["transcript"])));
    let moment = hit["moments"][0].as_f64().expect("a moment");
    assert!((1.0..=2.6).contains(&moment), "{hit}");

    // The transcript is also a caption track, offered to players.
    let track = v["captions"].as_array().and_then(|c| c.iter().find(|t| t["source"] == "transcribe")).cloned();
    let track = track.expect("an automatic caption track");
    assert_eq!(track["lang"], "en-US");
    let url = v["playback"]["captions"]
        .as_array()
        .and_then(|c| c.iter().find(|t| t["lang"] == "en-US"))
        .and_then(|t| t["url"].as_str())
        .expect("signed");
    let vtt = app.http.get(url).send().await.expect("vtt").text().await.expect("text");
    assert!(vtt.starts_with("WEBVTT") && vtt.contains("algebra"), "{vtt}");

    // Deleting the video leaves no captions, transcript or result behind.
    app.delete_and_wait(&format!("/videos/{id}"), &ana.token).await;
    let left = app.list_keys(&app.stack.buckets.media, &format!("media/{id}/")).await;
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn given_transcription_off_or_a_failing_job_then_it_is_retried_twice_and_members_learn_why() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Quiet").await;
    // Off (the tests' TranscriptionDefault; the stack's is on): a READY video starts no job.
    let quiet = app.ready_video(&space, &ana).await;
    assert!(app.stack.transcribe.jobs().is_empty());
    assert!(app.get(&format!("/videos/{quiet}"), &ana.token).await.body.get("transcript").is_none());
    assert_eq!(app.get(&format!("/videos/{quiet}/transcript"), &ana.token).await.status, StatusCode::NOT_FOUND);

    // On, identifying the language: the job starts once, however often the completion comes.
    let r = app
        .call(
            Method::PATCH,
            &format!("/spaces/{space}"),
            Some(&ana.token),
            Some(json!({ "transcription": { "enabled": true } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let video = app.ready_video(&space, &ana).await;
    let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
    let media = app.stack.buckets.media.clone();
    app.invoke("on-transcode-event", vivid_tests::job_event("on-transcode-event", &video, &job, &media))
        .await
        .expect("again");
    let jobs: Vec<_> =
        app.stack.transcribe.jobs().into_iter().filter(|j| j.name == app.transcription_job(&video)).collect();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].request["IdentifyLanguage"], true);
    assert_eq!(jobs[0].request["OutputBucketName"], media.as_str());
    assert_eq!(app.get(&format!("/videos/{video}"), &ana.token).await.body["transcript"]["status"], "IN_PROGRESS");

    // A failed job is retried twice, each retry a job of its own; the third failure is recorded,
    // with its reason.
    let job = app.transcription_job(&video);
    let fail = |name: &str| {
        let mut e = vivid_tests::sample_event("on-transcribe-event-failed");
        e["detail"]["TranscriptionJobName"] = name.into();
        e
    };
    let started = |app: &TestApp| -> Vec<String> { app.stack.transcribe.jobs().into_iter().map(|j| j.name).collect() };
    for (attempt, name) in [(2, job.clone()), (3, format!("{job}.2"))] {
        app.invoke("on-transcribe-event", fail(&name)).await.expect("retried");
        let v = app.get(&format!("/videos/{video}"), &ana.token).await.body;
        assert_eq!(v["transcript"]["status"], "IN_PROGRESS", "{name} failed, a retry runs: {v}");
        assert!(started(&app).contains(&format!("{job}.{attempt}")), "{:?}", started(&app));
    }
    app.invoke("on-transcribe-event", fail(&format!("{job}.3"))).await.expect("recorded");
    let v = app.get(&format!("/videos/{video}"), &ana.token).await.body;
    assert_eq!(v["transcript"]["status"], "FAILED", "{v}");
    let of_video = |app: &TestApp| started(app).into_iter().filter(|n| n.starts_with(&job)).collect::<Vec<_>>();
    assert_eq!(of_video(&app), [job.clone(), format!("{job}.2"), format!("{job}.3")], "three jobs, then no more");
    // The first job's failure delivered again, late: the last attempt's state stays.
    app.invoke("on-transcribe-event", fail(&job)).await.expect("ignored");
    assert_eq!(of_video(&app).len(), 3);
    assert_eq!(app.get(&format!("/videos/{video}"), &ana.token).await.body["transcript"], v["transcript"]);
    // Transcribe's own words (they name the media's URI) stay in the log.
    assert_eq!(v["transcript"]["failureCode"], "transcription_failed", "{v}");
    assert_eq!(v["transcript"]["failureReason"], "the transcription failed", "{v}");
    assert!(!v.to_string().contains("media format"), "{v}");
    assert_eq!(app.get(&format!("/videos/{video}/transcript"), &ana.token).await.status, StatusCode::NOT_FOUND);

    // Bad settings and bad queries.
    for body in [
        json!({ "transcription": { "enabled": true, "language": "english" } }),
        json!({ "transcription": { "language": "en-US" } }),
        json!({ "transcription": null }),
    ] {
        let r = app.call(Method::PATCH, &format!("/spaces/{space}"), Some(&ana.token), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", r.body);
    }
    let words = [("eigenvalues", 1.0, 1.6)];
    let done = app.transcribed_video(&space, &ana, &words).await;
    let long = "x".repeat(201);
    assert_eq!(
        app.get(&format!("/videos/{done}/transcript?q={long}"), &ana.token).await.status,
        StatusCode::BAD_REQUEST
    );
    let r = app.get(&format!("/videos/{done}/transcript?q=eigen"), &ana.token).await;
    assert_eq!(r.body["items"][0]["matchSeconds"], 1.0, "{:?}", r.body);
}

/// Transcribe keeps running after a video is deleted: its result lands under `media/{videoId}/`
/// once the deletion emptied that prefix, and the job's event comes after. The handler removes
/// what Transcribe wrote, and writes nothing else for a video that is gone or being deleted.
#[tokio::test]
async fn given_a_video_deleted_while_transcribing_then_the_late_result_is_removed_and_nothing_written() {
    let app = TestApp::spawn().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let video = app.ready_video(&space, &host).await;
    app.delete_and_wait(&format!("/videos/{video}"), &host.token).await;

    let media = app.stack.buckets.media.clone();
    let result = format!("media/{video}/transcript/transcribe.json");
    let body = json!({ "results": { "language_code": "en-US", "items": [
        { "type": "pronunciation", "start_time": "0.100", "end_time": "0.500", "alternatives": [{ "content": "matrix" }] }
    ] } });
    app.put_object(&media, &result, body.to_string().into_bytes(), "application/json").await;
    let mut event = vivid_tests::sample_event("on-transcribe-event");
    event["detail"]["TranscriptionJobName"] = app.transcription_job(&video).into();
    app.invoke("on-transcribe-event", event.clone()).await.expect("handled");
    assert!(!app.object_exists(&media, &result).await, "the late result is removed");
    assert!(app.list_keys(&media, &format!("media/{video}/")).await.is_empty(), "nothing of the video is left");
    assert!(
        !format!("{:?}", app.scan_all().await).contains(&video),
        "no item names the deleted video (no transcript state, no postings)"
    );
    // A redelivery finds nothing to do.
    app.invoke("on-transcribe-event", event).await.expect("handled again");
    assert_eq!(app.stack.denied_grants(), [], "every call allowed by the function's template policy");
}

/// The stack's `TranscriptionDefault` (`on` unless a deployment says `off`): a new course space
/// transcribes its lectures, and its host may turn it off; the personal space starts off.
#[tokio::test]
async fn given_the_stack_s_default_on_then_a_new_space_transcribes_until_its_host_turns_it_off() {
    let app = TestApp::spawn_configured(|c| {
        c.parameters.insert("TranscriptionDefault".into(), "on".into());
    })
    .await;
    let ana = app.user("Ana").await;
    let r = app.post("/spaces", &ana.token, json!({ "name": "Linear algebra" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["transcription"], json!({ "enabled": true }), "on, the language identified");
    let space = r.body["spaceId"].as_str().expect("id").to_owned();
    let lecture = app.ready_video(&space, &ana).await;
    let jobs: Vec<_> =
        app.stack.transcribe.jobs().into_iter().filter(|j| j.name == app.transcription_job(&lecture)).collect();
    assert_eq!(jobs.len(), 1, "a READY lecture's transcript started");
    assert_eq!(jobs[0].request["IdentifyLanguage"], true);

    let r = app
        .call(
            Method::PATCH,
            &format!("/spaces/{space}"),
            Some(&ana.token),
            Some(json!({ "transcription": { "enabled": false } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let quiet = app.ready_video(&space, &ana).await;
    assert!(app.stack.transcribe.jobs().iter().all(|j| j.name != app.transcription_job(&quiet)), "off: no job");
    let spaces = app.get("/spaces", &ana.token).await.body;
    let personal = spaces["items"].as_array().into_iter().flatten().find(|s| s["personal"] == true).cloned();
    let personal = personal.expect("the personal space");
    assert!(personal.get("transcription").is_none_or(|t| t["enabled"] != true), "{personal}");
}
