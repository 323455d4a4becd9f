//! `PATCH /spaces/{spaceId}`: rename or describe (host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(update_space::wire, vivid_dynamo::rate_counter).await
}
