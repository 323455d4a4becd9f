//! `PUT /videos/{videoId}/text-memo`: saves the latest state, conditionally with If-Match.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(put_text_memo::wire, vivid_dynamo::rate_counter).await
}
