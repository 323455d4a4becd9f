//! `GET /spaces/{spaceId}`: one space and the caller's role.

use vivid_shared::{lambda_http::Error, routes::spaces::GetSpace, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(GetSpace::new).await
}
