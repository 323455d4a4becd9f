//! `GET /auth/google/login`: 302 to Google with state and PKCE, bound to the browser.

use vivid_shared::{lambda_http::Error, routes::auth::GoogleLogin, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(GoogleLogin::new).await
}
