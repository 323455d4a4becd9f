//! `DELETE /webex/token`: forgets the Webex connection.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(webex_disconnect::wire, vivid_dynamo::rate_counter).await
}
