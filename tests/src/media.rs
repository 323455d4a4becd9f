//! Videos through the pipeline's steps (created, uploaded, ready, transcribed), the event
//! functions run on their events, and the emulator's S3 objects.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{TestApp, TestUser, job_event, s3_event, sample_event};

impl TestApp {
    /// A video of `space` made `READY` without transcoding: uploaded, its job's master playlist
    /// put where the job writes it, and the job's `COMPLETE` event handled.
    pub async fn ready_video(&self, space: &str, host: &TestUser) -> String {
        let video = self.uploaded_video(space, host, vec![1u8; 256]).await;
        let job = self.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
        let media = self.stack.buckets.media.clone();
        let master =
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360\nindex_360p.m3u8\n";
        self.put_object(
            &media,
            &format!("media/{video}/hls/index.m3u8"),
            master.into(),
            "application/vnd.apple.mpegurl",
        )
        .await;
        self.invoke("on-transcode-event", job_event("on-transcode-event", &video, &job, &media)).await.expect("ready");
        // Members list it once it is READY, later than the list's index takes to catch up.
        self.indexes_settled().await;
        video
    }

    /// A `READY` video whose transcript has completed with `words` (word, start, end), as
    /// Transcribe's result and its job-state event deliver them.
    pub async fn transcribed_video(&self, space: &str, host: &TestUser, words: &[(&str, f64, f64)]) -> String {
        let video = self.ready_video(space, host).await;
        let items: Vec<Value> = words
            .iter()
            .map(|(w, s, e)| {
                serde_json::json!({ "type": "pronunciation", "start_time": format!("{s:.3}"), "end_time": format!("{e:.3}"),
                                    "alternatives": [{ "content": w }] })
            })
            .collect();
        let result = serde_json::json!({ "results": { "language_code": "en-US", "items": items } });
        let media = self.stack.buckets.media.clone();
        self.put_object(
            &media,
            &format!("media/{video}/transcript/transcribe.json"),
            result.to_string().into_bytes(),
            "application/json",
        )
        .await;
        let mut event = sample_event("on-transcribe-event");
        event["detail"]["TranscriptionJobName"] = self.transcription_job(&video).into();
        self.invoke("on-transcribe-event", event).await.expect("transcribed");
        self.indexes_settled().await;
        video
    }

    /// The name of a video's transcription job in this stack (`{stack}-{videoId}`).
    pub fn transcription_job(&self, video: &str) -> String {
        let stack = &self.stack.environments["on-transcribe-event"]["VIVID_APPLICATION"];
        vivid_domain::transcripts::JobNames::of_stack(stack).name(&video.parse().expect("a video id"))
    }

    /// Runs an event function's handler (built as its `main` builds it) on an event.
    pub async fn invoke(&self, function: &str, event: Value) -> Result<Value, String> {
        let handler = self.stack.event_handler(function).expect("event function");
        handler.handle(event).await.map_err(|e| e.to_string())
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&self.stack.sdk).force_path_style(true).build())
    }

    /// Whether an object exists in the emulator.
    pub async fn object_exists(&self, bucket: &str, key: &str) -> bool {
        self.s3().head_object().bucket(bucket).key(key).send().await.is_ok()
    }

    /// An object of the media bucket, as text.
    pub async fn get_object_text(&self, key: &str) -> String {
        let out = self.s3().get_object().bucket(&self.stack.buckets.media).key(key).send().await.expect("get object");
        let bytes = out.body.collect().await.expect("object body").into_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    pub async fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>, content_type: &str) {
        self.s3()
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .expect("put object");
    }

    /// Keys under a prefix.
    pub async fn list_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let out = self.s3().list_objects_v2().bucket(bucket).prefix(prefix).send().await.expect("list");
        out.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
    }

    /// Creates a video as `host` (201) and returns the body (video + upload instructions).
    pub async fn new_video(&self, space: &str, host: &TestUser, size: u64) -> Value {
        let r = self
            .post(
                &format!("/spaces/{space}/videos"),
                &host.token,
                serde_json::json!({
                    "title": "Lecture", "fileName": "lecture.mp4", "contentType": "video/mp4", "sizeBytes": size,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        self.indexes_settled().await;
        r.body
    }

    /// PUTs `body` to a single-PUT upload's presigned URL, as a browser would.
    pub async fn upload_single(&self, created: &Value, body: Vec<u8>) {
        let resp = self.put_presigned(&created["upload"], body).await;
        assert!(resp.status().is_success(), "{}", resp.status());
    }

    /// PUTs `body` to an upload's presigned URL with every header the instructions name (as a
    /// browser does: they are signed into the URL).
    pub async fn put_presigned(&self, upload: &Value, body: Vec<u8>) -> reqwest::Response {
        assert_eq!(upload["kind"], "single");
        let mut req = self.http.put(upload["url"].as_str().expect("url")).body(body);
        for (name, value) in upload["headers"].as_object().expect("headers") {
            req = req.header(name.as_str(), value.as_str().expect("header value"));
        }
        req.send().await.expect("presigned PUT")
    }

    /// A video uploaded and announced to `on-raw-upload`; returns its id.
    pub async fn uploaded_video(&self, space: &str, host: &TestUser, bytes: Vec<u8>) -> String {
        let created = self.new_video(space, host, bytes.len() as u64).await;
        let id = created["videoId"].as_str().expect("videoId").to_owned();
        let size = bytes.len() as u64;
        self.upload_single(&created, bytes).await;
        self.invoke("on-raw-upload", s3_event(&self.stack.buckets.raw, &format!("raw/{id}"), size))
            .await
            .expect("raw upload handled");
        id
    }
}

/// A `seconds`-long 640×360 H.264 clip made with ffmpeg's test source: real video bytes.
pub fn generated_clip(seconds: u32) -> Vec<u8> {
    generated_clip_as(&format!("{seconds}"), "yuv420p")
}

/// A generated H.264 clip of `seconds` (a decimal) in the pixel format `pix_fmt` (`yuv444p` is
/// what ffmpeg's own defaults give an RGB source; `yuv422p`, `yuv420p10le`, …).
pub fn generated_clip_as(seconds: &str, pix_fmt: &str) -> Vec<u8> {
    let clip = std::env::temp_dir().join(format!("vivid-clip-{}.mp4", ulid::Ulid::new()));
    let source = format!("testsrc=duration={seconds}:size=640x360:rate=25");
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", &source])
        .args(["-c:v", "libx264", "-pix_fmt", pix_fmt, "-preset", "veryfast"])
        .arg(&clip)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ffmpeg: {e} (install it: `make deps`)"));
    assert!(out.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&clip).expect("the clip");
    let _ = std::fs::remove_file(&clip);
    bytes
}

impl TestApp {
    /// Polls `GET /videos/{id}` until `done` holds (two minutes at most); the last answer.
    pub async fn wait_for_video(&self, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let v = self.get(&format!("/videos/{id}"), token).await.body;
            if done(&v) {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "timed out: {v}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Whether the raw bucket has no unfinished multipart upload.
    pub async fn no_multipart_uploads(&self) -> bool {
        let out = self.s3().list_multipart_uploads().bucket(&self.stack.buckets.raw).send().await.expect("list");
        out.uploads().is_empty()
    }
}
