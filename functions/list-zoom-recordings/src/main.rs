//! `GET /zoom/recordings` (and its deprecated alias `GET /users/me/recordings`): the caller's Zoom cloud recordings across month windows and pages.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_zoom_recordings::wire, vivid_dynamo::rate_counter).await
}
