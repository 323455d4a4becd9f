//! What MediaConvert takes, the MediaConvert stand-in takes: a 4:4:4 source (what ffmpeg's own
//! defaults make of an RGB picture), a 4:2:2 one and a 10-bit one are converted to the outputs'
//! 8-bit 4:2:0, as MediaConvert's H.264 outputs are. And what MediaConvert reports, the video
//! shows: its real duration (the frame captures' is longer: MediaConvert reports captures ×
//! interval), and the source's picture as `INPUT_INFORMATION` told it.

use reqwest::StatusCode;
use serde_json::Value;
use vivid_tests::{TestApp, generated_clip_as};

#[tokio::test]
async fn given_4_4_4_4_2_2_and_10_bit_sources_then_each_is_ready_with_its_real_duration_and_source() {
    let app = TestApp::spawn_pipeline().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Formats").await;
    for (pix_fmt, color, depth) in
        [("yuv444p", "YUV_444", 8), ("yuv422p", "YUV_422", 8), ("yuv420p10le", "YUV_420", 10)]
    {
        let id = app.uploaded_video(&space, &host, generated_clip_as("1.96", pix_fmt)).await;
        let v: Value =
            app.wait_for_video(&host.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
        assert_eq!(v["status"], "READY", "{pix_fmt}: {v}");
        // 1.96 s, not the frame captures' 5.0 s.
        let duration = v["durationSeconds"].as_f64().expect("duration");
        assert!((duration - 1.96).abs() < 0.1, "{pix_fmt}: {duration}");
        assert_eq!(v["playback"]["thumbnails"]["count"], 1, "{pix_fmt}: {v}");
        let source = &v["source"];
        assert_eq!((source["width"].as_u64(), source["height"].as_u64()), (Some(640), Some(360)), "{v}");
        assert_eq!((source["colorFormat"].as_str(), source["bitDepth"].as_u64()), (Some(color), Some(depth)), "{v}");
        assert_eq!(source["codec"], "H_264");
        // The MP4 plays: 8-bit 4:2:0, as players need.
        let mp4 = v["playback"]["mp4Url"].as_str().expect("mp4Url");
        let resp = app.http.get(mp4).send().await.expect("mp4");
        assert_eq!(resp.status(), StatusCode::OK);
        let file = std::env::temp_dir().join(format!("vivid-out-{id}.mp4"));
        std::fs::write(&file, resp.bytes().await.expect("bytes")).expect("write");
        let out = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=pix_fmt", "-of", "csv=p=0"])
            .arg(&file)
            .output()
            .expect("ffprobe");
        let _ = std::fs::remove_file(&file);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "yuv420p", "{pix_fmt}");
    }
}

#[tokio::test]
async fn given_a_job_the_stand_in_emits_what_mediaconvert_emits() {
    let app = TestApp::spawn_pipeline().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Events").await;
    let id = app.uploaded_video(&space, &host, generated_clip_as("1.96", "yuv420p")).await;
    let v = app.wait_for_video(&host.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(v["status"], "READY", "{v}");
    let events: Vec<Value> = app.stack.bus_events().into_iter().filter(|e| e["source"] == "aws.mediaconvert").collect();
    let statuses: Vec<&str> = events.iter().filter_map(|e| e["detail"]["status"].as_str()).collect();
    let at = |s: &str| statuses.iter().position(|x| *x == s).unwrap_or_else(|| panic!("no {s}: {statuses:?}"));
    assert!(at("PROGRESSING") < at("INPUT_INFORMATION") && at("INPUT_INFORMATION") < at("COMPLETE"), "{statuses:?}");
    let info = events.iter().find(|e| e["detail"]["status"] == "INPUT_INFORMATION").expect("INPUT_INFORMATION");
    let input = &info["detail"]["inputDetails"][0];
    assert_eq!(input["uri"], format!("s3://{}/raw/{id}", app.stack.buckets.raw).as_str());
    assert_eq!(input["video"][0]["width"], 640);
    // COMPLETE: the frame capture's duration is captures × interval, the videos' the video's.
    let complete = events.iter().find(|e| e["detail"]["status"] == "COMPLETE").expect("COMPLETE");
    let outputs: Vec<&Value> = complete["detail"]["outputGroupDetails"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["outputDetails"].as_array().into_iter().flatten())
        .collect();
    let capture = outputs
        .iter()
        .find(|o| o["outputFilePaths"][0].as_str().is_some_and(|p| p.ends_with(".jpg")))
        .expect("frame capture");
    assert_eq!(capture["durationInMs"], 5000, "{capture}");
    assert!(capture["outputFilePaths"][0].as_str().is_some_and(|p| p.ends_with("thumb.0000000.jpg")), "{capture}");
    let mp4 =
        outputs.iter().find(|o| o["outputFilePaths"][0].as_str().is_some_and(|p| p.ends_with(".mp4"))).expect("mp4");
    assert!((mp4["durationInMs"].as_u64().unwrap_or(0) as i64 - 1960).abs() < 100, "{mp4}");
}

#[tokio::test]
async fn given_a_lecture_then_its_outputs_notify_three_times_whatever_its_length() {
    let app = TestApp::spawn_pipeline().await;
    let host = app.user("Host").await;
    let space = app.space(&host, "Notifications").await;
    // 12 s: 3 thumbnails, 2 HLS segments a rendition, sprite sheets, playlists, the MP4.
    let id = app.uploaded_video(&space, &host, generated_clip_as("12", "yuv420p")).await;
    let v = app.wait_for_video(&host.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(v["status"], "READY", "{v}");
    let written = app.list_keys(&app.stack.buckets.media, &format!("media/{id}/")).await.len();
    // The notifications land a moment after the objects.
    let mut notified = 0;
    for _ in 0..100 {
        notified = app.stack.invocations("on-converted-output");
        if notified >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    println!("on-converted-output: {notified} invocations for {written} objects");
    assert_eq!(notified, 3, "the master, the MP4 and the first thumbnail ({written} objects written)");
    assert!(written > 10, "{written}");
    // The thumbnails' count came with COMPLETE, the poster with its own notification.
    assert_eq!(v["playback"]["thumbnails"]["count"], 3, "{v}");
    assert!(v["playback"]["posterUrl"].as_str().is_some_and(|u| u.contains("thumb.0000000.jpg")), "{v}");
}
