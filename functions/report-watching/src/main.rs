//! `POST /videos/{videoId}/watching`: the player's report of what it played.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(report_watching::wire, vivid_dynamo::rate_counter).await
}
