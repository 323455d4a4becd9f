//! `on-raw-upload`: checks an upload against its video, reads its length (the transcoder's probe
//! of the container, before anything is paid for), charges its minutes to its creator's daily
//! budget, then starts its transcoding job. A source longer than the longest lecture, or one the
//! day's minutes cannot pay for, fails with its fixed reason and is removed.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use vivid_config::{Config, ConfigError};
use vivid_domain::{
    failure::FailureReason,
    media::{Bucket, MediaStore},
    minutes::{self, Admission, Charge, Metered, MinutesBudget},
    quota::{Quotas, utc_day},
    transcode::Transcoder,
    types::{VideoId, now_rfc3339, unix_now},
    video::{StatusChange, TranscodeState, Video, VideoCatalog, VideoStatus, layout},
};

use crate::{EventError, EventHandler, s3_objects};

/// The limits an upload is held to: its size, the longest lecture and the daily minutes.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimit {
    pub quotas: Quotas,
}

impl UploadLimit {
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self { quotas: cfg.parsed(vivid_domain::quota::QUOTAS_VAR)?.unwrap_or_default() })
    }
}

/// What the admission of a source decided.
enum Verdict {
    /// Transcode, clipped at this many seconds of the source: what was charged.
    Transcode(u64),
    Fail(FailureReason),
    /// The video went away (or is being deleted) meanwhile.
    Gone,
}

/// `on-raw-upload`: checks an upload against its video, then starts its transcoding job.
pub struct OnRawUpload {
    /// The upload's video, and its creator's membership of its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The video's status (`UPLOADED`, `TRANSCODING` with its job, or `FAILED`).
    pub states: Arc<dyn TranscodeState>,
    /// The raw bucket (the object's size and type, a rejected one removed).
    pub media: Arc<dyn MediaStore>,
    /// The source's length (its probe), then its job.
    pub transcoder: Arc<dyn Transcoder>,
    /// The creator's daily transcoding minutes.
    pub budget: Arc<dyn MinutesBudget>,
    pub limits: UploadLimit,
}

impl OnRawUpload {
    /// Why an uploaded object does not belong to its video, if it does not: the reason members
    /// are told, and the detail for the log.
    fn mismatch(&self, video: &Video, size: u64, content_type: Option<&str>) -> Option<(FailureReason, String)> {
        let most = self.limits.quotas.upload_bytes;
        if size > most {
            let detail = format!("the upload has {size} bytes, more than the {most} allowed");
            return Some((FailureReason::UploadTooLarge, detail));
        }
        if video.status == VideoStatus::Uploading {
            if size != video.size_bytes {
                let detail = format!("the upload has {size} bytes, the video declared {}", video.size_bytes);
                return Some((FailureReason::UploadMismatch, detail));
            }
            if let Some(ct) = content_type
                && !ct.eq_ignore_ascii_case(video.content_type.as_str())
            {
                let detail = format!("the upload is {ct}, the video declared {}", video.content_type.as_str());
                return Some((FailureReason::UploadMismatch, detail));
            }
        }
        None
    }

    /// Before any job is paid for: the source's length against the longest lecture, then its
    /// minutes charged to its creator's budget of the day (once per video: a redelivered event
    /// finds the charge made).
    async fn admit(&self, video: &Video, raw_bucket: &str) -> Result<Verdict, EventError> {
        let id = &video.video_id;
        // Published only by who may publish: the creator still hosts or co-hosts the space (an
        // upload URL outlives a demotion or a removal by up to its hour).
        let creator = self.catalog.video_access(id, &video.created_by).await?;
        let manages = creator.as_ref().is_some_and(|a| {
            a.space.as_ref().is_some_and(|s| !s.deleting) && a.membership.as_ref().is_some_and(|m| m.role.manages())
        });
        if !manages {
            tracing::warn!(video_id = %id, "its creator no longer manages the space: not transcoded");
            return Ok(Verdict::Fail(FailureReason::UploaderNotManager));
        }
        let probe = self.transcoder.probe(id, raw_bucket).await?;
        let quotas = &self.limits.quotas;
        let minutes = match minutes::admit(probe.duration_seconds, quotas) {
            Admission::TooLong => {
                tracing::warn!(video_id = %id, seconds = ?probe.duration_seconds, longest = quotas.lecture_seconds, "longer than the longest lecture: not transcoded");
                return Ok(Verdict::Fail(FailureReason::LectureTooLong));
            }
            Admission::Charge(minutes) => minutes,
        };
        let (day, _) = utc_day(unix_now());
        let limit = quotas.limit(Metered::Transcode.quota());
        let charge =
            self.budget.charge_minutes(Metered::Transcode, id, &video.created_by, minutes, &day, limit).await?;
        tracing::info!(video_id = %id, seconds = ?probe.duration_seconds, minutes, ?charge, "transcoding minutes");
        Ok(match charge {
            // The job is clipped at what was charged (a header that understates the length buys
            // no more than it paid for); a redelivery computes the same charge from the same probe.
            Charge::Charged | Charge::AlreadyCharged => Verdict::Transcode((minutes * 60).min(quotas.lecture_seconds)),
            Charge::Exceeded(_) => Verdict::Fail(Metered::Transcode.over_budget()),
            Charge::Gone => Verdict::Gone,
        })
    }

    /// Fails the video for `reason` and removes its object: FAILED first, so that a retried
    /// event finds a failed video and removes the object (below), whichever step failed.
    async fn reject(&self, id: &VideoId, key: &str, reason: FailureReason) -> Result<(), EventError> {
        let change = StatusChange { failure_reason: Some(reason), ..Default::default() };
        self.states.transition(id, VideoStatus::Failed, &change, &now_rfc3339()).await?;
        self.media.delete(Bucket::Raw, key).await?;
        Ok(())
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
            Some(id) => self.catalog.get_video(id).await?,
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
                if let Some((reason, detail)) = self.mismatch(&video, info.size, info.content_type.as_deref()) {
                    tracing::warn!(video_id = %id, reason = reason.code(), detail, "upload rejected");
                    return self.reject(id, key, reason).await;
                }
                self.states.transition(id, VideoStatus::Uploaded, &StatusChange::default(), &now_rfc3339()).await?;
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
        let clip_seconds = match self.admit(&video, &raw_bucket).await? {
            Verdict::Transcode(seconds) => seconds,
            Verdict::Fail(reason) => return self.reject(id, key, reason).await,
            Verdict::Gone => {
                tracing::info!(video_id = %id, "the video went away before its job: none started");
                return Ok(());
            }
        };
        let job_id = self.transcoder.submit(id, &raw_bucket, &media_bucket, clip_seconds).await?;
        let change = StatusChange { job_id: Some(job_id.clone()), percent_complete: Some(0), ..Default::default() };
        let moved = self.states.transition(id, VideoStatus::Transcoding, &change, &now_rfc3339()).await?;
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
