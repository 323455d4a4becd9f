//! The import worker, invoked asynchronously: streams a Webex or Zoom recording into the raw bucket.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(import_worker::wire).await
}
