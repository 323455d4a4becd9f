//! `DELETE /users/me`: marks the account as deleting; the deletion worker deletes it.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_me::wire, vivid_dynamo::rate_counter).await
}
