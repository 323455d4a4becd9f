//! `GET /spaces/{spaceId}`: one space and the caller's role.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_space::wire, vivid_dynamo::rate_counter).await
}
