//! Event consumers: S3 object-created on the raw and media buckets, and MediaConvert job state
//! changes from EventBridge. Each is idempotent: a duplicate, late or out-of-order event never
//! moves a video backwards and never starts a second job.

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use aws_lambda_events::event::{eventbridge::EventBridgeEvent, s3::S3Event};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::import::WebexImport;
use crate::{
    error::StoreError,
    media::{Bucket, MediaStore},
    model::VideoStore,
    runtime::{ConfigError, Deps, MediaSettings},
    transcode::{TranscodeError, Transcoder},
    types::{VideoId, now_rfc3339},
    video::{StatusChange, Video, VideoStatus, layout},
};

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("malformed event: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transcode(#[from] TranscodeError),
}

/// One event function's logic; the Lambda runtime and the local stack call the same object.
#[async_trait]
pub trait EventHandler: Send + Sync {
    async fn handle(&self, event: Value) -> Result<Value, EventError>;
}

/// An event function: its package name, its handler type, and how to build it.
pub struct EventFunction {
    pub name: &'static str,
    pub handler: &'static str,
    pub build: fn(&Deps) -> Result<Arc<dyn EventHandler>, ConfigError>,
}

macro_rules! event_functions {
    ($($name:literal => $ty:ident),* $(,)?) => {
        /// Every event function of the suite.
        pub const EVENT_FUNCTIONS: &[EventFunction] = &[
            $(EventFunction { name: $name, handler: stringify!($ty), build: |d| Ok(Arc::new($ty::new(d)?)) }),*
        ];
    };
}

event_functions! {
    "on-raw-upload" => OnRawUpload,
    "on-transcode-event" => OnTranscodeEvent,
    "on-converted-output" => OnConvertedOutput,
    "webex-import" => WebexImport,
}

pub fn event_function(name: &str) -> Option<&'static EventFunction> {
    EVENT_FUNCTIONS.iter().find(|f| f.name == name)
}

/// An S3 event key, decoded (`+` is a space, then percent-decoding).
pub fn decode_s3_key(raw: &str) -> String {
    percent_encoding::percent_decode_str(&raw.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn s3_objects(event: Value) -> Result<Vec<(String, String)>, EventError> {
    let event: S3Event = serde_json::from_value(event).map_err(|e| EventError::Malformed(e.to_string()))?;
    Ok(event
        .records
        .into_iter()
        .filter(|r| r.event_name.as_deref().is_some_and(|n| n.starts_with("ObjectCreated:")))
        .filter_map(|r| Some((r.s3.bucket.name?, decode_s3_key(&r.s3.object.key?))))
        .collect())
}

/// `on-raw-upload`: checks an upload against its video, then starts its transcoding job.
pub struct OnRawUpload {
    videos: Arc<dyn VideoStore>,
    media: Arc<dyn MediaStore>,
    transcoder: Arc<dyn Transcoder>,
    limits: MediaSettings,
}

impl OnRawUpload {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { videos: d.videos(), media: d.media()?, transcoder: d.transcoder()?, limits: d.media_settings()? })
    }

    /// Why an uploaded object does not belong to its video, if it does not.
    fn mismatch(&self, video: &Video, size: u64, content_type: Option<&str>) -> Option<String> {
        if size > self.limits.max_upload_bytes {
            return Some(format!(
                "the upload has {size} bytes, more than the {} allowed",
                self.limits.max_upload_bytes
            ));
        }
        if video.status == VideoStatus::Uploading {
            if size != video.size_bytes {
                return Some(format!("the upload has {size} bytes, the video declared {}", video.size_bytes));
            }
            if let Some(ct) = content_type
                && !ct.eq_ignore_ascii_case(video.content_type.as_str())
            {
                return Some(format!("the upload is {ct}, the video declared {}", video.content_type.as_str()));
            }
        }
        None
    }

    async fn object(&self, key: &str) -> Result<(), EventError> {
        let video_id = key.strip_prefix(layout::RAW_PREFIX).and_then(|id| id.parse::<VideoId>().ok());
        let video = match &video_id {
            Some(id) => self.videos.get_video(id).await?,
            None => None,
        };
        let Some(video) = video else {
            tracing::warn!(key, "removing a raw object that belongs to no video");
            return Ok(self.media.delete(Bucket::Raw, key).await?);
        };
        let id = &video.video_id;
        match video.status {
            VideoStatus::Uploading | VideoStatus::Importing => {
                let Some(info) = self.media.head(Bucket::Raw, key).await? else {
                    tracing::info!(video_id = %id, "raw object already gone");
                    return Ok(());
                };
                if let Some(reason) = self.mismatch(&video, info.size, info.content_type.as_deref()) {
                    tracing::warn!(video_id = %id, reason, "upload rejected");
                    self.media.delete(Bucket::Raw, key).await?;
                    let change = StatusChange { failure_reason: Some(reason), ..Default::default() };
                    self.videos.transition(id, VideoStatus::Failed, &change, &now_rfc3339()).await?;
                    return Ok(());
                }
                self.videos.transition(id, VideoStatus::Uploaded, &StatusChange::default(), &now_rfc3339()).await?;
            }
            // A previous delivery recorded the upload but did not get to start the job.
            VideoStatus::Uploaded => {}
            other => {
                tracing::info!(video_id = %id, status = other.as_str(), "duplicate or late upload event ignored");
                return Ok(());
            }
        }
        let raw_bucket = self.media.bucket_name(Bucket::Raw).to_owned();
        let media_bucket = self.media.bucket_name(Bucket::Media).to_owned();
        let job_id = self.transcoder.submit(id, &raw_bucket, &media_bucket).await?;
        let change = StatusChange { job_id: Some(job_id.clone()), percent_complete: Some(0), ..Default::default() };
        let moved = self.videos.transition(id, VideoStatus::Transcoding, &change, &now_rfc3339()).await?;
        tracing::info!(video_id = %id, job_id, moved, "transcoding job submitted");
        Ok(())
    }
}

#[async_trait]
impl EventHandler for OnRawUpload {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        let raw_bucket = self.media.bucket_name(Bucket::Raw).to_owned();
        for (bucket, key) in s3_objects(event)? {
            if bucket != raw_bucket {
                tracing::warn!(bucket, "event from another bucket ignored");
                continue;
            }
            self.object(&key).await?;
        }
        Ok(Value::Null)
    }
}

/// `on-converted-output`: records converted objects as they land.
pub struct OnConvertedOutput {
    videos: Arc<dyn VideoStore>,
    media_bucket: String,
}

impl OnConvertedOutput {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { videos: d.videos(), media_bucket: d.media_settings()?.buckets.media })
    }
}

#[async_trait]
impl EventHandler for OnConvertedOutput {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        for (bucket, key) in s3_objects(event)? {
            if bucket != self.media_bucket {
                continue;
            }
            match layout::classify(&key) {
                Some((video, kind)) => self.videos.record_output(&video, &kind, &key).await?,
                None => tracing::warn!(key, "object outside media/{{videoId}}/ ignored"),
            }
        }
        Ok(Value::Null)
    }
}

/// The `detail` of a "MediaConvert Job State Change" event (AWS's documented shape).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStateDetail {
    pub status: String,
    pub job_id: String,
    #[serde(default)]
    pub user_metadata: HashMap<String, String>,
    #[serde(default)]
    pub job_progress: Option<JobProgress>,
    #[serde(default)]
    pub error_code: Option<Value>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub output_group_details: Vec<OutputGroupDetail>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobProgress {
    #[serde(default)]
    pub job_percent_complete: Option<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputGroupDetail {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub playlist_file_paths: Vec<String>,
    #[serde(default)]
    pub output_details: Vec<OutputDetail>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputDetail {
    #[serde(default)]
    pub output_file_paths: Vec<String>,
    #[serde(default)]
    pub duration_in_ms: Option<u64>,
}

/// The key of an `s3://bucket/key` URI.
fn s3_key(uri: &str) -> Option<String> {
    uri.strip_prefix("s3://").and_then(|rest| rest.split_once('/')).map(|(_, key)| key.to_owned())
}

/// `on-transcode-event`: progress, completion and failure of a video's job.
pub struct OnTranscodeEvent {
    videos: Arc<dyn VideoStore>,
}

impl OnTranscodeEvent {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { videos: d.videos() })
    }
}

#[async_trait]
impl EventHandler for OnTranscodeEvent {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        let event: EventBridgeEvent<JobStateDetail> =
            serde_json::from_value(event).map_err(|e| EventError::Malformed(e.to_string()))?;
        let d = event.detail;
        let Some(video) = d.user_metadata.get("videoId").and_then(|v| v.parse::<VideoId>().ok()) else {
            tracing::warn!(job_id = d.job_id, "job without our videoId ignored");
            return Ok(Value::Null);
        };
        let now = now_rfc3339();
        let job = Some(d.job_id.clone());
        let moved = match d.status.as_str() {
            "PROGRESSING" => {
                let change = StatusChange { job_id: job.clone(), only_for_job: job, ..Default::default() };
                self.videos.transition(&video, VideoStatus::Transcoding, &change, &now).await?
            }
            "STATUS_UPDATE" => {
                let percent = d.job_progress.and_then(|p| p.job_percent_complete).unwrap_or(0).min(99);
                self.videos.raise_percent(&video, percent).await?
            }
            "COMPLETE" => {
                let mut change = StatusChange {
                    job_id: job.clone(),
                    only_for_job: job,
                    percent_complete: Some(100),
                    ..Default::default()
                };
                for group in &d.output_group_details {
                    match group.kind.as_str() {
                        "HLS_GROUP" => change.hls_master = group.playlist_file_paths.first().and_then(|p| s3_key(p)),
                        "FILE_GROUP" => {
                            for detail in &group.output_details {
                                if let Some(mp4) = detail.output_file_paths.iter().find(|p| p.ends_with(".mp4")) {
                                    change.mp4 = s3_key(mp4);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                let longest = d
                    .output_group_details
                    .iter()
                    .flat_map(|g| &g.output_details)
                    .filter_map(|o| o.duration_in_ms)
                    .max();
                change.duration_seconds = longest.map(|ms| ms as f64 / 1000.0);
                self.videos.transition(&video, VideoStatus::Ready, &change, &now).await?
            }
            "ERROR" => {
                let code = d
                    .error_code
                    .map(|c| c.to_string().trim_matches('"').to_owned())
                    .unwrap_or_else(|| "unknown".into());
                let message = d.error_message.unwrap_or_else(|| "no message".into());
                let change = StatusChange {
                    failure_reason: Some(format!("transcoding failed ({code}): {message}")),
                    only_for_job: job,
                    ..Default::default()
                };
                self.videos.transition(&video, VideoStatus::Failed, &change, &now).await?
            }
            "CANCELED" => {
                let change = StatusChange {
                    failure_reason: Some("the transcoding job was canceled".into()),
                    only_for_job: job,
                    ..Default::default()
                };
                self.videos.transition(&video, VideoStatus::Failed, &change, &now).await?
            }
            _ => false,
        };
        tracing::info!(video_id = %video, status = d.status, moved, "job state change");
        Ok(Value::Null)
    }
}
