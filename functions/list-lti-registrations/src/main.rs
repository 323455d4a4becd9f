//! `GET /lti/registrations`: the registered LMS platforms, for the tool's LTI administrators.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_lti_registrations::wire, vivid_dynamo::rate_counter).await
}
