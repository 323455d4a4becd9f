//! `GET /webex/login`: 302 to Webex with a state bound to the caller.

use vivid_shared::{lambda_http::Error, routes::webex::WebexLogin, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(WebexLogin::new).await
}
