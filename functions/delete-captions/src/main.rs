//! `DELETE /videos/{videoId}/captions/{lang}`: removes a caption track (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_captions::wire, vivid_dynamo::rate_counter).await
}
