//! `DELETE /spaces/{spaceId}`: deletes a space and everything in it (host).

use vivid_shared::{lambda_http::Error, routes::spaces::DeleteSpace, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(DeleteSpace::new).await
}
