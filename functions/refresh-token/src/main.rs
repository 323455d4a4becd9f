//! `POST /auth/refresh`: rotates the refresh token; reuse revokes the family.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(refresh_token::wire, vivid_dynamo::rate_counter).await
}
