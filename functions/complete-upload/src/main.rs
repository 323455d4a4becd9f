//! `POST /videos/{videoId}/upload/complete`: completes a multipart upload (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(complete_upload::wire, vivid_dynamo::rate_counter).await
}
