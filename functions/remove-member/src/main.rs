//! `DELETE /spaces/{spaceId}/members/{userId}`: removes a participant, or leaves.

use vivid_shared::{lambda_http::Error, routes::members::RemoveMember, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(RemoveMember::new).await
}
