//! What a person does on the local stack (SPEC §8): sign in through the Google stand-in, create a
//! space and a video, PUT a real clip to the presigned URL, watch the status move to `READY`
//! while the MediaConvert stand-in runs the real job settings with ffmpeg, then play the HLS
//! renditions and the MP4 through the signed playback URLs. A corrupt upload ends `FAILED`.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use vivid_tests::TestApp;

fn run(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (install ffmpeg: `make deps`)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A 10-second 1280×720 clip with a tone, made with ffmpeg's test sources.
fn make_clip(dir: &Path) -> PathBuf {
    let clip = dir.join("clip.mp4");
    run(std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=10:size=1280x720:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=10",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-preset",
            "veryfast",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(&clip));
    clip
}

/// Width, height and duration of a media file.
fn probe(file: &Path) -> (i64, i64, f64) {
    let out = run(std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height:format=duration",
            "-of",
            "json",
        ])
        .arg(file));
    let v: Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    (
        v["streams"][0]["width"].as_i64().unwrap_or(0),
        v["streams"][0]["height"].as_i64().unwrap_or(0),
        v["format"]["duration"].as_str().and_then(|d| d.parse().ok()).unwrap_or(0.0),
    )
}

async fn fetch(app: &TestApp, url: &str) -> Vec<u8> {
    let resp = app.http.get(url).send().await.expect("fetch");
    assert_eq!(resp.status(), StatusCode::OK, "{url}");
    resp.bytes().await.expect("bytes").to_vec()
}

/// Polls the video until it is `READY` or `FAILED`, recording every status and percentage seen.
async fn wait_for_end(app: &TestApp, token: &str, id: &str) -> (Value, Vec<(String, Option<i64>)>) {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut seen: Vec<(String, Option<i64>)> = Vec::new();
    loop {
        let v = app.get(&format!("/videos/{id}"), token).await.body;
        let step = (v["status"].as_str().unwrap_or("").to_owned(), v["percentComplete"].as_i64());
        if seen.last() != Some(&step) {
            seen.push(step);
        }
        if v["status"] == "READY" || v["status"] == "FAILED" {
            return (v, seen);
        }
        assert!(Instant::now() < deadline, "no end after 180 s: {seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_person_uploads_a_clip_and_plays_it() {
    let app = TestApp::spawn_pipeline().await;
    let work = std::env::temp_dir().join(format!("vivid-e2e-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&work).expect("work dir");
    let clip = make_clip(&work);
    let bytes = std::fs::read(&clip).expect("clip");

    let me = app.browser_sign_in("ana@example.com", "Ana").await;
    let token = me.access_token.clone();
    let space = app.post("/spaces", &token, json!({ "name": "Physics 101" })).await.body["spaceId"]
        .as_str()
        .expect("space")
        .to_owned();
    let created = app
        .post(
            &format!("/spaces/{space}/videos"),
            &token,
            json!({
                "title": "Waves", "fileName": "waves.mp4", "contentType": "video/mp4", "sizeBytes": bytes.len(),
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["videoId"].as_str().expect("id").to_owned();

    let started = Instant::now();
    app.upload_single(&created.body, bytes).await;
    let (video, seen) = wait_for_end(&app, &token, &id).await;
    let elapsed = started.elapsed();
    println!("PUT to READY for a 10-second clip: {:.1} s; statuses seen: {seen:?}", elapsed.as_secs_f64());
    assert_eq!(video["status"], "READY", "{video}");
    assert!(seen.iter().any(|(s, _)| s == "TRANSCODING"), "{seen:?}");
    assert!(
        seen.iter().any(|(s, p)| s == "TRANSCODING" && p.is_some_and(|p| p > 0 && p < 100)),
        "percentages move: {seen:?}"
    );
    let duration = video["durationSeconds"].as_f64().expect("duration");
    assert!((duration - 10.0).abs() < 0.5, "{duration}");

    let playback = &video["playback"];
    let query = playback["signedQuery"].as_str().expect("signed query");
    let master = String::from_utf8(fetch(&app, playback["hlsUrl"].as_str().expect("hls")).await).expect("utf8");
    let variants: Vec<&str> = master.lines().filter(|l| l.ends_with(".m3u8")).collect();
    assert_eq!(variants.len(), 3, "{master}");
    let cdn_dir = format!("{}/_local/cdn/media/{id}/hls/", app.base);
    let mut sizes = Vec::new();
    for variant in variants {
        let playlist = String::from_utf8(fetch(&app, &format!("{cdn_dir}{variant}?{query}")).await).expect("utf8");
        let segment = playlist.lines().find(|l| l.ends_with(".ts")).expect("a segment").to_owned();
        let file = work.join(&segment);
        std::fs::write(&file, fetch(&app, &format!("{cdn_dir}{segment}?{query}")).await).expect("segment");
        let (w, h, _) = probe(&file);
        sizes.push((w, h));
        // Segments are cut at the settings' length (6 s, fixed GOP): a 10-second clip makes two.
        assert_eq!(playlist.lines().filter(|l| l.ends_with(".ts")).count(), 2, "{playlist}");
    }
    assert_eq!(sizes, vec![(640, 360), (960, 540), (1280, 720)]);
    let mp4 = work.join("video.mp4");
    std::fs::write(&mp4, fetch(&app, playback["mp4Url"].as_str().expect("mp4")).await).expect("mp4");
    let (w, h, d) = probe(&mp4);
    assert_eq!((w, h), (1280, 720));
    assert!((d - 10.0).abs() < 0.5, "{d}");
    // Without the signature, nothing plays.
    let unsigned = playback["mp4Url"].as_str().expect("mp4").split('?').next().expect("url").to_owned();
    assert_eq!(app.http.get(&unsigned).send().await.expect("cdn").status(), StatusCode::FORBIDDEN);

    // Thumbnails (every 5 s) land too; the first is the poster.
    let deadline = Instant::now() + Duration::from_secs(30);
    let playback = loop {
        let v = app.get(&format!("/videos/{id}"), &token).await.body;
        if v["playback"]["thumbnails"]["count"].as_u64().is_some_and(|n| n >= 2)
            && v["playback"]["posterUrl"].is_string()
        {
            break v["playback"].clone();
        }
        assert!(Instant::now() < deadline, "no thumbnails: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(playback["posterUrl"].as_str().is_some_and(|u| u.contains("thumb.0000000.jpg")));
    let poster = fetch(&app, playback["posterUrl"].as_str().expect("poster")).await;
    assert_eq!(&poster[..2], &[0xff, 0xd8], "a JPEG");
    let _ = std::fs::remove_dir_all(&work);
}

#[tokio::test]
async fn a_corrupt_upload_ends_failed_with_a_reason() {
    let app = TestApp::spawn_pipeline().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Course").await;
    let garbage: Vec<u8> = (0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let created = app.new_video(&space, &host, garbage.len() as u64).await;
    let id = created["videoId"].as_str().expect("id").to_owned();
    app.upload_single(&created, garbage).await;
    let (video, seen) = wait_for_end(&app, &host.token, &id).await;
    assert_eq!(video["status"], "FAILED", "{seen:?}");
    // The fixed reason: MediaConvert's own message (the demuxer's words) stays in the log.
    assert_eq!(video["failureCode"], "transcode_failed", "{video}");
    let reason = video["failureReason"].as_str().expect("reason");
    assert!(reason.starts_with("the video could not be converted") && !reason.contains("Demuxer"), "{reason}");
}
