//! `sweep-stale-videos` (scheduled, hourly): finishes what was left unfinished.
//!
//! - An upload that never finished (a closed tab) past [`StaleAfter::upload`]: the video is
//!   deleted entirely — marked as deleting, out of its space's count and its charge refunded to its
//!   creator's transcoding budget in one transaction, then the deletion worker removes its upload
//!   and its item — so empty videos do not pile up.
//! - An import that never finished past [`StaleAfter::import`]: `FAILED` with a reason, and what it
//!   left in the buckets removed. The host asked for it and is told why it is not there; its video
//!   keeps the recording from being imported twice until the host deletes it (and imports are
//!   bounded by the daily transcoding budget, as uploads are).
//! - A deletion (account, space or video) marked longer ago than [`StaleAfter::deletion`] and not
//!   finished (its worker's invocation lost, or every retry failed): the deletion worker is
//!   started again. Every step of the worker is safe to repeat, so a deletion still running, or
//!   one that ends meanwhile, is no harm.
//!
//! Each part takes a page of 100 a run; the schedule runs it again for more.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use serde_json::{Value, json};
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    cascade::remove_media,
    deletion::{Deletion, DeletionInvoker, DeletionMarks},
    failure::FailureReason,
    imports::InvokeError,
    media::MediaStore,
    types::{Limit, now_rfc3339, rfc3339_at, unix_now},
    video::{StatusChange, TranscodeState, UploadStore, Video, VideoCatalog, VideoStatus},
};

use crate::{EventError, EventHandler};

/// How long a video may wait for its bytes, and a deletion for its worker.
#[derive(Debug, Clone, Copy)]
pub struct StaleAfter {
    /// An upload (a browser may resume a multipart upload for a day).
    pub upload: Duration,
    /// An import (the worker runs at most 15 minutes and is retried twice).
    pub import: Duration,
    /// A deletion's mark (its worker takes seconds; Lambda retries a failed run after about one
    /// minute, then two).
    pub deletion: Duration,
}

impl StaleAfter {
    /// `VIVID_STALE_UPLOAD_HOURS` (24), `VIVID_STALE_IMPORT_MINUTES` (90) and
    /// `VIVID_STALE_DELETION_MINUTES` (30).
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            upload: Duration::from_secs(cfg.number("VIVID_STALE_UPLOAD_HOURS", 24)? * 3600),
            import: Duration::from_secs(cfg.number("VIVID_STALE_IMPORT_MINUTES", 90)? * 60),
            deletion: Duration::from_secs(cfg.number("VIVID_STALE_DELETION_MINUTES", 30)? * 60),
        })
    }
}

/// The sweep.
pub struct SweepStaleVideos {
    /// The videos still waiting for their bytes, and each one's abandonment.
    pub uploads: Arc<dyn UploadStore>,
    /// Each pending video, read whole.
    pub catalog: Arc<dyn VideoCatalog>,
    /// A stale import's end (`FAILED`).
    pub states: Arc<dyn TranscodeState>,
    /// What a stale import left in the buckets.
    pub media: Arc<dyn MediaStore>,
    /// The deletions marked and not finished.
    pub marks: Arc<dyn DeletionMarks>,
    /// The deletion worker, started for an abandoned upload or an unfinished deletion.
    pub worker: Arc<dyn DeletionInvoker>,
    pub after: StaleAfter,
}

/// What one run did.
#[derive(Debug, Default)]
struct Swept {
    /// Imports ended `FAILED`.
    ended: u32,
    /// Abandoned uploads handed to the deletion worker.
    removed: u32,
    /// Unfinished deletions whose worker was started again.
    restarted: u32,
    /// Workers that could not be started (the marks stay: the next run tries again).
    not_started: u32,
}

impl SweepStaleVideos {
    /// Starts the deletion worker; a failure is counted (and logged), not fatal: the mark stays
    /// in the index, so a later run starts it.
    async fn start(&self, job: &Deletion, swept: &mut Swept) -> bool {
        match self.worker.start(job).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(?job, error = %e, "the deletion worker could not be started");
                swept.not_started += 1;
                false
            }
        }
    }

    /// An upload that never finished: deleted (the mark now, the rest by the worker).
    async fn remove_upload(&self, video: &Video, swept: &mut Swept) -> Result<(), EventError> {
        // Charged to the day it was created (`yyyy-mm-dd` of its creation time, UTC).
        let day: String = video.created_at.chars().take(10).collect();
        // Conditional on the status: an upload that completed meanwhile is left to its pipeline.
        if !self.uploads.abandon_upload(video, &day).await? {
            return Ok(());
        }
        tracing::info!(video_id = %video.video_id, "abandoned upload removed");
        swept.removed += 1;
        self.start(&Deletion::Video { video_id: video.video_id.clone() }, swept).await;
        Ok(())
    }

    /// An import that never finished: `FAILED`, what it left removed.
    async fn end_import(&self, video: &Video, swept: &mut Swept) -> Result<(), EventError> {
        let id = &video.video_id;
        let change = StatusChange { failure_reason: Some(FailureReason::ImportTimedOut), ..Default::default() };
        // What it left first (the status change forgets the upload id): a run that fails
        // half-way leaves the video pending, and the next run finishes it.
        remove_media(self.media.as_ref(), id, video.upload_id.as_deref()).await?;
        // Conditional on the status: an import that completed meanwhile is not ended (its object
        // is gone, so its job fails and the video ends FAILED with the reason).
        if self.states.transition(id, VideoStatus::Failed, &change, &now_rfc3339()).await? {
            tracing::info!(video_id = %id, "stale import ended");
            swept.ended += 1;
        }
        Ok(())
    }
}

#[async_trait]
impl EventHandler for SweepStaleVideos {
    async fn handle(&self, _event: Value) -> Result<Value, EventError> {
        let now = unix_now();
        let cutoff = |d: Duration| rfc3339_at(now.saturating_sub(d.as_secs()));
        let (upload_cutoff, import_cutoff) = (cutoff(self.after.upload), cutoff(self.after.import));
        let oldest_allowed = upload_cutoff.clone().max(import_cutoff.clone());
        let mut swept = Swept::default();
        for id in self.uploads.pending_before(&oldest_allowed, Limit::clamped(100)).await? {
            let Some(video) = self.catalog.get_video(&id).await? else { continue };
            match video.status {
                VideoStatus::Uploading if video.created_at < upload_cutoff => {
                    self.remove_upload(&video, &mut swept).await?;
                }
                VideoStatus::Importing if video.created_at < import_cutoff => {
                    self.end_import(&video, &mut swept).await?;
                }
                _ => {}
            }
        }
        for job in self.marks.marked_before(&cutoff(self.after.deletion), Limit::clamped(100)).await? {
            if self.start(&job, &mut swept).await {
                tracing::warn!(?job, "an unfinished deletion: its worker started again");
                swept.restarted += 1;
            }
        }
        let Swept { ended, removed, restarted, not_started } = swept;
        if not_started > 0 {
            // Failed for the alarm; the marks stay, so the next run starts what this one could not.
            return Err(InvokeError::Unavailable(format!("{not_started} deletion workers could not be started")).into());
        }
        Ok(json!({ "ended": ended, "removed": removed, "restarted": restarted }))
    }
}
