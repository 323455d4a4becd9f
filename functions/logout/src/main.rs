//! `POST /auth/logout`: revokes the refresh-token family, clears the cookie.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(logout::wire, vivid_dynamo::rate_counter).await
}
