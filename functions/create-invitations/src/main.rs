//! `POST /spaces/{spaceId}/invitations`: a shareable code, or e-mail invitations in bulk (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(create_invitations::wire, vivid_dynamo::rate_counter).await
}
