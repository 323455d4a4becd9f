//! `GET /users/me`: the caller's profile and connections.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_me::wire, vivid_dynamo::rate_counter).await
}
