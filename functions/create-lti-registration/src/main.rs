//! `POST /lti/registrations`: an LMS registered by hand (no LTI Dynamic Registration), for the tool's LTI administrators.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(create_lti_registration::wire, vivid_dynamo::rate_counter).await
}
