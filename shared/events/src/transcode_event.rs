//! `on-transcode-event`: progress, completion and failure of a video's MediaConvert job.

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vivid_domain::{
    cascade::remove_media,
    failure::FailureReason,
    media::{Bucket, MediaStore},
    minutes::{Charge, Metered, MinutesBudget, billed_minutes},
    quota::{Quotas, utc_day},
    search::{self, SearchIndex},
    spaces::SpaceStore,
    storyboard, tracks,
    transcode::{JobState, SourceInfo, Transcoder},
    transcripts::{self, TranscribeError, Transcriber, TranscriptState, TranscriptStatus},
    types::{VideoId, now_rfc3339, unix_now},
    video::{
        CaptionStore, StatusChange, TranscodeState, Video, VideoCatalog, VideoStatus,
        layout::{self, MediaKind},
    },
};

use crate::{EventError, EventHandler};

/// The `detail` of a "MediaConvert Job State Change" event (AWS's documented shape).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStateDetail {
    /// MediaConvert's name of the state, read as a [`JobState`] here, where the event comes in.
    pub status: JobState,
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
    /// On `INPUT_INFORMATION`: what MediaConvert read of each input.
    #[serde(default)]
    pub input_details: Vec<InputDetail>,
}

/// One input of an `INPUT_INFORMATION` event (AWS's documented shape).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputDetail {
    #[serde(default)]
    pub video: Vec<InputVideo>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputVideo {
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
    #[serde(default)]
    pub frame_rate: Option<f64>,
    #[serde(default)]
    pub codec: Option<String>,
    #[serde(default)]
    pub bit_depth: Option<u8>,
    #[serde(default)]
    pub color_format: Option<String>,
}

impl InputDetail {
    /// The source as the video records it: the first video stream with a picture size.
    fn source(&self) -> Option<SourceInfo> {
        let v = self.video.iter().find(|v| v.width.is_some_and(|w| w > 0) && v.height.is_some_and(|h| h > 0))?;
        Some(SourceInfo {
            width: v.width?,
            height: v.height?,
            frame_rate: v.frame_rate.filter(|f| f.is_finite() && *f > 0.0),
            codec: v.codec.clone(),
            bit_depth: v.bit_depth,
            color_format: v.color_format.clone(),
        })
    }
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

/// Whether an output is a video the player plays (an HLS rendition or an MP4). Frame captures
/// are not: MediaConvert reports their duration as captures × interval, longer than the video
/// (5.0 s for a 1.96 s clip at one capture per 5 s).
fn is_video_output(detail: &OutputDetail) -> bool {
    detail.output_file_paths.iter().any(|p| {
        let p = p.to_ascii_lowercase();
        p.ends_with(".m3u8") || p.ends_with(".mp4")
    })
}

/// The video's duration from a completed job: the longest of its video outputs, never a frame
/// capture's or any other file's.
pub fn video_duration_ms(groups: &[OutputGroupDetail]) -> Option<u64> {
    groups.iter().flat_map(|g| &g.output_details).filter(|o| is_video_output(o)).filter_map(|o| o.duration_in_ms).max()
}

/// The key of an `s3://bucket/key` URI.
fn s3_key(uri: &str) -> Option<String> {
    uri.strip_prefix("s3://").and_then(|rest| rest.split_once('/')).map(|(_, key)| key.to_owned())
}

/// `on-transcode-event`: progress, completion and failure of a video's job. A failed video's
/// media are removed; a job whose video was deleted meanwhile is cancelled at its next event (a
/// status update comes every 10 s) and what it wrote is removed — so deleting a video while it
/// transcodes costs at most seconds of transcoding and leaves nothing behind.
pub struct OnTranscodeEvent {
    /// The job's video, read whole.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The video's status and what the job recorded on it.
    pub states: Arc<dyn TranscodeState>,
    /// The transcript's state, and the captioned master of tracks stored before `READY`.
    pub captions: Arc<dyn CaptionStore>,
    /// The media bucket (the storyboard written, a failed or orphan job's media removed) and the
    /// raw bucket.
    pub media: Arc<dyn MediaStore>,
    /// A deleted or failed video's job cancelled.
    pub transcoder: Arc<dyn Transcoder>,
    /// A completed video of a space with transcription on gets its transcript started.
    pub transcription: Option<Transcription>,
    /// A completed video's words (title, description, chapters) go into the space's search.
    pub index: Option<Arc<dyn SearchIndex>>,
    /// Charges transcripts to their creator's daily minutes and settles the transcoding charge
    /// (without it no transcript is started: nothing would bound its cost).
    pub minutes: Option<Minutes>,
}

/// The daily budgets of minutes: a transcript's minutes are charged before its job starts, and a
/// completed job's charge is settled to the minutes it transcoded.
pub struct Minutes {
    pub budget: Arc<dyn MinutesBudget>,
    pub quotas: Quotas,
}

/// What starting a transcript takes: the spaces (whose setting decides), the service, the media
/// bucket (the MP4 is read from it, the result written into it) and the stack's job names.
pub struct Transcription {
    pub spaces: Arc<dyn SpaceStore>,
    pub transcriber: Arc<dyn Transcriber>,
    pub media_bucket: String,
    pub jobs: transcripts::JobNames,
}

/// Starts `job`, the video's `attempt`: the state to record, `InProgress`, or `Failed` when
/// Transcribe refuses the job for good (the media, the language: not retried). `Err` when the
/// service is unavailable: the event is delivered again.
pub(crate) async fn start_job(
    transcriber: &dyn Transcriber,
    job: &transcripts::TranscriptionJob,
    attempt: u32,
    language: Option<String>,
) -> Result<TranscriptState, EventError> {
    let (status, failure_reason) = match transcriber.start(job).await {
        Ok(()) => (TranscriptStatus::InProgress, None),
        Err(TranscribeError::Refused(reason)) => {
            tracing::warn!(job = job.name, reason, "transcription refused");
            (TranscriptStatus::Failed, Some(FailureReason::TranscriptionRefused))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(TranscriptState { status, language, failure_reason, updated_at: now_rfc3339(), attempt })
}

impl OnTranscodeEvent {
    /// Starts the transcript of a `READY` video whose space has transcription on and that has
    /// none yet. Repeated (a redelivered event, an event after a failed start) it starts nothing
    /// twice: the job is named after the video, and the state is recorded only if absent.
    async fn completed(&self, video: &VideoId) -> Result<(), EventError> {
        let Some(v) = self.catalog.get_video(video).await? else { return Ok(()) };
        if v.status != VideoStatus::Ready || v.deleting {
            return Ok(());
        }
        if let Some(index) = &self.index {
            let postings = search::word_postings(video, v.title.as_str(), v.description.as_str(), &v.chapters);
            index.index_video(&v.space_id, video, search::Source::Words, &postings).await?;
        }
        if !self.platform_transcript(&v).await? {
            self.transcribe(video, &v).await?;
        }
        // Last: a master that cannot be written now (the event is retried, and every step above
        // does nothing twice) holds back neither the search nor the transcript.
        tracks::publish_at_ready(self.captions.as_ref(), self.media.as_ref(), &v).await?;
        Ok(())
    }

    /// A recording platform's transcript is the video's transcript (no transcription job).
    async fn platform_transcript(&self, v: &Video) -> Result<bool, EventError> {
        let index = self.index.as_deref();
        Ok(tracks::platform_transcript(self.captions.as_ref(), self.media.as_ref(), index, v).await?)
    }

    async fn transcribe(&self, video: &VideoId, v: &vivid_domain::video::Video) -> Result<(), EventError> {
        let Some(t) = &self.transcription else { return Ok(()) };
        let Some(mp4) = v.outputs.mp4.as_deref().filter(|_| v.transcript.is_none()) else {
            return Ok(());
        };
        // A Zoom recording's transcript is Zoom's own, announced minutes after the recording in
        // its own webhook (often after READY): no Transcribe job, billed, for a second English
        // track beside it.
        if v.recording_id.as_deref().and_then(vivid_domain::zoom::meeting_of).is_some() {
            tracing::info!(video_id = %video, "a Zoom recording: its transcript is Zoom's");
            return Ok(());
        }
        let space = t.spaces.space_access(&v.space_id, &v.created_by).await?.map(|a| a.space);
        let Some(setting) = space.and_then(|s| s.transcription).filter(|s| s.enabled) else { return Ok(()) };
        let Some(m) = &self.minutes else {
            tracing::error!(video_id = %video, "no minutes budget wired: no transcript started");
            return Ok(());
        };
        // Its minutes first, once per video (a redelivered event finds the charge made).
        let minutes = billed_minutes(v.duration_seconds.unwrap_or(m.quotas.lecture_seconds as f64));
        let (day, _) = utc_day(unix_now());
        let limit = m.quotas.limit(Metered::Transcribe.quota());
        match m.budget.charge_minutes(Metered::Transcribe, video, &v.created_by, minutes, &day, limit).await? {
            Charge::Charged | Charge::AlreadyCharged => {}
            Charge::Gone => return Ok(()),
            Charge::Exceeded(_) => {
                tracing::warn!(video_id = %video, minutes, limit, "transcription minutes used up: no transcript");
                let state = TranscriptState {
                    status: TranscriptStatus::Failed,
                    language: setting.language,
                    failure_reason: Some(Metered::Transcribe.over_budget()),
                    updated_at: now_rfc3339(),
                    attempt: 1,
                };
                self.captions.set_transcript(video, &state, true).await?;
                return Ok(());
            }
        }
        let job = t.jobs.job(video, 1, &t.media_bucket, mp4, setting.language.clone());
        let state = start_job(t.transcriber.as_ref(), &job, 1, setting.language).await?;
        self.captions.set_transcript(video, &state, true).await?;
        tracing::info!(video_id = %video, status = ?state.status, "transcription started");
        Ok(())
    }

    /// Writes the storyboard of a completed job beside the image playlist its master names (the
    /// sheets are named relative to it); `None` when the job made none, or one we cannot read
    /// (logged: the video plays without seek previews). Writing it again, for a repeated event,
    /// writes the same file.
    async fn storyboard(&self, video: &VideoId, master_key: &str) -> Result<Option<String>, EventError> {
        let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
        let folder = |key: &str| key.rsplit_once('/').map(|(dir, _)| dir.to_owned()).unwrap_or_default();
        let Some(master) = self.media.get(Bucket::Media, master_key).await?.map(text) else { return Ok(None) };
        let Some(uri) = storyboard::image_playlist_uri(&master) else { return Ok(None) };
        let playlist_key = format!("{}/{uri}", folder(master_key));
        let Some(playlist) = self.media.get(Bucket::Media, &playlist_key).await?.map(text) else {
            tracing::warn!(video_id = %video, "the master names an image playlist that is not there");
            return Ok(None);
        };
        let sheets = match storyboard::parse_image_playlist(&playlist) {
            Ok(sheets) => sheets,
            Err(e) => {
                tracing::warn!(video_id = %video, error = %e, "no storyboard");
                return Ok(None);
            }
        };
        let key = format!("{}/{}", folder(&playlist_key), storyboard::STORYBOARD_FILE);
        let vtt = storyboard::storyboard_vtt(&sheets);
        self.media.put(Bucket::Media, &key, "text/vtt; charset=utf-8", vtt.into_bytes()).await?;
        Ok(Some(key))
    }

    /// After an event that changed nothing: when the video is gone, being deleted or has failed
    /// (a failure whose clean-up did not finish, a job that outlived its video's failure), stop
    /// its job and remove its media. Every later event of the job does it again, harmlessly.
    async fn orphan(&self, video: &VideoId, job_id: &str, state: &JobState) -> Result<(), EventError> {
        if self.catalog.get_video(video).await?.is_some_and(|v| v.status != VideoStatus::Failed && !v.deleting) {
            return Ok(());
        }
        if state.is_running() && self.transcoder.cancel(job_id).await? {
            tracing::info!(video_id = %video, job_id, "job of a deleted or failed video cancelled");
        }
        remove_media(self.media.as_ref(), video, None).await?;
        Ok(())
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
        let moved = match d.status {
            JobState::Progressing => {
                let change = StatusChange { job_id: job.clone(), only_for_job: job, ..Default::default() };
                self.states.transition(&video, VideoStatus::Transcoding, &change, &now).await?
            }
            JobState::InputInformation => match d.input_details.iter().find_map(InputDetail::source) {
                Some(source) => self.states.record_source(&video, &d.job_id, &source).await?,
                None => false,
            },
            JobState::StatusUpdate => {
                let percent = d.job_progress.and_then(|p| p.job_percent_complete).unwrap_or(0).min(99);
                self.states.raise_percent(&video, percent).await?
            }
            JobState::Complete => {
                let mut change = StatusChange {
                    job_id: job.clone(),
                    only_for_job: job,
                    percent_complete: Some(100),
                    ..Default::default()
                };
                // Only outputs under the video's own prefix are its media (the job's destinations
                // are there; the function may read and serve nothing else).
                let ours = |uri: &String| s3_key(uri).filter(|k| k.starts_with(&layout::media_prefix(&video)));
                for group in &d.output_group_details {
                    match group.kind.as_str() {
                        "HLS_GROUP" => change.hls_master = group.playlist_file_paths.first().and_then(ours),
                        "FILE_GROUP" => {
                            for detail in &group.output_details {
                                if let Some(mp4) = detail.output_file_paths.iter().find(|p| p.ends_with(".mp4")) {
                                    change.mp4 = ours(mp4);
                                }
                                // The last frame capture's index: the thumbnails' count (only
                                // the first one's landing is notified).
                                let thumbnails = detail.output_file_paths.iter().filter_map(|p| {
                                    match s3_key(p).as_deref().and_then(layout::classify) {
                                        Some((v, MediaKind::Thumbnail(i))) if v == video => i.checked_add(1),
                                        _ => None,
                                    }
                                });
                                if let Some(count) = thumbnails.max() {
                                    change.thumbnail_count = Some(count);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                if let Some(master) = &change.hls_master {
                    change.storyboard = self.storyboard(&video, master).await?;
                }
                change.duration_seconds = video_duration_ms(&d.output_group_details).map(|ms| ms as f64 / 1000.0);
                let seconds = change.duration_seconds;
                let moved = self.states.transition(&video, VideoStatus::Ready, &change, &now).await?;
                // What was transcoded settles what was charged before (an unknown or misstated
                // length was an estimate): after the status, so a failed event wrote nothing;
                // once, whichever delivery gets there. The job was clipped at the longest
                // lecture: an output a frame past it is that clip.
                if let (Some(m), Some(seconds)) = (&self.minutes, seconds)
                    && let transcoded = billed_minutes(seconds.min(m.quotas.lecture_seconds as f64))
                    && m.budget.settle_minutes(Metered::Transcode, &video, transcoded).await?
                {
                    tracing::info!(video_id = %video, seconds, "transcoding minutes settled");
                }
                moved
            }
            JobState::Error => {
                let code = d
                    .error_code
                    .map(|c| c.to_string().trim_matches('"').to_owned())
                    .unwrap_or_else(|| "unknown".into());
                let message = d.error_message.unwrap_or_else(|| "no message".into());
                // MediaConvert's own words (they name buckets, keys, the account) stay in the log.
                tracing::warn!(video_id = %video, job_id = d.job_id, code, message, "transcoding failed");
                let change = StatusChange {
                    failure_reason: Some(FailureReason::TranscodeFailed),
                    only_for_job: job,
                    ..Default::default()
                };
                self.states.transition(&video, VideoStatus::Failed, &change, &now).await?
            }
            JobState::Canceled => {
                let change = StatusChange {
                    failure_reason: Some(FailureReason::TranscodeCanceled),
                    only_for_job: job,
                    ..Default::default()
                };
                self.states.transition(&video, VideoStatus::Failed, &change, &now).await?
            }
            JobState::Submitted | JobState::NewWarning | JobState::QueueHop | JobState::Unknown(_) => false,
        };
        tracing::info!(video_id = %video, status = %d.status, moved, "job state change");
        if d.status == JobState::Complete {
            self.completed(&video).await?;
        }
        if moved && d.status.is_failure() {
            // A failed video keeps its item (the host sees why) but none of its media.
            remove_media(self.media.as_ref(), &video, None).await?;
        } else if !moved {
            self.orphan(&video, &d.job_id, &d.status).await?;
        }
        Ok(Value::Null)
    }
}
