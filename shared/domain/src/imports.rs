//! Importing a recording from a connected platform: the route creates the video in
//! `IMPORTING` and starts the import worker without waiting for it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    connectors::Provider,
    error::StoreError,
    types::{SpaceId, UserId, VideoId},
};

/// What the import worker is invoked with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportJob {
    pub video_id: VideoId,
    pub user_id: UserId,
    /// The platform; Webex when absent (jobs queued before Zoom existed).
    #[serde(default = "webex")]
    pub provider: Provider,
    /// The platform's reference of the recording file.
    pub recording_id: String,
    /// What to fetch: the recording (and its transcript when the platform has one), or only the
    /// transcript of a video imported before the platform finished it.
    #[serde(default, skip_serializing_if = "JobKind::is_recording")]
    pub kind: JobKind,
}

/// What an import run fetches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobKind {
    #[default]
    Recording,
    /// Zoom's `recording.transcript_completed`: the transcript, for a video already imported.
    Transcript,
}

impl JobKind {
    fn is_recording(&self) -> bool {
        *self == Self::Recording
    }
}

fn webex() -> Provider {
    Provider::Webex
}

/// A video imported from a platform's recording, as the import index finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFile {
    pub video_id: VideoId,
    pub space_id: SpaceId,
    /// Whose connection imported it (the video's creator).
    pub user_id: UserId,
    /// The file reference it was imported from.
    pub reference: String,
}

/// The videos imported from a Zoom meeting instance, in every space (an eventually consistent
/// index: a video imported a moment ago may be missing, and its own import then fetches what it
/// needs).
#[async_trait]
pub trait ImportIndex: Send + Sync {
    async fn zoom_imports(&self, meeting: &str) -> Result<Vec<ImportedFile>, StoreError>;
}

/// Why a background worker (the import or the deletion worker) could not be started.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The invoking service was throttled or briefly out of service: try again.
    #[error("cannot start the worker now: {0}")]
    Unavailable(String),
    #[error("cannot start the worker: {0}")]
    Failed(String),
}

/// Starts an import without waiting: a Lambda `Event` invocation in AWS, a task locally.
#[async_trait]
pub trait ImportInvoker: Send + Sync {
    async fn start(&self, job: &ImportJob) -> Result<(), InvokeError>;
}
