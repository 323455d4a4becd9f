//! `DELETE /videos/{videoId}`: marks the video as deleting; the deletion worker deletes it (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_video::wire, vivid_dynamo::rate_counter).await
}
