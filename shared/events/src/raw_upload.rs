//! `on-raw-upload`: checks an upload against its video, then starts its transcoding job.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    media::{Bucket, MediaStore},
    transcode::Transcoder,
    types::{VideoId, now_rfc3339},
    video::{StatusChange, Video, VideoStatus, VideoStore, layout},
};

use crate::{EventError, EventHandler, s3_objects};

/// The largest object an upload may be.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimit {
    pub max_upload_bytes: u64,
}

impl UploadLimit {
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let quotas: vivid_domain::quota::Quotas = cfg.parsed(vivid_domain::quota::QUOTAS_VAR)?.unwrap_or_default();
        Ok(Self { max_upload_bytes: quotas.upload_bytes })
    }
}

/// `on-raw-upload`: checks an upload against its video, then starts its transcoding job.
pub struct OnRawUpload {
    videos: Arc<dyn VideoStore>,
    media: Arc<dyn MediaStore>,
    transcoder: Arc<dyn Transcoder>,
    limits: UploadLimit,
}

impl OnRawUpload {
    pub fn new(
        videos: Arc<dyn VideoStore>,
        media: Arc<dyn MediaStore>,
        transcoder: Arc<dyn Transcoder>,
        limits: UploadLimit,
    ) -> Self {
        Self { videos, media, transcoder, limits }
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
        // Only `raw/` is where uploads land (the bucket notifies that prefix, and the function
        // may delete nothing else): an object elsewhere is none of its business.
        let Some(name) = key.strip_prefix(layout::RAW_PREFIX) else {
            tracing::warn!(key, "an object outside raw/ ignored");
            return Ok(());
        };
        let video_id = name.parse::<VideoId>().ok();
        let video = match &video_id {
            Some(id) => self.videos.get_video(id).await?,
            None => None,
        };
        // A video being deleted has no use for it either (its deletion may have run already).
        let Some(video) = video.filter(|v| !v.deleting) else {
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
                    // FAILED first: a retried event then finds a failed video and removes the
                    // object (below), whichever step failed.
                    let change = StatusChange { failure_reason: Some(reason), ..Default::default() };
                    self.videos.transition(id, VideoStatus::Failed, &change, &now_rfc3339()).await?;
                    self.media.delete(Bucket::Raw, key).await?;
                    return Ok(());
                }
                self.videos.transition(id, VideoStatus::Uploaded, &StatusChange::default(), &now_rfc3339()).await?;
            }
            // A previous delivery recorded the upload but did not get to start the job.
            VideoStatus::Uploaded => {}
            // An upload that lands after its video failed (an aborted upload's URL used anyway,
            // a rejected one sent again): nothing will ever read it.
            VideoStatus::Failed => {
                tracing::warn!(video_id = %id, "removing an upload that landed after its video failed");
                return Ok(self.media.delete(Bucket::Raw, key).await?);
            }
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
