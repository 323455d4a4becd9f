//! `GET /videos/{videoId}/text-memo/history`: checkpoints, newest first (member, own).

use vivid_shared::{lambda_http::Error, routes::notes::ListMemoHistory, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(ListMemoHistory::new).await
}
