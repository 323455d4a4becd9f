//! S3 ObjectCreated on the media bucket: records outputs as they land.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(on_converted_output::wire).await
}
