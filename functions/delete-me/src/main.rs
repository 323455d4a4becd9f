//! `DELETE /users/me`: deletes the caller's account and everything they own.

use vivid_shared::{lambda_http::Error, routes::users::DeleteMe, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(DeleteMe::new).await
}
