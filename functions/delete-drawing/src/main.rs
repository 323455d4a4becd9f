//! `DELETE /videos/{videoId}/drawings/{drawingId}`: deletes it.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_drawing::wire, vivid_dynamo::rate_counter).await
}
