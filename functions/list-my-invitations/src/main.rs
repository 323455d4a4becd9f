//! `GET /users/me/invitations`: the open e-mail invitations to the caller's address (user).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_my_invitations::wire, vivid_dynamo::rate_counter).await
}
