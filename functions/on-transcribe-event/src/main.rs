//! EventBridge Transcribe Job State Change: a finished transcript becomes captions and a searchable word-timed transcript; a failed one is retried (three jobs in all), then recorded.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(on_transcribe_event::wire).await
}
