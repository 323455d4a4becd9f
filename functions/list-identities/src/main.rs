//! `GET /users/me/identities`: the ways the caller signs in (Google, linked institutional identities).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_identities::wire, vivid_dynamo::rate_counter).await
}
