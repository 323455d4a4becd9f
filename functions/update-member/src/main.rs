//! `PATCH /spaces/{spaceId}/members/{userId}`: makes a member co-host or participant (host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(update_member::wire, vivid_dynamo::rate_counter).await
}
