//! `GET /videos/{videoId}/drawings`: the caller's drawings on this video.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_drawings::wire, vivid_dynamo::rate_counter).await
}
