//! `POST /spaces/{spaceId}/members`: adds a registered user (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(add_member::wire, vivid_dynamo::rate_counter).await
}
