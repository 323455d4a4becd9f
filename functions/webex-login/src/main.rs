//! `GET /webex/login`: Webex's authorize URL with a state bound to the caller.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(webex_login::wire, vivid_dynamo::rate_counter).await
}
