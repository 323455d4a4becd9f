//! `DELETE /videos/{videoId}`: the video, its objects and everyone's data (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_video::wire).await
}
