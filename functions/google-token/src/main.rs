//! `POST /auth/google`: a Google ID token for our tokens.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(google_token::wire, vivid_dynamo::rate_counter).await
}
