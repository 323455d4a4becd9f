//! `POST /lti/session`: the launch's one-time code for the session's tokens.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(lti_session::wire, vivid_dynamo::rate_counter).await
}
