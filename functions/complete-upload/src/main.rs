//! `POST /videos/{videoId}/upload/complete`: completes a multipart upload (host).

use vivid_shared::{lambda_http::Error, routes::videos::CompleteUpload, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(CompleteUpload::new).await
}
