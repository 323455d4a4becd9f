//! `GET /videos/{videoId}/watching`: the caller's own watched coverage.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_watching::wire, vivid_dynamo::rate_counter).await
}
