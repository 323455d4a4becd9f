//! `DELETE /videos/{videoId}/upload`: aborts an unfinished upload (host).

use vivid_shared::{lambda_http::Error, routes::videos::AbortUpload, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(AbortUpload::new).await
}
