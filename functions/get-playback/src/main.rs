//! `GET /videos/{videoId}/playback`: a fresh playback grant, one round trip for a studying member.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_playback::wire, vivid_dynamo::rate_counter).await
}
