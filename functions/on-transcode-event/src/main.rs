//! `on-transcode-event` (EventBridge MediaConvert Job State Change): progress, READY or FAILED.

use vivid_shared::{events::OnTranscodeEvent, lambda_runtime::Error, runtime::serve_event};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_event(OnTranscodeEvent::new).await
}
