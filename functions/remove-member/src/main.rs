//! `DELETE /spaces/{spaceId}/members/{userId}`: removes a participant or leaves, with their data.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(remove_member::wire, vivid_dynamo::rate_counter).await
}
