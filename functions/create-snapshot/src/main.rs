//! `POST /videos/{videoId}/snapshots`: a presigned PUT for a captured frame.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(create_snapshot::wire, vivid_dynamo::rate_counter).await
}
