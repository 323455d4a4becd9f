//! `POST /spaces/{spaceId}/members`: adds a registered user as participant (host).

use vivid_shared::{lambda_http::Error, routes::members::AddMember, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(AddMember::new).await
}
