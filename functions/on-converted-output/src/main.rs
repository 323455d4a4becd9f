//! S3 ObjectCreated on the media bucket: records outputs as they land, removes a deleted video's.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(on_converted_output::wire).await
}
