//! `GET /lti/jwks`: the LTI tool's public keys.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(lti_jwks::wire, vivid_dynamo::rate_counter).await
}
