//! EventBridge MediaConvert Job State Change: progress, READY (the storyboard, the transcript started) or FAILED; a deleted video's job cancelled, a failed one's media removed.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(on_transcode_event::wire).await
}
