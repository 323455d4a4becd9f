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

/// Whether a job in this MediaConvert status may still write outputs.
pub fn job_running(status: &str) -> bool {
    matches!(status, "SUBMITTED" | "PROGRESSING" | "STATUS_UPDATE" | "INPUT_INFORMATION")
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
