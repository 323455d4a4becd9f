//! `POST /videos/{videoId}/bookmarks`: a bookmark of the caller's (counted per video).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(create_bookmark::wire, vivid_dynamo::rate_counter).await
}
