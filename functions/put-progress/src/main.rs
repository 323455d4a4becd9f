//! `PUT /videos/{videoId}/progress`: the caller's progress, one cheap write (member).

use vivid_shared::{lambda_http::Error, routes::videos::PutProgress, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(PutProgress::new).await
}
