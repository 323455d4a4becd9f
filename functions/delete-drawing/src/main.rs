//! `DELETE /videos/{videoId}/drawings/{drawingId}`: deletes a drawing (member, own).

use vivid_shared::{lambda_http::Error, routes::notes::DeleteDrawing, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(DeleteDrawing::new).await
}
