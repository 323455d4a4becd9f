//! `GET /videos/{videoId}/progress`: each member's progress on one video (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_video_progress::wire, vivid_dynamo::rate_counter).await
}
