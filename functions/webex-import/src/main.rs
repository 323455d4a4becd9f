//! The import worker, invoked asynchronously: streams a recording into the raw bucket.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(webex_import::wire).await
}
