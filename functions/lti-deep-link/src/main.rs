//! `POST /lti/deep-link`: the instructor's pick, signed as the deep-linking response.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(lti_deep_link::wire, vivid_dynamo::rate_counter).await
}
