//! `sweep-stale-videos` (scheduled): ends videos whose upload or import never finished and
//! removes what they left, so a closed tab or a dead import does not keep a video in `UPLOADING`
//! or `IMPORTING` (and its partial upload in the bucket) forever.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use serde_json::{Value, json};
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    cascade::remove_media,
    media::MediaStore,
    types::{Limit, now_rfc3339, rfc3339_at, unix_now},
    video::{StatusChange, VideoStatus, VideoStore},
};

use crate::{EventError, EventHandler};

/// How long a video may wait for its bytes.
#[derive(Debug, Clone, Copy)]
pub struct StaleAfter {
    /// An upload (a browser may resume a multipart upload for a day).
    pub upload: Duration,
    /// An import (the worker runs at most 15 minutes and is retried twice).
    pub import: Duration,
}

impl StaleAfter {
    /// `VIVID_STALE_UPLOAD_HOURS` (24) and `VIVID_STALE_IMPORT_MINUTES` (90).
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            upload: Duration::from_secs(cfg.number("VIVID_STALE_UPLOAD_HOURS", 24)? * 3600),
            import: Duration::from_secs(cfg.number("VIVID_STALE_IMPORT_MINUTES", 90)? * 60),
        })
    }
}

/// The sweep: up to 100 stale videos a run (the schedule runs it again for more).
pub struct SweepStaleVideos {
    videos: Arc<dyn VideoStore>,
    media: Arc<dyn MediaStore>,
    after: StaleAfter,
}

impl SweepStaleVideos {
    pub fn new(videos: Arc<dyn VideoStore>, media: Arc<dyn MediaStore>, after: StaleAfter) -> Self {
        Self { videos, media, after }
    }
}

#[async_trait]
impl EventHandler for SweepStaleVideos {
    async fn handle(&self, _event: Value) -> Result<Value, EventError> {
        let now = unix_now();
        let cutoff = |d: Duration| rfc3339_at(now.saturating_sub(d.as_secs()));
        let (upload_cutoff, import_cutoff) = (cutoff(self.after.upload), cutoff(self.after.import));
        let oldest_allowed = upload_cutoff.clone().max(import_cutoff.clone());
        let mut ended = 0u32;
        for id in self.videos.pending_before(&oldest_allowed, Limit::clamped(100)).await? {
            let Some(video) = self.videos.get_video(&id).await? else { continue };
            let (cutoff, what) = match video.status {
                VideoStatus::Uploading => (&upload_cutoff, "upload"),
                VideoStatus::Importing => (&import_cutoff, "import"),
                _ => continue,
            };
            if video.created_at >= *cutoff {
                continue;
            }
            let change = StatusChange {
                failure_reason: Some(format!("the {what} did not finish in time; delete the video and try again")),
                ..Default::default()
            };
            // What it left first (the status change forgets the upload id): a run that fails
            // half-way leaves the video pending, and the next run finishes it.
            remove_media(self.media.as_ref(), &id, video.upload_id.as_deref()).await?;
            // Conditional on the status: an upload that completed meanwhile is not ended (its
            // object is gone, so its job fails and the video ends FAILED with the reason).
            if self.videos.transition(&id, VideoStatus::Failed, &change, &now_rfc3339()).await? {
                tracing::info!(video_id = %id, what, "stale video ended");
                ended += 1;
            }
        }
        Ok(json!({ "ended": ended }))
    }
}
