//! `GET /lti/register`: LTI Dynamic Registration, opened by the LMS with a one-time registration URL.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(lti_register::wire, vivid_dynamo::rate_counter).await
}
