//! `DELETE /videos/{videoId}/bookmarks/{bookmarkId}`: deletes one of the caller's bookmarks.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_bookmark::wire, vivid_dynamo::rate_counter).await
}
