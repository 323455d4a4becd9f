//! `POST /webex/token`: exchanges the code and stores the sealed tokens.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(webex_connect::wire, vivid_dynamo::rate_counter).await
}
