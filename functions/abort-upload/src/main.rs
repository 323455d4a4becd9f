//! `DELETE /videos/{videoId}/upload`: aborts an unfinished upload (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(abort_upload::wire, vivid_dynamo::rate_counter).await
}
