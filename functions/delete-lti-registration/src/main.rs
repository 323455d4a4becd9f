//! `DELETE /lti/registrations/{registrationId}`: a platform registered no more, for the tool's LTI administrators.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_lti_registration::wire, vivid_dynamo::rate_counter).await
}
