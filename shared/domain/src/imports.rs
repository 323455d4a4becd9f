//! Importing a recording from a connected platform: the route creates the video in
//! `IMPORTING` and starts the import worker without waiting for it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    connectors::Provider,
    types::{UserId, VideoId},
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
}

fn webex() -> Provider {
    Provider::Webex
}

/// Why an import could not be started.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The invoking service was throttled or briefly out of service: try again.
    #[error("cannot start the import now: {0}")]
    Unavailable(String),
    #[error("cannot start the import: {0}")]
    Failed(String),
}

/// Starts an import without waiting: a Lambda `Event` invocation in AWS, a task locally.
#[async_trait]
pub trait ImportInvoker: Send + Sync {
    async fn start(&self, job: &ImportJob) -> Result<(), InvokeError>;
}
