//! `DELETE /users/me`: deletes the account and everything it owns.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_me::wire).await
}
