//! `DELETE /users/me/identities/{identityId}`: unlinks an institutional identity (never the last way to sign in).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_identity::wire, vivid_dynamo::rate_counter).await
}
