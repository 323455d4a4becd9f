//! `DELETE /videos/{videoId}/snapshots/{snapshotId}`: deletes one of the caller's snapshots (member).

use vivid_shared::{lambda_http::Error, routes::snapshots::DeleteSnapshot, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(DeleteSnapshot::new).await
}
