//! `GET /spaces/{spaceId}/invitations`: the space's invitations with their status (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_invitations::wire, vivid_dynamo::rate_counter).await
}
