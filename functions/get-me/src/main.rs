//! `GET /users/me`: the caller's profile and Webex connection.

use vivid_shared::{lambda_http::Error, routes::users::GetMe, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(GetMe::new).await
}
