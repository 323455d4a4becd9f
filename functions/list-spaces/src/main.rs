//! `GET /spaces`: the caller's spaces, personal space first.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_spaces::wire, vivid_dynamo::rate_counter).await
}
