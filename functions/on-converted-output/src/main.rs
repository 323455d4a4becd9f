//! `on-converted-output` (S3 ObjectCreated on the media bucket): records outputs as they land.

use vivid_shared::{events::OnConvertedOutput, lambda_runtime::Error, runtime::serve_event};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_event(OnConvertedOutput::new).await
}
