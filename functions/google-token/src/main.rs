//! `POST /auth/google`: a Google ID token for our access and refresh tokens (SPA, mobile).

use vivid_shared::{lambda_http::Error, routes::auth::GoogleToken, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(GoogleToken::new).await
}
