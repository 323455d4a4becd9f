//! `POST /spaces`: creates a space hosted by the caller.

use vivid_shared::{lambda_http::Error, routes::spaces::CreateSpace, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(CreateSpace::new).await
}
