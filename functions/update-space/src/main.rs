//! `PATCH /spaces/{spaceId}`: renames or describes a space (host).

use vivid_shared::{lambda_http::Error, routes::spaces::UpdateSpace, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(UpdateSpace::new).await
}
