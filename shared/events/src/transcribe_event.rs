//! `on-transcribe-event`: a transcription job ended. A completed job's result becomes the video's
//! caption track in the job's language (`source: transcribe`) and its word-timed transcript
//! (`media/{videoId}/transcript/words.json`, what `GET /videos/{id}/transcript?q=` searches); a
//! failed one is retried as a job of its own, up to three jobs in all, and the last failure is
//! recorded on the video. Handling an event twice writes the same (an event of an attempt older
//! than the video's is ignored).

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vivid_domain::{
    captions::{self, CaptionSource, CaptionTrack, Lang},
    error::{Guard, StoreError},
    failure::FailureReason,
    media::{Bucket, MediaStore},
    search::{self, SearchIndex},
    transcripts::{self, Transcriber, TranscriptState, TranscriptStatus},
    types::now_rfc3339,
    video::{CaptionStore, VideoCatalog, VideoStatus},
};

use crate::{EventError, EventHandler, transcode_event::start_job};

/// The `detail` of a "Transcribe Job State Change" event.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TranscribeJobDetail {
    pub transcription_job_name: String,
    pub transcription_job_status: String,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

pub struct OnTranscribeEvent {
    /// The job's video.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The transcript's state and its caption track.
    pub captions: Arc<dyn CaptionStore>,
    /// The media bucket: the job's result, the word-timed transcript, the track's files.
    pub media: Arc<dyn MediaStore>,
    /// The space's search (the transcript's words).
    pub index: Arc<dyn SearchIndex>,
    /// This stack's job names: another stack's job (which its rule never matches) is ignored.
    pub jobs: transcripts::JobNames,
    /// What starts a failed job's retry (none: a failure is final).
    pub retries: Option<Retries>,
}

/// What a retry takes: the service, and the media bucket its job reads from and writes into.
pub struct Retries {
    pub transcriber: Arc<dyn Transcriber>,
    pub media_bucket: String,
}

/// The caption track's language: the transcript's (`en-US`), as a tag.
fn lang_of(language: Option<&str>) -> Option<Lang> {
    language.and_then(|l| l.parse().ok())
}

impl OnTranscribeEvent {
    /// The next attempt after the `failed` one, started: its state (`InProgress`, or `Failed`
    /// when Transcribe refuses it); `None` when there is none to make (the last attempt failed,
    /// no retries are wired, or the video has no MP4 to read any more).
    async fn retry(
        &self,
        video: &vivid_domain::video::Video,
        failed: &TranscriptState,
    ) -> Result<Option<TranscriptState>, EventError> {
        let attempt = failed.attempt;
        let Some(r) = self.retries.as_ref().filter(|_| attempt < transcripts::MAX_ATTEMPTS) else { return Ok(None) };
        let Some(mp4) = video.outputs.mp4.as_deref().filter(|_| video.status == VideoStatus::Ready) else {
            return Ok(None);
        };
        // The failure recorded first: should the retry not start now (the service throttled),
        // the event's redelivery finds this attempt's failure and starts it then, and once Lambda
        // gives up the video says failed, not in progress for ever.
        self.captions.set_transcript(&video.video_id, failed, false).await?;
        let (next, language) = (attempt + 1, failed.language.clone());
        let job = self.jobs.job(&video.video_id, next, &r.media_bucket, mp4, language.clone());
        let state = start_job(r.transcriber.as_ref(), &job, next, language).await?;
        tracing::info!(video_id = %video.video_id, attempt = next, status = ?state.status, "transcription retried");
        Ok(Some(state))
    }
}

#[async_trait]
impl EventHandler for OnTranscribeEvent {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        let event: EventBridgeEvent<TranscribeJobDetail> =
            serde_json::from_value(event).map_err(|e| EventError::Malformed(e.to_string()))?;
        let d = event.detail;
        let Some((id, attempt)) = self.jobs.job_of(&d.transcription_job_name) else {
            tracing::warn!(job = d.transcription_job_name, "a transcription job not this stack's, ignored");
            return Ok(Value::Null);
        };
        let video = match self.catalog.get_video(&id).await? {
            Some(video) if !video.deleting => video,
            // Deleted or being deleted: Transcribe may have written its result after the deletion
            // emptied media/{videoId}/ (or while it does), and nothing else would ever remove it.
            _ => {
                for key in [
                    vivid_domain::video::layout::transcript_result(&id),
                    vivid_domain::video::layout::transcript_words(&id),
                ] {
                    self.media.delete(Bucket::Media, &key).await?;
                }
                tracing::info!(video_id = %id, "transcript of a deleted video: its result removed");
                return Ok(Value::Null);
            }
        };
        if video.transcript.as_ref().is_some_and(|t| t.status == TranscriptStatus::Completed) {
            // A redelivered event: done already (and a track the host deleted since stays deleted).
            return Ok(Value::Null);
        }
        if video.transcript.as_ref().is_some_and(|t| t.attempt > attempt) {
            // An earlier attempt's event, redelivered after its retry started.
            tracing::info!(video_id = %id, attempt, "an event of an earlier attempt, ignored");
            return Ok(Value::Null);
        }
        let known = video.transcript.as_ref().and_then(|t| t.language.clone());
        let now = now_rfc3339();
        let failed = |reason: FailureReason| TranscriptState {
            status: TranscriptStatus::Failed,
            language: known.clone(),
            failure_reason: Some(reason),
            updated_at: now.clone(),
            attempt,
        };
        let state = match d.transcription_job_status.as_str() {
            "COMPLETED" => {
                match self.media.get(Bucket::Media, &vivid_domain::video::layout::transcript_result(&id)).await? {
                    None => {
                        tracing::warn!(video_id = %id, "the transcription result is missing");
                        failed(FailureReason::TranscriptionFailed)
                    }
                    Some(json) => match transcripts::parse_output(&json) {
                        Err(e) => {
                            tracing::warn!(video_id = %id, error = %e, "unreadable transcription result");
                            failed(FailureReason::TranscriptionFailed)
                        }
                        Ok(t) if t.words.is_empty() => TranscriptState {
                            status: TranscriptStatus::Completed,
                            language: t.language.or(known.clone()),
                            failure_reason: None,
                            updated_at: now.clone(),
                            attempt,
                        },
                        Ok(t) => {
                            let language = t.language.clone().or(known.clone());
                            let words = serde_json::to_vec(&t.words).map_err(|e| StoreError::backend(e.to_string()))?;
                            self.media
                                .put(
                                    Bucket::Media,
                                    &vivid_domain::video::layout::transcript_words(&id),
                                    "application/json",
                                    words,
                                )
                                .await?;
                            let postings = search::transcript_postings(&id, &t.words);
                            self.index.index_video(&video.space_id, &id, search::Source::Transcript, &postings).await?;
                            let cues = transcripts::cues(&t.words);
                            match lang_of(language.as_deref()) {
                                // A track the host or a co-host uploaded in that language stays.
                                Some(lang)
                                    if video
                                        .outputs
                                        .captions
                                        .get(&lang)
                                        .is_some_and(|t| t.source != CaptionSource::Transcribe) =>
                                {
                                    tracing::info!(video_id = %id, "an uploaded track in the transcript's language stays");
                                }
                                Some(lang) => {
                                    let track = CaptionTrack {
                                        label: format!("{} (automatic)", captions::default_label(&lang)),
                                        lang,
                                        source: CaptionSource::Transcribe,
                                        cues: cues.len() as u32,
                                        updated_at: now.clone(),
                                    };
                                    match vivid_domain::tracks::publish(
                                        self.captions.as_ref(),
                                        self.media.as_ref(),
                                        &video,
                                        &track,
                                        &cues,
                                    )
                                    .await
                                    {
                                        // Gone meanwhile, or twenty languages already: the transcript stays.
                                        Ok(_) | Err(StoreError::Condition(Guard::Video | Guard::Item)) => {}
                                        Err(e) => return Err(e.into()),
                                    }
                                }
                                None => tracing::warn!(video_id = %id, "no language for the captions"),
                            }
                            TranscriptState {
                                status: TranscriptStatus::Completed,
                                language,
                                failure_reason: None,
                                updated_at: now.clone(),
                                attempt,
                            }
                        }
                    },
                }
            }
            "FAILED" => {
                // Transcribe's own words (they name the media's S3 URI) stay in the log.
                tracing::warn!(video_id = %id, attempt, reason = ?d.failure_reason, "transcription failed");
                let this = failed(FailureReason::TranscriptionFailed);
                self.retry(&video, &this).await?.unwrap_or(this)
            }
            _ => return Ok(Value::Null),
        };
        self.captions.set_transcript(&id, &state, false).await?;
        tracing::info!(video_id = %id, status = ?state.status, "transcript recorded");
        Ok(Value::Null)
    }
}
