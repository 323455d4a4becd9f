//! `POST /spaces/{spaceId}/videos/webex`: a video in IMPORTING and its import started (host).

use vivid_shared::{lambda_http::Error, routes::webex::ImportRecording, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(ImportRecording::new).await
}
