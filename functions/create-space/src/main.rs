//! `POST /spaces`: the caller becomes host and first member.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(create_space::wire, vivid_dynamo::rate_counter).await
}
