//! `GET /videos/{videoId}/drawings`: the caller's drawings on a video (member, own).

use vivid_shared::{lambda_http::Error, routes::notes::ListDrawings, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(ListDrawings::new).await
}
