//! S3 ObjectCreated on the raw bucket: checks the upload, starts its MediaConvert job.

#[tokio::main]
async fn main() -> Result<(), vivid_events::Error> {
    vivid_events::serve(on_raw_upload::wire).await
}
