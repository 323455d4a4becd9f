//! `PUT /videos/{videoId}/progress`: the cheap progress write.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(put_progress::wire, vivid_dynamo::rate_counter).await
}
