//! `POST /lti/launch`: the LMS's ID token checked; 302 to the front end with a one-time code.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(lti_launch::wire, vivid_dynamo::rate_counter).await
}
