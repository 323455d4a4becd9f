//! `GET /videos/{videoId}`: details, status and signed playback (member).

use vivid_shared::{lambda_http::Error, routes::videos::GetVideo, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(GetVideo::new).await
}
