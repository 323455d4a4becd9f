//! `GET /users/me/sessions`: the caller's live sessions, newest first, the current one marked.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_sessions::wire, vivid_dynamo::rate_counter).await
}
