//! `POST /videos/{videoId}/snapshots`: a snapshot and its presigned PUT (member).

use vivid_shared::{lambda_http::Error, routes::snapshots::CreateSnapshot, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(CreateSnapshot::new).await
}
