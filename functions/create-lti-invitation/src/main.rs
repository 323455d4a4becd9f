//! `POST /lti/registration-invitations`: a one-time LMS registration URL, for the tool's LTI administrators.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(create_lti_invitation::wire, vivid_dynamo::rate_counter).await
}
