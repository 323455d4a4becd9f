//! `GET /videos/{videoId}/text-memo`: the caller's latest note state.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_text_memo::wire, vivid_dynamo::rate_counter).await
}
