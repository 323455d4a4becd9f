//! In-memory ports that record what a handler asks of them, and the handlers built on them.

use std::{
    pin::pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
    time::Duration,
};

use async_trait::async_trait;
use serde_json::Value;
use vivid_domain::{
    captions::{CaptionTrack, Lang},
    error::StoreError,
    failure::FailureReason,
    media::{Bucket, MediaStore, ObjectInfo, UploadedPart},
    minutes::{Charge, Metered, MinutesBudget},
    page::{Page, PageKey},
    quota::Quotas,
    transcode::{SourceInfo, SourceProbe, TranscodeError, Transcoder},
    transcripts::TranscriptState,
    types::{Limit, SpaceId, UserId, VideoId},
    video::{
        CaptionStore, StatusChange, TranscodeState, Video, VideoAccess, VideoCatalog, VideoPatch, VideoStatus, layout,
    },
};
use vivid_events::{EventError, EventHandler, OnConvertedOutput, OnRawUpload, OnTranscodeEvent, UploadLimit};

/// What a handler asked of the ports, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    GetVideo(VideoId),
    Transition { video: VideoId, to: VideoStatus, change: Change },
    RaisePercent(VideoId, u8),
    RecordSource(VideoId, String, SourceInfo),
    RecordOutput(VideoId, layout::MediaKind, String),
    Delete(Bucket, String),
    DeletePrefix(Bucket, String),
    Head(Bucket, String),
    Submit(VideoId),
    Cancel(String),
}

impl Call {
    /// Whether the call records a video's state (what a job event is turned into), as opposed
    /// to looking a video up or cleaning up after it.
    pub(crate) fn is_status(&self) -> bool {
        matches!(
            self,
            Call::Transition { .. } | Call::RaisePercent(..) | Call::RecordSource(..) | Call::RecordOutput(..)
        )
    }
}

/// The fields of a `StatusChange` (which has no `PartialEq`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Change {
    pub(crate) job_id: Option<String>,
    pub(crate) percent_complete: Option<u8>,
    pub(crate) duration_seconds: Option<f64>,
    pub(crate) failure_reason: Option<FailureReason>,
    pub(crate) hls_master: Option<String>,
    pub(crate) mp4: Option<String>,
    pub(crate) thumbnail_count: Option<u32>,
    pub(crate) only_for_job: Option<String>,
}

impl From<&StatusChange> for Change {
    fn from(c: &StatusChange) -> Self {
        Self {
            job_id: c.job_id.clone(),
            percent_complete: c.percent_complete,
            duration_seconds: c.duration_seconds,
            failure_reason: c.failure_reason,
            hls_master: c.hls_master.clone(),
            mp4: c.mp4.clone(),
            thumbnail_count: c.thumbnail_count,
            only_for_job: c.only_for_job.clone(),
        }
    }
}

#[derive(Default)]
pub(crate) struct Ports {
    pub(crate) calls: Mutex<Vec<Call>>,
}

impl Ports {
    pub(crate) fn record(&self, call: Call) {
        self.calls.lock().expect("calls").push(call);
    }
    pub(crate) fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().expect("calls"))
    }
}

pub(crate) fn unused<T>() -> Result<T, StoreError> {
    Err(StoreError::backend("not a port this handler uses"))
}

pub(crate) const RAW: &str = "vivid-raw-123456789012";
pub(crate) const MEDIA: &str = "vivid-media-123456789012";

/// No video exists: every raw object is one to remove.
#[async_trait]
impl VideoCatalog for Ports {
    async fn get_video(&self, id: &VideoId) -> Result<Option<Video>, StoreError> {
        self.record(Call::GetVideo(id.clone()));
        Ok(None)
    }
    async fn videos_by_id(&self, _: &[VideoId]) -> Result<Vec<Video>, StoreError> {
        unused()
    }
    async fn videos(&self, _: &[VideoId]) -> Result<Vec<Video>, StoreError> {
        unused()
    }
    async fn video_access(&self, _: &VideoId, _: &UserId) -> Result<Option<VideoAccess>, StoreError> {
        unused()
    }
    async fn list_videos(&self, _: &SpaceId, _: Limit, _: Option<PageKey>) -> Result<Page<Video>, StoreError> {
        unused()
    }
    async fn all_videos(&self, _: &SpaceId) -> Result<Vec<Video>, StoreError> {
        unused()
    }
    async fn update_video(&self, _: &VideoId, _: &VideoPatch, _: &str) -> Result<Video, StoreError> {
        unused()
    }
    async fn place_videos(&self, _: &SpaceId, _: &[(&Video, Option<u32>)]) -> Result<(), StoreError> {
        unused()
    }
}

/// Every state change is recorded, and taken.
#[async_trait]
impl TranscodeState for Ports {
    async fn transition(
        &self,
        id: &VideoId,
        to: VideoStatus,
        change: &StatusChange,
        _: &str,
    ) -> Result<bool, StoreError> {
        self.record(Call::Transition { video: id.clone(), to, change: change.into() });
        Ok(true)
    }
    async fn raise_percent(&self, id: &VideoId, percent: u8) -> Result<bool, StoreError> {
        self.record(Call::RaisePercent(id.clone(), percent));
        Ok(true)
    }
    async fn record_source(&self, id: &VideoId, job: &str, source: &SourceInfo) -> Result<bool, StoreError> {
        self.record(Call::RecordSource(id.clone(), job.to_owned(), source.clone()));
        Ok(true)
    }
    async fn record_output(&self, id: &VideoId, kind: &layout::MediaKind, key: &str) -> Result<bool, StoreError> {
        self.record(Call::RecordOutput(id.clone(), kind.clone(), key.to_owned()));
        Ok(true)
    }
}

/// No video has tracks or a transcript: nothing of them is asked.
#[async_trait]
impl CaptionStore for Ports {
    async fn put_caption(&self, _: &VideoId, _: &CaptionTrack) -> Result<Video, StoreError> {
        unused()
    }
    async fn remove_caption(&self, _: &VideoId, _: &Lang) -> Result<Option<Video>, StoreError> {
        unused()
    }
    async fn set_captioned_master(&self, _: &VideoId, _: u32, _: Option<&str>) -> Result<bool, StoreError> {
        unused()
    }
    async fn set_transcript(&self, _: &VideoId, _: &TranscriptState, _: bool) -> Result<bool, StoreError> {
        unused()
    }
}

#[async_trait]
impl MediaStore for Ports {
    fn bucket_name(&self, bucket: Bucket) -> &str {
        match bucket {
            Bucket::Raw => RAW,
            Bucket::Media => MEDIA,
            Bucket::User => "vivid-user-content-123456789012",
        }
    }
    async fn presign_put(&self, _: Bucket, _: &str, _: &str, _: u64, _: Duration) -> Result<String, StoreError> {
        unused()
    }
    async fn presign_get(&self, _: Bucket, _: &str, _: Duration) -> Result<String, StoreError> {
        unused()
    }
    async fn create_multipart(&self, _: &str, _: &str) -> Result<String, StoreError> {
        unused()
    }
    async fn presign_part(&self, _: &str, _: &str, _: u32, _: u64, _: Duration) -> Result<String, StoreError> {
        unused()
    }
    async fn upload_part(&self, _: &str, _: &str, _: u32, _: Vec<u8>) -> Result<String, StoreError> {
        unused()
    }
    async fn complete_multipart(&self, _: &str, _: &str, _: &[(u32, String)]) -> Result<(), StoreError> {
        unused()
    }
    async fn abort_multipart(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    async fn uploaded_parts(&self, _: &str, _: &str) -> Result<Vec<UploadedPart>, StoreError> {
        unused()
    }
    async fn head(&self, bucket: Bucket, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.record(Call::Head(bucket, key.to_owned()));
        Ok(None)
    }
    async fn put(&self, _: Bucket, _: &str, _: &str, _: Vec<u8>) -> Result<(), StoreError> {
        unused()
    }
    /// No object is there (a completed job's master included: no storyboard to write).
    async fn get(&self, _: Bucket, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(None)
    }
    async fn delete(&self, bucket: Bucket, key: &str) -> Result<(), StoreError> {
        self.record(Call::Delete(bucket, key.to_owned()));
        Ok(())
    }
    async fn delete_prefix(&self, bucket: Bucket, prefix: &str) -> Result<(), StoreError> {
        self.record(Call::DeletePrefix(bucket, prefix.to_owned()));
        Ok(())
    }
}

/// Every source is a minute long and every charge fits (the minutes' rules have their own tests).
#[async_trait]
impl MinutesBudget for Ports {
    async fn charge_minutes(
        &self,
        _: Metered,
        _: &VideoId,
        _: &UserId,
        _: u64,
        _: &str,
        _: u64,
    ) -> Result<Charge, StoreError> {
        Ok(Charge::Charged)
    }
    async fn settle_minutes(&self, _: Metered, _: &VideoId, _: u64) -> Result<bool, StoreError> {
        Ok(false)
    }
}

#[async_trait]
impl Transcoder for Ports {
    async fn probe(&self, _: &VideoId, _: &str) -> Result<SourceProbe, TranscodeError> {
        Ok(SourceProbe { duration_seconds: Some(60.0) })
    }
    async fn submit(&self, video: &VideoId, _: &str, _: &str, _: u64) -> Result<String, TranscodeError> {
        self.record(Call::Submit(video.clone()));
        Ok("job".to_owned())
    }
    async fn cancel(&self, job_id: &str) -> Result<bool, TranscodeError> {
        self.record(Call::Cancel(job_id.to_owned()));
        Ok(true)
    }
}

/// Runs a handler to completion: the in-memory ports never wait, so one poll finishes it.
pub(crate) fn run(handler: &dyn EventHandler, event: Value) -> Result<Value, EventError> {
    let mut fut = pin!(handler.handle(event));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => panic!("the in-memory ports never wait"),
    }
}

pub(crate) struct Handlers {
    pub(crate) ports: Arc<Ports>,
    pub(crate) raw: OnRawUpload,
    pub(crate) converted: OnConvertedOutput,
    pub(crate) transcode: OnTranscodeEvent,
}

pub(crate) fn handlers() -> Handlers {
    let ports = Arc::new(Ports::default());
    Handlers {
        raw: OnRawUpload {
            catalog: ports.clone(),
            states: ports.clone(),
            media: ports.clone(),
            transcoder: ports.clone(),
            budget: ports.clone(),
            limits: UploadLimit { quotas: Quotas { upload_bytes: 1 << 30, ..Quotas::default() } },
        },
        converted: OnConvertedOutput { states: ports.clone(), media: ports.clone() },
        transcode: OnTranscodeEvent {
            catalog: ports.clone(),
            states: ports.clone(),
            captions: ports.clone(),
            media: ports.clone(),
            transcoder: ports.clone(),
            transcription: None,
            index: None,
            minutes: None,
        },
        ports,
    }
}

/// What a handler may answer to input it cannot use: nothing, or "malformed" (never a store or
/// transcoder error: the ports were not asked anything they do not support).
pub(crate) fn ok_or_malformed(r: &Result<Value, EventError>) -> bool {
    matches!(r, Ok(Value::Null) | Err(EventError::Malformed(_)))
}
