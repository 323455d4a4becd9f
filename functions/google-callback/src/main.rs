//! `GET /auth/google/callback`: code exchange, ID-token check, sign-up or sign-in, 302 to the front end.

use vivid_shared::{lambda_http::Error, routes::auth::GoogleCallback, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(GoogleCallback::new).await
}
