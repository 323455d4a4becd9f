//! `GET /videos/{videoId}/text-memo`: the caller's latest note state (member, own).

use vivid_shared::{lambda_http::Error, routes::notes::GetTextMemo, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(GetTextMemo::new).await
}
