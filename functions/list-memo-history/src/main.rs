//! `GET /videos/{videoId}/text-memo/history`: checkpoints, newest first.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_memo_history::wire, vivid_dynamo::rate_counter).await
}
