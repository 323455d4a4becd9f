//! `GET /users/me/dashboard`: counts, last studied and recent videos.

use vivid_shared::{lambda_http::Error, routes::users::GetDashboard, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(GetDashboard::new).await
}
