//! `GET /videos/{videoId}/bookmarks`: the caller's bookmarks of a video.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_bookmarks::wire, vivid_dynamo::rate_counter).await
}
