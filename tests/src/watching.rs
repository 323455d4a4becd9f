//! Watching as the player reports it (issue 29): completion is watched coverage (90 % of a
//! video's 2-second buckets by default), taken from `POST /videos/{videoId}/watching`; a
//! progress write's rate is the client's claim and completes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{TestApp, TestUser, job_event};

/// The fastest playback rate a report may claim: a report of `[start, end)` claims
/// `(end − start) / 4` seconds of wall time.
const FASTEST: f64 = 4.0;

impl TestApp {
    /// A `READY` video `seconds` long, as MediaConvert's `COMPLETE` event reports its outputs'
    /// length: `ceil(seconds / 2)` coverage buckets (a 200 s lecture has 100, one per percent).
    pub async fn lecture(&self, space: &str, host: &TestUser, seconds: u64) -> String {
        let id = self.uploaded_video(space, host, vec![3u8; 256]).await;
        let media = self.stack.buckets.media.clone();
        self.put_object(&media, &format!("media/{id}/hls/index.m3u8"), b"#EXTM3U\n".to_vec(), "application/x-mpegurl")
            .await;
        let job = self.stack.mediaconvert.jobs().last().map(|j| j.id.clone()).expect("job");
        let mut event = job_event("on-transcode-event", &id, &job, &media);
        for group in event["detail"]["outputGroupDetails"].as_array_mut().expect("groups") {
            for output in group["outputDetails"].as_array_mut().into_iter().flatten() {
                output["durationInMs"] = Value::from(seconds * 1000);
            }
        }
        self.invoke("on-transcode-event", event).await.expect("complete");
        self.indexes_settled().await;
        let v = self.get(&format!("/videos/{id}"), &host.token).await;
        assert_eq!(
            (v.body["status"].as_str(), v.body["durationSeconds"].as_f64()),
            (Some("READY"), Some(seconds as f64)),
            "{:?}",
            v.body
        );
        id
    }

    /// The player of the bearer of `token` reports, in a player session of its own (a page
    /// load), that it played `[start, end)` at 4×: the report must be taken (200, not a replay).
    /// Answers the coverage (`percent`, `ranges`, `completed`, `completedAt`). A report may claim
    /// 120 s of wall time, so `end − start` is at most 480 s; all of a student's reports on a video
    /// together may claim 250 s at once (a budget refilled at twice the clock's pace), plenty for a
    /// test's few reports.
    pub async fn watched(&self, video: &str, token: &str, start: f64, end: f64) -> Value {
        let session = ulid::Ulid::new().to_string();
        let body =
            json!({ "session": session, "seq": 0, "intervals": [{ "start": start, "end": end, "rate": FASTEST }] });
        let r = self.post(&format!("/videos/{video}/watching"), token, body).await;
        assert_eq!(r.status, StatusCode::OK, "watching [{start}, {end}) of {video}: {:?}", r.body);
        assert!(r.body.get("replay").is_none(), "a new session's report is no replay: {:?}", r.body);
        r.body
    }
}
