//! `GET /spaces/{spaceId}/members`: the space's members (member).

use vivid_shared::{lambda_http::Error, routes::members::ListMembers, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(ListMembers::new).await
}
