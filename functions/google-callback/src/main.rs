//! `GET /auth/google/callback`: code exchange, sign-up or sign-in, 302 to the front end.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(google_callback::wire, vivid_dynamo::rate_counter).await
}
