//! `GET /videos/{videoId}`: details, status, progress and signed playback.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_video::wire, vivid_dynamo::rate_counter).await
}
