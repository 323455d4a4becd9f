//! `GET /auth/google/login`: 302 to Google with state and PKCE, bound to the browser.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(google_login::wire, vivid_dynamo::rate_counter).await
}
