//! `POST /videos/{videoId}/upload/parts`: the parts S3 has and fresh part URLs, to resume an upload (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(upload_parts::wire, vivid_dynamo::rate_counter).await
}
