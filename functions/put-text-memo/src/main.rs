//! `PUT /videos/{videoId}/text-memo`: saves the latest note state; If-Match makes it conditional (member, own).

use vivid_shared::{lambda_http::Error, routes::notes::PutTextMemo, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(PutTextMemo::new).await
}
