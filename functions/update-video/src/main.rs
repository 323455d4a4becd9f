//! `PATCH /videos/{videoId}`: title and description (host).

use vivid_shared::{lambda_http::Error, routes::videos::UpdateVideo, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(UpdateVideo::new).await
}
