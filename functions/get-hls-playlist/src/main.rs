//! `GET /videos/{videoId}/hls/{playlist}`: a video's HLS playlist with every URI it names signed,
//! for players that do not copy a query (anonymous; the playback grant in the query is checked).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_hls_playlist::wire, vivid_dynamo::rate_counter).await
}
