//! `GET /spaces/{spaceId}/videos`: videos with status and the caller's progress.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_videos::wire, vivid_dynamo::rate_counter).await
}
