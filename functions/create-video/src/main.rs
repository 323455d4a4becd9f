//! `POST /spaces/{spaceId}/videos`: a video in UPLOADING and its presigned upload (host).

use vivid_shared::{lambda_http::Error, routes::videos::CreateVideo, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(CreateVideo::new).await
}
