//! `DELETE /videos/{videoId}`: the video, its objects and everyone's per-video data (host).

use vivid_shared::{lambda_http::Error, routes::videos::DeleteVideo, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(DeleteVideo::new).await
}
