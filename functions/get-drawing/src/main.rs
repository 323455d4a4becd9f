//! `GET /videos/{videoId}/drawings/{drawingId}`: one drawing with its document (member, own).

use vivid_shared::{lambda_http::Error, routes::notes::GetDrawing, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(GetDrawing::new).await
}
