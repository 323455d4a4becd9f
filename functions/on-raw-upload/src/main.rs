//! `on-raw-upload` (S3 ObjectCreated on the raw bucket): checks the upload, starts the transcoding job.

use vivid_shared::{events::OnRawUpload, lambda_runtime::Error, runtime::serve_event};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_event(OnRawUpload::new).await
}
