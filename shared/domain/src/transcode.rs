//! The transcoding port and what the suite asks of it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::types::VideoId;

/// One rung of the HLS ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rendition {
    pub width: i32,
    pub height: i32,
    pub max_bitrate: i32,
    pub audio_bitrate: i32,
}

/// 360p, 540p and 720p at about 1, 2 and 3 Mbps; the top rung is also the MP4.
pub const LADDER: [Rendition; 3] = [
    Rendition { width: 640, height: 360, max_bitrate: 1_000_000, audio_bitrate: 96_000 },
    Rendition { width: 960, height: 540, max_bitrate: 2_000_000, audio_bitrate: 96_000 },
    Rendition { width: 1280, height: 720, max_bitrate: 3_000_000, audio_bitrate: 128_000 },
];

/// One thumbnail every this many seconds.
pub const THUMBNAIL_INTERVAL_SECS: i32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("the transcoder failed: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// What the transcoder reads of a source's container before any job (MediaConvert's `Probe`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SourceProbe {
    /// The length in seconds: the longest the container or any of its tracks states; `None` when
    /// it states none (a browser's WebM recording often does not) or the file is not one the
    /// transcoder reads.
    pub duration_seconds: Option<f64>,
}

#[async_trait]
pub trait Transcoder: Send + Sync {
    /// Reads the container of the video's raw object (no job, nothing transcoded).
    async fn probe(&self, video: &VideoId, raw_bucket: &str) -> Result<SourceProbe, TranscodeError>;
    /// Starts (or, for a video that already has one, finds) the job converting the video's raw
    /// object into its media, never more than the longest lecture allowed of it; returns the
    /// job id.
    /// Starts the job for a video's source, clipped at `clip_seconds` of it (what was charged:
    /// a job never transcodes more than its creator paid for).
    async fn submit(
        &self,
        video: &VideoId,
        raw_bucket: &str,
        media_bucket: &str,
        clip_seconds: u64,
    ) -> Result<String, TranscodeError>;
    /// Cancels a job that still runs; `Ok(false)` when it has ended (or never existed).
    async fn cancel(&self, job_id: &str) -> Result<bool, TranscodeError>;
}

/// The state a MediaConvert "Job State Change" event reports, parsed from MediaConvert's name of
/// it where the event comes in (`on-transcode-event`). A name MediaConvert adds later is kept as
/// [`JobState::Unknown`]: such an event moves no video.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum JobState {
    /// `SUBMITTED`: queued, not started.
    Submitted,
    /// `PROGRESSING`: started.
    Progressing,
    /// `INPUT_INFORMATION`: the source was read (its picture, never its length).
    InputInformation,
    /// `STATUS_UPDATE`: still running, with its percentage (every 10 s as the job asks).
    StatusUpdate,
    /// `NEW_WARNING`: running, with a warning.
    NewWarning,
    /// `QUEUE_HOP`: moved to another queue, still to run.
    QueueHop,
    /// `COMPLETE`: every output written.
    Complete,
    /// `CANCELED`: cancelled (by us: a deleted or over-budget video).
    Canceled,
    /// `ERROR`: failed.
    Error,
    /// A state this code does not know, as MediaConvert named it.
    Unknown(String),
}

impl JobState {
    /// MediaConvert's name of the state.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Submitted => "SUBMITTED",
            Self::Progressing => "PROGRESSING",
            Self::InputInformation => "INPUT_INFORMATION",
            Self::StatusUpdate => "STATUS_UPDATE",
            Self::NewWarning => "NEW_WARNING",
            Self::QueueHop => "QUEUE_HOP",
            Self::Complete => "COMPLETE",
            Self::Canceled => "CANCELED",
            Self::Error => "ERROR",
            Self::Unknown(name) => name,
        }
    }

    /// Whether a job in this state may still write outputs (and so is worth cancelling): every
    /// state before its end, a warning and a move to another queue included.
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            Self::Submitted
                | Self::Progressing
                | Self::StatusUpdate
                | Self::InputInformation
                | Self::NewWarning
                | Self::QueueHop
        )
    }

    /// Whether the job ended without its outputs.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Error | Self::Canceled)
    }
}

impl From<&str> for JobState {
    fn from(name: &str) -> Self {
        match name {
            "SUBMITTED" => Self::Submitted,
            "PROGRESSING" => Self::Progressing,
            "INPUT_INFORMATION" => Self::InputInformation,
            "STATUS_UPDATE" => Self::StatusUpdate,
            "NEW_WARNING" => Self::NewWarning,
            "QUEUE_HOP" => Self::QueueHop,
            "COMPLETE" => Self::Complete,
            "CANCELED" => Self::Canceled,
            "ERROR" => Self::Error,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl From<String> for JobState {
    fn from(name: String) -> Self {
        match Self::from(name.as_str()) {
            Self::Unknown(_) => Self::Unknown(name),
            known => known,
        }
    }
}

impl From<JobState> for String {
    fn from(state: JobState) -> String {
        match state {
            JobState::Unknown(name) => name,
            known => known.as_str().to_owned(),
        }
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the transcoder learnt of a video's source as soon as it read it (MediaConvert's
/// `INPUT_INFORMATION`): its first video stream's picture. Not its duration: AWS's documented
/// event carries none; the length is read before the job by [`Transcoder::probe`], and the
/// duration shown is the outputs' at `COMPLETE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    pub width: u32,
    pub height: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<f64>,
    /// MediaConvert's name of the codec (`H_264`, `PRORES`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<u8>,
    /// `YUV_420`, `YUV_422`, `YUV_444`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_format: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_states_are_read_from_mediaconverts_names_and_written_back_the_same() {
        for name in [
            "SUBMITTED",
            "PROGRESSING",
            "INPUT_INFORMATION",
            "STATUS_UPDATE",
            "NEW_WARNING",
            "QUEUE_HOP",
            "COMPLETE",
            "CANCELED",
            "ERROR",
            "RESUMED_SOMEDAY",
        ] {
            let state = JobState::from(name);
            assert_eq!(state.as_str(), name);
            assert_eq!(String::from(state.clone()), name);
            let json: JobState = serde_json::from_value(serde_json::json!(name)).expect("any name is a state");
            assert_eq!(json, state);
        }
        assert_eq!(JobState::from("complete"), JobState::Unknown("complete".into()), "names are exact");
        assert!(matches!(JobState::from("RESUMED_SOMEDAY"), JobState::Unknown(_)));
    }

    #[test]
    fn only_a_job_that_may_still_write_is_running_and_only_an_error_or_cancel_is_a_failure() {
        use JobState::*;
        let all =
            [Submitted, Progressing, InputInformation, StatusUpdate, NewWarning, QueueHop, Complete, Canceled, Error];
        let running: Vec<_> = all.iter().filter(|s| s.is_running()).map(JobState::as_str).collect();
        assert_eq!(
            running,
            ["SUBMITTED", "PROGRESSING", "INPUT_INFORMATION", "STATUS_UPDATE", "NEW_WARNING", "QUEUE_HOP"]
        );
        let failed: Vec<_> = all.iter().filter(|s| s.is_failure()).map(JobState::as_str).collect();
        assert_eq!(failed, ["CANCELED", "ERROR"]);
        assert!(!Unknown("X".into()).is_running() && !Unknown("X".into()).is_failure());
    }
}
