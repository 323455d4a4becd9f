//! `GET /auth/oidc/{provider}/login`: 302 to the institution's provider with state, PKCE and nonce.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(oidc_login::wire, vivid_dynamo::rate_counter).await
}
