//! `PUT /videos/{videoId}/drawings/{drawingId}`: creates or replaces a drawing (member, own).

use vivid_shared::{lambda_http::Error, routes::notes::PutDrawing, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(PutDrawing::new).await
}
