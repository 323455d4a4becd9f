//! `GET /spaces`: the caller's spaces, personal space first.

use vivid_shared::{lambda_http::Error, routes::spaces::ListSpaces, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(ListSpaces::new).await
}
