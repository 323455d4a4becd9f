//! `POST /videos/{videoId}/text-memo/history`: checkpoints the latest state into the history (member, own).

use vivid_shared::{lambda_http::Error, routes::notes::CreateCheckpoint, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(CreateCheckpoint::new).await
}
