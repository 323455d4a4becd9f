//! `POST /invitations/{code}/accept`: joins a space with an invitation code (user).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(accept_invitation::wire, vivid_dynamo::rate_counter).await
}
