//! `POST /videos/{videoId}/text-memo/history`: checkpoints the current state.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(create_memo_checkpoint::wire, vivid_dynamo::rate_counter).await
}
