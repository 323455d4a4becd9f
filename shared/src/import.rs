//! Importing a Webex recording: the route creates the video in `IMPORTING` and starts the
//! `webex-import` function asynchronously; it streams the recording into the raw bucket with a
//! multipart upload (one part in memory at a time), after which `on-raw-upload` takes over
//! exactly as for a browser upload.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    error::{ApiError, StoreError},
    events::{EventError, EventHandler},
    media::MediaStore,
    model::VideoStore,
    runtime::{ConfigError, Deps},
    types::{UserId, VideoId, now_rfc3339},
    video::{MIN_PART, StatusChange, VideoStatus, layout},
    webex::{WebexApi, WebexError, WebexStore, fresh_tokens, refresh_and_store},
};

/// What `webex-import` is invoked with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportJob {
    pub video_id: VideoId,
    pub user_id: UserId,
    pub recording_id: String,
}

/// Starts an import without waiting for it: a Lambda `Event` invocation in AWS, a task locally.
#[async_trait]
pub trait ImportInvoker: Send + Sync {
    async fn start(&self, job: &ImportJob) -> Result<(), ApiError>;
}

/// The AWS invoker: `Invoke` with `InvocationType: Event`.
pub struct LambdaInvoker {
    pub client: aws_sdk_lambda::Client,
    pub function: String,
}

#[async_trait]
impl ImportInvoker for LambdaInvoker {
    async fn start(&self, job: &ImportJob) -> Result<(), ApiError> {
        let payload = serde_json::to_vec(job).map_err(ApiError::internal)?;
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload))
            .send()
            .await
            .map_err(|e| ApiError::internal(aws_sdk_lambda::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

/// `webex-import`: streams a recording into `raw/{videoId}`.
pub struct WebexImport {
    videos: Arc<dyn VideoStore>,
    tokens: Arc<dyn WebexStore>,
    api: Arc<dyn WebexApi>,
    media: Arc<dyn MediaStore>,
}

impl WebexImport {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { videos: d.videos(), tokens: d.webex_store(), api: d.webex()?, media: d.media()? })
    }

    /// The download link of the recording, refreshing the access token once if Webex refuses it.
    async fn link(&self, job: &ImportJob) -> Result<String, String> {
        let tokens =
            fresh_tokens(self.api.as_ref(), self.tokens.as_ref(), &job.user_id).await.map_err(|e| e.to_string())?;
        match self.api.recording(&tokens.access_token, &job.recording_id).await {
            Ok((_, link)) => Ok(link),
            Err(WebexError::Unauthorized) => {
                let fresh = refresh_and_store(self.api.as_ref(), self.tokens.as_ref(), &job.user_id, &tokens)
                    .await
                    .map_err(|e| e.to_string())?;
                self.api
                    .recording(&fresh.access_token, &job.recording_id)
                    .await
                    .map(|(_, l)| l)
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Streams the download into a multipart upload; at most one part (≥ 8 MiB) is held.
    async fn stream(&self, key: &str, upload_id: &str, link: &str) -> Result<u64, String> {
        let mut body = self.api.download(link).await.map_err(|e| e.to_string())?;
        let part_size = MIN_PART as usize;
        let mut buffer: Vec<u8> = Vec::with_capacity(part_size + 256 * 1024);
        let mut parts = Vec::new();
        let mut total = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| format!("the download broke off after {total} bytes: {e}"))?;
            total += chunk.len() as u64;
            buffer.extend_from_slice(&chunk);
            if buffer.len() >= part_size {
                let number = parts.len() as u32 + 1;
                let part = std::mem::replace(&mut buffer, Vec::with_capacity(part_size + 256 * 1024));
                let etag = self.media.upload_part(key, upload_id, number, part).await.map_err(|e| e.to_string())?;
                parts.push((number, etag));
            }
        }
        if total == 0 {
            return Err("the recording is empty".into());
        }
        if !buffer.is_empty() {
            let number = parts.len() as u32 + 1;
            let etag = self.media.upload_part(key, upload_id, number, buffer).await.map_err(|e| e.to_string())?;
            parts.push((number, etag));
        }
        self.media.complete_multipart(key, upload_id, &parts).await.map_err(|e| e.to_string())?;
        Ok(total)
    }

    async fn fail(&self, video: &VideoId, reason: String) -> Result<(), StoreError> {
        tracing::warn!(video_id = %video, reason, "import failed");
        let change = StatusChange { failure_reason: Some(reason), ..Default::default() };
        self.videos.transition(video, VideoStatus::Failed, &change, &now_rfc3339()).await.map(|_| ())
    }
}

#[async_trait]
impl EventHandler for WebexImport {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        let job: ImportJob = serde_json::from_value(event).map_err(|e| EventError::Malformed(e.to_string()))?;
        // Only one run per video: a retried or duplicate invocation finds the claim taken.
        if !self.videos.claim_import(&job.video_id, &now_rfc3339()).await? {
            tracing::info!(video_id = %job.video_id, "import already running or done");
            return Ok(Value::Null);
        }
        let link = match self.link(&job).await {
            Ok(link) => link,
            Err(reason) => {
                self.fail(&job.video_id, format!("cannot start the Webex download: {reason}")).await?;
                return Ok(Value::Null);
            }
        };
        let key = layout::raw(&job.video_id);
        let upload_id = self.media.create_multipart(&key, "video/mp4").await?;
        match self.stream(&key, &upload_id, &link).await {
            Ok(bytes) => tracing::info!(video_id = %job.video_id, bytes, "recording imported"),
            Err(reason) => {
                self.media.abort_multipart(&key, &upload_id).await?;
                self.fail(&job.video_id, format!("the Webex import failed: {reason}")).await?;
            }
        }
        Ok(Value::Null)
    }
}
