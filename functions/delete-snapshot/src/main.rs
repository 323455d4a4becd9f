//! `DELETE /videos/{videoId}/snapshots/{snapshotId}`: deletes one.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_snapshot::wire, vivid_dynamo::rate_counter).await
}
