//! `GET /videos/{videoId}/transcript`: the automatic transcript as timed cues, or with `?q=` the moments its words are spoken (member).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_transcript::wire, vivid_dynamo::rate_counter).await
}
