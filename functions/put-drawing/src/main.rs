//! `PUT /videos/{videoId}/drawings/{drawingId}`: creates or replaces a drawing.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(put_drawing::wire, vivid_dynamo::rate_counter).await
}
