//! `POST /auth/refresh`: rotates the refresh token; reuse revokes its family.

use vivid_shared::{lambda_http::Error, routes::auth::RefreshToken, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(RefreshToken::new).await
}
