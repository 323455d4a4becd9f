//! `GET /webex/recordings`: the caller's Webex recordings, tokens refreshed transparently.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_recordings::wire, vivid_dynamo::rate_counter).await
}
