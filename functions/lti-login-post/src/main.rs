//! `POST /lti/login`: the LMS's OIDC login initiation; the state kept server-side, 302 to the LMS.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(lti_login_post::wire, vivid_dynamo::rate_counter).await
}
