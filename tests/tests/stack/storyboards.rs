//! Storyboards: seek previews a player loads as a WebVTT track whose cues name regions of sprite
//! sheets. A real clip goes through the ffmpeg stand-in; a ten-hour lecture's outputs are
//! simulated to show what `GET /videos/{videoId}` costs then.

use reqwest::StatusCode;
use serde_json::Value;
use vivid_domain::storyboard;
use vivid_tests::{TestApp, generated_clip, job_event, s3_event};

/// One cue of a storyboard: its times and where it points.
#[derive(Debug)]
struct Cue {
    from: f64,
    to: f64,
    sheet: String,
    region: (u32, u32, u32, u32),
}

fn seconds(t: &str) -> f64 {
    let parts: Vec<f64> = t.split(':').map(|p| p.parse::<f64>().expect("time")).collect();
    parts.iter().fold(0.0, |acc, p| acc * 60.0 + p)
}

/// Parses a WebVTT storyboard as a player does.
fn parse(vtt: &str) -> Vec<Cue> {
    assert!(vtt.starts_with("WEBVTT"), "{vtt:.80}");
    vtt.split("\n\n")
        .skip(1)
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut lines = block.lines();
            let times = lines.next().expect("times");
            let (from, to) = times.split_once(" --> ").expect("arrow");
            let target = lines.next().expect("target");
            let (sheet, xywh) = target.split_once("#xywh=").expect("#xywh fragment");
            let n: Vec<u32> = xywh.split(',').map(|v| v.parse().expect("number")).collect();
            assert_eq!(n.len(), 4, "{target}");
            Cue { from: seconds(from), to: seconds(to), sheet: sheet.to_owned(), region: (n[0], n[1], n[2], n[3]) }
        })
        .collect()
}

async fn fetch(app: &TestApp, url: &str) -> Vec<u8> {
    let resp = app.http.get(url).send().await.expect("fetch");
    assert_eq!(resp.status(), StatusCode::OK, "{url}");
    resp.bytes().await.expect("body").to_vec()
}

#[tokio::test]
async fn given_a_transcoded_lecture_then_its_storyboard_parses_and_every_cue_lies_inside_its_sheet() {
    let app = TestApp::spawn_pipeline().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Optics").await;
    let id = app.uploaded_video(&space, &ana, generated_clip(23)).await;
    let video = app.wait_for_video(&ana.token, &id, |v| v["status"] == "READY" || v["status"] == "FAILED").await;
    assert_eq!(video["status"], "READY", "{video}");
    let playback = &video["playback"];
    let url = playback["storyboardUrl"].as_str().expect("storyboardUrl");
    let query = playback["signedQuery"].as_str().expect("signedQuery");
    let vtt = String::from_utf8(fetch(&app, url).await).expect("utf8");
    let cues = parse(&vtt);
    // A 23-second clip, a thumbnail every 5 seconds: five cues, back to back from 0 to the end.
    assert_eq!(cues.len(), 5, "{vtt}");
    assert_eq!(cues[0].from, 0.0);
    for pair in cues.windows(2) {
        assert_eq!(pair[0].to, pair[1].from, "{vtt}");
    }
    let duration = video["durationSeconds"].as_f64().expect("duration");
    assert!((cues[cues.len() - 1].to - duration).abs() < 0.01, "ends at {duration}: {vtt}");

    // Every region lies inside its sheet, the sheets served under the same grant.
    let base = url.split('?').next().expect("url").rsplit_once('/').expect("folder").0.to_owned();
    let dir = std::env::temp_dir().join(format!("vivid-storyboard-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let mut sheets = std::collections::HashMap::new();
    for cue in &cues {
        if !sheets.contains_key(&cue.sheet) {
            let path = dir.join(&cue.sheet);
            std::fs::write(&path, fetch(&app, &format!("{base}/{}?{query}", cue.sheet)).await).expect("sheet");
            sheets.insert(cue.sheet.clone(), vivid_local::standins::ffmpeg::dimensions(&path).await);
        }
        let (w, h) = sheets[&cue.sheet];
        let (x, y, cw, ch) = cue.region;
        assert!(cw > 0 && ch > 0, "{cue:?}");
        assert!(i64::from(x + cw) <= w && i64::from(y + ch) <= h, "{cue:?} outside a {w}x{h} sheet");
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(sheets.len(), 1);
    // The thumbnails are 160 px wide, ten to a row.
    assert_eq!(cues[1].region.0, 160);
    assert_eq!(sheets.values().next().map(|d| d.0), Some(1600));
}

#[tokio::test]
async fn given_a_ten_hour_lecture_then_get_video_stays_small_and_reads_one_video_item() {
    let app = TestApp::spawn().await;
    let ana = app.user("Ana").await;
    let space = app.space(&ana, "Marathon").await;
    let video = app.uploaded_video(&space, &ana, vec![1u8; 256]).await;
    let job = app.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
    let media = app.stack.buckets.media.clone();
    // What the job of a ten-hour lecture leaves: a master naming its image playlist, 72 sheets of
    // 100 thumbnails, and 7,200 frame captures.
    let hours = 10.0 * 3600.0;
    let hls = format!("media/{video}/hls");
    let master = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360\nindex_360p.m3u8\n\
                  #EXT-X-IMAGE-STREAM-INF:BANDWIDTH=20000,RESOLUTION=1600x900,CODECS=\"jpeg\",URI=\"index_thumb.m3u8\"\n";
    app.put_object(&media, &format!("{hls}/index.m3u8"), master.into(), "application/vnd.apple.mpegurl").await;
    let sheets = 72;
    let playlist = storyboard::image_playlist(
        |k| format!("index_thumb_{:05}.jpg", k + 1),
        sheets,
        hours,
        (160, 90),
        (10, 10),
        5.0,
    );
    app.put_object(&media, &format!("{hls}/index_thumb.m3u8"), playlist.into(), "application/vnd.apple.mpegurl").await;
    // The first capture is notified (the poster); COMPLETE names the last (MediaConvert's
    // frame-capture output), which gives the count.
    let first = format!("media/{video}/thumbnails/thumb.{:07}.jpg", 0);
    app.put_object(&media, &first, vec![0xFF, 0xD8, 0xFF], "image/jpeg").await;
    app.invoke("on-converted-output", s3_event(&media, &first, 3)).await.expect("poster recorded");
    let text = job_event("on-transcode-event", &video, &job, &media).to_string();
    let mut complete: Value =
        serde_json::from_str(&text.replace("thumb.0000122.jpg", "thumb.0007199.jpg")).expect("event");
    for group in complete["detail"]["outputGroupDetails"].as_array_mut().expect("groups") {
        for output in group["outputDetails"].as_array_mut().into_iter().flatten() {
            output["durationInMs"] = Value::from(36_000_000u64);
        }
    }
    app.invoke("on-transcode-event", complete).await.expect("complete");

    let before = app.stack.dynamodb_calls();
    let resp = app.http.get(format!("{}/videos/{video}", app.base)).bearer_auth(&ana.token).send().await.expect("get");
    let calls = app.stack.dynamodb_calls() - before;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.bytes().await.expect("body");
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!((v["status"].as_str(), v["durationSeconds"].as_f64()), (Some("READY"), Some(hours)));
    assert_eq!(v["playback"]["thumbnails"]["count"], 7200);
    println!("GET /videos/{{id}} of a ten-hour lecture: {} bytes, {calls} DynamoDB requests", body.len());
    // Six signed URLs and the grant's query (about 700 bytes each), whatever the length: a list of
    // every thumbnail would be 0.5 MB an hour.
    assert!(body.len() < 8 * 1024, "{} bytes", body.len());
    // The video item (consistent GetItem), then the space, membership and progress in one batch.
    assert_eq!(calls, 2);

    // The storyboard holds the ten hours: 7,200 cues over 72 sheets.
    let url = v["playback"]["storyboardUrl"].as_str().expect("storyboardUrl");
    let vtt = String::from_utf8(fetch(&app, url).await).expect("utf8");
    let cues = parse(&vtt);
    assert_eq!(cues.len(), 7200);
    assert_eq!(cues.last().map(|c| (c.to, c.sheet.as_str())), Some((hours, "index_thumb_00072.jpg")));
    assert!(cues.iter().all(|c| c.region.0 + c.region.2 <= 1600 && c.region.1 + c.region.3 <= 900));
}
