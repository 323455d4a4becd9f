//! `PATCH /videos/{videoId}`: title and description (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(update_video::wire, vivid_dynamo::rate_counter).await
}
