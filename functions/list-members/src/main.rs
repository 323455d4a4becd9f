//! `GET /spaces/{spaceId}/members`: members with name, e-mail, picture, role.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_members::wire, vivid_dynamo::rate_counter).await
}
