//! `POST /auth/logout`: revokes the refresh-token family and clears the cookie.

use vivid_shared::{lambda_http::Error, routes::auth::Logout, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(Logout::new).await
}
