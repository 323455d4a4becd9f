//! `POST /auth/oidc/{provider}/link`: starts linking an institutional identity to the caller's account.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(oidc_link::wire, vivid_dynamo::rate_counter).await
}
