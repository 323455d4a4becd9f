//! `GET /videos/{videoId}/drawings/{drawingId}`: one drawing with its document.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_drawing::wire, vivid_dynamo::rate_counter).await
}
