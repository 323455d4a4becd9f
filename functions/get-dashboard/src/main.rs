//! `GET /users/me/dashboard`: counts, last studied video, recent videos.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_dashboard::wire, vivid_dynamo::rate_counter).await
}
