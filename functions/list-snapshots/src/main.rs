//! `GET /videos/{videoId}/snapshots`: the caller's snapshots with short-lived URLs.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_snapshots::wire, vivid_dynamo::rate_counter).await
}
