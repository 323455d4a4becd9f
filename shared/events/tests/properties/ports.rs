//! The handlers built on the in-memory world of `vivid-testkit`, which notes what the pipeline's
//! ports were asked ([`Call`]) and answers as the stack's adapters do.

use std::sync::Arc;

use serde_json::Value;
use vivid_domain::quota::Quotas;
use vivid_events::{EventError, EventHandler, OnConvertedOutput, OnRawUpload, OnTranscodeEvent, UploadLimit};
pub(crate) use vivid_testkit::memory::{Asked as Call, MEDIA_BUCKET as MEDIA, RAW_BUCKET as RAW};
use vivid_testkit::memory::{Memory, ready};

/// Runs a handler to its end (the in-memory ports never wait).
pub(crate) fn run(handler: &dyn EventHandler, event: Value) -> Result<Value, EventError> {
    ready(handler.handle(event))
}

pub(crate) struct Handlers {
    pub(crate) ports: Arc<Memory>,
    pub(crate) raw: OnRawUpload,
    pub(crate) converted: OnConvertedOutput,
    pub(crate) transcode: OnTranscodeEvent,
}

/// The handlers on an empty world (no video exists unless a test adds one).
pub(crate) fn handlers() -> Handlers {
    let ports = Arc::new(Memory::new());
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
/// transcoder error).
pub(crate) fn ok_or_malformed(r: &Result<Value, EventError>) -> bool {
    matches!(r, Ok(Value::Null) | Err(EventError::Malformed(_)))
}
