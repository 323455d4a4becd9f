//! The import worker: streams a recording from a connected platform into `raw/{videoId}` with a
//! multipart upload (one part in memory at a time), after which `on-raw-upload` takes over
//! exactly as for a browser upload. One worker for every platform: each platform is a
//! `RecordingSource`, the connection (tokens, refresh) is the shared connector.

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::Value;
use vivid_domain::{
    captions::{self, CaptionSource, CaptionTrack, Lang},
    connectors::{Connection, ConnectionStore, ConnectorError, Provider, RecordingSource, TokenCipher},
    error::StoreError,
    failure::FailureReason,
    imports::{ImportJob, JobKind},
    media::MediaStore,
    search::SearchIndex,
    tracks,
    types::{VideoId, now_rfc3339},
    video::{
        CaptionStore, MIN_PART, StatusChange, TranscodeState, UploadStore, Video, VideoCatalog, VideoStatus, layout,
    },
};

use crate::{EventError, EventHandler};

/// The language of a platform's transcript: Zoom's files do not say, and its audio transcripts
/// are English unless the account set another language.
const PLATFORM_TRANSCRIPT_LANG: &str = "en";

/// Why a run stopped before the recording was in the bucket.
#[derive(Debug)]
enum Interrupted {
    /// The recording could not be read, or is not one we take: the import fails for the reason
    /// members are told, the platform's own words logged.
    Source(FailureReason, String),
    /// Our own bucket failed.
    Store(StoreError),
}

impl From<StoreError> for Interrupted {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Source(_, detail) => f.write_str(detail),
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

/// The import worker (`import-worker` in the template; the same function imports from every
/// platform it is given a source for).
pub struct ImportWorker {
    /// The import run's claim on its video.
    pub uploads: Arc<dyn UploadStore>,
    /// The video, read whole.
    pub catalog: Arc<dyn VideoCatalog>,
    /// A failed import's end (`FAILED`).
    pub states: Arc<dyn TranscodeState>,
    /// The platform's transcript as a caption track, and as the video's transcript.
    pub captions: Arc<dyn CaptionStore>,
    /// The raw bucket (the multipart upload) and the media bucket (the transcript's files).
    pub media: Arc<dyn MediaStore>,
    /// The importing user's connections with the platforms.
    pub connections: Arc<dyn ConnectionStore>,
    pub cipher: Arc<dyn TokenCipher>,
    /// Each platform's recordings (see [`recording_sources`]).
    pub sources: HashMap<Provider, Arc<dyn RecordingSource>>,
    /// Where a transcript that arrives after `READY` is indexed for search.
    pub index: Option<Arc<dyn SearchIndex>>,
}

/// The recording sources by their platform.
pub fn recording_sources(
    sources: impl IntoIterator<Item = Arc<dyn RecordingSource>>,
) -> HashMap<Provider, Arc<dyn RecordingSource>> {
    sources.into_iter().map(|s| (s.provider(), s)).collect()
}

impl ImportWorker {
    /// The job's user's connection with the recording's platform.
    fn connection<'a>(&'a self, job: &'a ImportJob, source: &'a dyn RecordingSource) -> Connection<'a> {
        Connection { store: self.connections.as_ref(), cipher: self.cipher.as_ref(), oauth: source, user: &job.user_id }
    }

    /// Streams the download into a multipart upload; at most one part (≥ 8 MiB) is held.
    async fn stream(
        &self,
        job: &ImportJob,
        source: &dyn RecordingSource,
        key: &str,
        upload_id: &str,
    ) -> Result<u64, Interrupted> {
        let connection = self.connection(job, source);
        let recording = job.recording_id.as_str();
        let mut body = connection
            .with_access(|token| async move { source.open(&token, recording).await })
            .await
            .map_err(|e| Interrupted::Source(FailureReason::ImportFailed, format!("cannot start the download: {e}")))?;
        let part_size = MIN_PART as usize;
        let mut buffer: Vec<u8> = Vec::with_capacity(part_size + 256 * 1024);
        let mut parts = Vec::new();
        let mut total = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                Interrupted::Source(
                    FailureReason::ImportFailed,
                    format!("the download broke off after {total} bytes: {e}"),
                )
            })?;
            total += chunk.len() as u64;
            buffer.extend_from_slice(&chunk);
            if buffer.len() >= part_size {
                let number = parts.len() as u32 + 1;
                let part = std::mem::replace(&mut buffer, Vec::with_capacity(part_size + 256 * 1024));
                let etag = self.media.upload_part(key, upload_id, number, part).await?;
                parts.push((number, etag));
            }
        }
        if total == 0 {
            return Err(Interrupted::Source(FailureReason::ImportEmpty, "the recording is empty".into()));
        }
        if !buffer.is_empty() {
            let number = parts.len() as u32 + 1;
            let etag = self.media.upload_part(key, upload_id, number, buffer).await?;
            parts.push((number, etag));
        }
        self.media.complete_multipart(key, upload_id, &parts).await?;
        Ok(total)
    }

    /// Gives the claim back after a failure a retry may overcome; the error to fail the event with.
    async fn hand_back(&self, video: &VideoId, claimed_at: &str, e: StoreError) -> EventError {
        if let Err(release) = self.uploads.release_import(video, claimed_at).await {
            tracing::warn!(video_id = %video, error = %release, "the claim stays until it is stale");
        }
        e.into()
    }

    /// The platform's own transcript of the recording, when it made one, becomes the video's
    /// caption track (its HLS rendition is published when the video is `READY`, at once when it
    /// is already), and after `READY` its searched transcript. A track in the same language that
    /// a host uploaded or Transcribe made stays. `Err` only for what a retry may overcome (the
    /// platform or our stores failing for now); a transcript that cannot be read is logged.
    /// `read`: the video as the caller read it already (else it is read here).
    async fn transcript(
        &self,
        job: &ImportJob,
        source: &dyn RecordingSource,
        read: Option<Video>,
    ) -> Result<(), EventError> {
        let kind = match job.provider {
            Provider::Zoom => CaptionSource::Zoom,
            // Webex's transcripts are a separate API (not read yet).
            Provider::Webex => return Ok(()),
        };
        let Ok(lang) = PLATFORM_TRANSCRIPT_LANG.parse::<Lang>() else { return Ok(()) };
        let video = match read {
            Some(video) => video,
            None => match self.catalog.get_video(&job.video_id).await? {
                Some(video) => video,
                None => return Ok(()),
            },
        };
        if video.outputs.captions.get(&lang).is_some_and(|t| t.source != kind) {
            tracing::info!(video_id = %job.video_id, "a track in the transcript's language is there already: it stays");
            return Ok(());
        }
        let connection = self.connection(job, source);
        let recording = job.recording_id.as_str();
        let fetched = connection
            .with_access(|token| async move { source.transcript(&token, recording, captions::MAX_BYTES).await })
            .await;
        let bytes = match fetched {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(()),
            Err(ConnectorError::Unavailable(e)) => return Err(EventError::Platform(e)),
            Err(e) => {
                tracing::warn!(video_id = %job.video_id, error = %e, "the recording's transcript could not be fetched");
                return Ok(());
            }
        };
        let cues = match captions::parse_vtt(&bytes) {
            Ok(cues) => cues,
            Err(e) => {
                tracing::warn!(video_id = %job.video_id, error = %e, "the recording's transcript is not WebVTT we take");
                return Ok(());
            }
        };
        let track = CaptionTrack {
            label: format!("{} ({})", captions::default_label(&lang), job.provider.title()),
            lang,
            source: kind,
            cues: cues.len() as u32,
            updated_at: now_rfc3339(),
        };
        let video = match tracks::publish(self.captions.as_ref(), self.media.as_ref(), &video, &track, &cues).await {
            Ok(video) => video,
            // Gone meanwhile, or twenty languages already: nothing a retry changes.
            Err(StoreError::Condition(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        tracing::info!(video_id = %job.video_id, cues = track.cues, "the recording's transcript is a caption track");
        // Arrived after `READY` (Zoom's transcript comes minutes after the recording): it is the
        // video's searched transcript now. Before `READY`, the completion does it.
        let index = self.index.as_deref();
        tracks::platform_transcript(self.captions.as_ref(), self.media.as_ref(), index, &video).await?;
        Ok(())
    }

    /// Zoom's `recording.transcript_completed` for a video imported before the transcript was
    /// made: the transcript alone, once (a video with the platform's track already is left as it
    /// is, however often the event comes). Only for the video's own importer and recording.
    async fn late_transcript(&self, job: &ImportJob, source: &dyn RecordingSource) -> Result<(), EventError> {
        let Some(video) = self.catalog.get_video(&job.video_id).await? else { return Ok(()) };
        if video.recording_id.as_deref() != Some(job.recording_id.as_str())
            || video.created_by != job.user_id
            || video.status == VideoStatus::Failed
            || video.deleting
            || video.outputs.captions.values().any(|t| t.source == CaptionSource::Zoom)
        {
            tracing::info!(video_id = %job.video_id, "nothing to add: the transcript is there, or the video is not this recording's");
            return Ok(());
        }
        self.transcript(job, source, Some(video)).await
    }

    async fn fail(&self, video: &VideoId, reason: FailureReason, detail: String) -> Result<(), StoreError> {
        tracing::warn!(video_id = %video, reason = reason.code(), detail, "import failed");
        let change = StatusChange { failure_reason: Some(reason), ..Default::default() };
        self.states.transition(video, VideoStatus::Failed, &change, &now_rfc3339()).await.map(|_| ())
    }
}

#[async_trait]
impl EventHandler for ImportWorker {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        let job: ImportJob = serde_json::from_value(event).map_err(|e| EventError::Malformed(e.to_string()))?;
        let Some(source) = self.sources.get(&job.provider).cloned() else {
            return Err(EventError::Malformed(format!("no source for {}", job.provider)));
        };
        if job.kind == JobKind::Transcript {
            return self.late_transcript(&job, source.as_ref()).await.map(|()| Value::Null);
        }
        // Only one run per video: a duplicate invocation finds the claim taken.
        let claimed_at = now_rfc3339();
        if !self.uploads.claim_import(&job.video_id, &claimed_at).await? {
            tracing::info!(video_id = %job.video_id, "import already running or done");
            return Ok(Value::Null);
        }
        let key = layout::raw(&job.video_id);
        let upload_id = match self.media.create_multipart(&key, "video/mp4").await {
            Ok(id) => id,
            Err(e) => return Err(self.hand_back(&job.video_id, &claimed_at, e).await),
        };
        match self.stream(&job, source.as_ref(), &key, &upload_id).await {
            Ok(bytes) => {
                tracing::info!(video_id = %job.video_id, bytes, provider = %job.provider, "recording imported");
                // The import stands without it: the transcript is best effort here (Zoom's later
                // `recording.transcript_completed` brings it again).
                if let Err(e) = self.transcript(&job, source.as_ref(), None).await {
                    tracing::warn!(video_id = %job.video_id, error = %e, "the recording's transcript was not stored");
                }
            }
            // Our own bucket is throttled or down for now: not the recording's fault. The partial
            // upload goes and the run is handed back, so that Lambda's retry of this event
            // imports it again (if every retry fails, the sweep ends the video).
            Err(Interrupted::Store(e)) if e.is_unavailable() => {
                if let Err(abort) = self.media.abort_multipart(&key, &upload_id).await {
                    tracing::warn!(video_id = %job.video_id, error = %abort, "the partial upload is left to the bucket's lifecycle rule");
                }
                return Err(self.hand_back(&job.video_id, &claimed_at, e).await);
            }
            Err(interrupted) => {
                self.media.abort_multipart(&key, &upload_id).await?;
                let (reason, detail) = match interrupted {
                    Interrupted::Source(reason, detail) => (reason, detail),
                    // Our own bucket refused for good (a retry would not pass).
                    Interrupted::Store(e) => (FailureReason::ImportFailed, e.to_string()),
                };
                self.fail(&job.video_id, reason, format!("the {} import failed: {detail}", job.provider.title()))
                    .await?;
            }
        }
        Ok(Value::Null)
    }
}
