//! `POST /lti/registrations/{registrationId}/deployments`: a deployment added to an LMS registration, for the tool's LTI administrators.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(add_lti_deployment::wire, vivid_dynamo::rate_counter).await
}
