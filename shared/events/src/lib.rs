//! Event consumers: S3 object-created on the raw and media buckets, MediaConvert job state
//! changes from EventBridge, and the import and deletion workers. Each is idempotent: a duplicate, late or
//! out-of-order event never moves a video backwards and never starts a second job.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::s3::S3Event;
use serde_json::Value;
use vivid_config::{Config, ConfigError};
use vivid_domain::{error::StoreError, transcode::TranscodeError};

mod converted_output;
mod deletion;
mod import;
mod lti_grade;
mod lti_roster;
mod raw_upload;
mod sweep;
mod transcode_event;
mod transcribe_event;

pub use converted_output::OnConvertedOutput;
pub use deletion::DeletionWorker;
pub use import::{ImportWorker, recording_sources};
pub use lambda_runtime::Error;
pub use lti_grade::{GradeJob, LtiGradeWorker};
pub use lti_roster::{LtiRosterWorker, RosterJob};
pub use raw_upload::{OnRawUpload, UploadLimit};
pub use sweep::{StaleAfter, SweepStaleVideos};
pub use transcode_event::{JobStateDetail, Minutes, OnTranscodeEvent, Transcription};
pub use transcribe_event::{OnTranscribeEvent, Retries, TranscribeJobDetail};

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("malformed event: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transcode(#[from] TranscodeError),
    #[error(transparent)]
    Transcribe(#[from] vivid_domain::transcripts::TranscribeError),
    /// A platform (Zoom, Webex) failed for now: the event is retried.
    #[error("the platform failed, to retry: {0}")]
    Platform(String),
    /// A background worker could not be started.
    #[error(transparent)]
    Invoke(#[from] vivid_domain::imports::InvokeError),
}

/// One event function's logic; the Lambda runtime and the local stack call the same object.
#[async_trait]
pub trait EventHandler: Send + Sync {
    async fn handle(&self, event: Value) -> Result<Value, EventError>;
}

/// An S3 event key, decoded (`+` is a space, then percent-decoding).
pub fn decode_s3_key(raw: &str) -> String {
    percent_encoding::percent_decode_str(&raw.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// The created objects of an S3 event: `(bucket, decoded key)`. S3's test message (sent when a
/// bucket's notifications are configured: `{"Event": "s3:TestEvent", …}`, no records) has none.
fn s3_objects(event: Value) -> Result<Vec<(String, String)>, EventError> {
    if event.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") && event.get("Records").is_none() {
        return Ok(Vec::new());
    }
    let event: S3Event = serde_json::from_value(event).map_err(|e| EventError::Malformed(e.to_string()))?;
    Ok(event
        .records
        .into_iter()
        .filter(|r| r.event_name.as_deref().is_some_and(|n| n.starts_with("ObjectCreated:")))
        .filter_map(|r| Some((r.s3.bucket.name?, decode_s3_key(&r.s3.object.key?))))
        .collect())
}

/// The whole of an event function's `main`: tracing, the configuration, the function's own
/// wiring, then the handler on the Lambda runtime.
pub async fn serve<H, F, Fut>(wire: F) -> Result<(), lambda_runtime::Error>
where
    H: EventHandler + 'static,
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = Result<H, ConfigError>>,
{
    vivid_config::telemetry::init();
    let handler = Arc::new(wire(Config::from_process().await?).await?);
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<Value>| {
        let handler = Arc::clone(&handler);
        async move {
            let span = tracing::info_span!("event", request_id = %event.context.request_id);
            tracing::Instrument::instrument(handler.handle(event.payload), span)
                .await
                .map_err(|e| lambda_runtime::Diagnostic::from(Box::new(e) as Box<dyn std::error::Error + Send + Sync>))
        }
    }))
    .await
}
