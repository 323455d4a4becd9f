//! `GET /videos/{videoId}/snapshots`: the caller's snapshots with download URLs (member).

use vivid_shared::{lambda_http::Error, routes::snapshots::ListSnapshots, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(ListSnapshots::new).await
}
