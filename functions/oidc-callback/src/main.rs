//! `GET /auth/oidc/{provider}/callback`: code exchange, ID token verified, sign-up, sign-in or link, 302 to the front end.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(oidc_callback::wire, vivid_dynamo::rate_counter).await
}
