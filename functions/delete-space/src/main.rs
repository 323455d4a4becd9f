//! `DELETE /spaces/{spaceId}`: marks the space as deleting; the deletion worker deletes it (host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_space::wire, vivid_dynamo::rate_counter).await
}
