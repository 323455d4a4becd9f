//! `GET /spaces/{spaceId}/progress`: each member's videos completed, progress and last access (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(list_class_progress::wire, vivid_dynamo::rate_counter).await
}
