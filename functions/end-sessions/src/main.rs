//! `DELETE /users/me/sessions`: signs out everywhere (`?keepCurrent=true`: everywhere else).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(end_sessions::wire, vivid_dynamo::rate_counter).await
}
