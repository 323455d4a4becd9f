//! `POST /webex/token`: exchanges the Webex code and stores the tokens.

use vivid_shared::{lambda_http::Error, routes::webex::WebexConnect, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(WebexConnect::new).await
}
