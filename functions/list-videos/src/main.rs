//! `GET /spaces/{spaceId}/videos`: a space's videos with the caller's progress (member).

use vivid_shared::{lambda_http::Error, routes::videos::ListVideos, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(ListVideos::new).await
}
