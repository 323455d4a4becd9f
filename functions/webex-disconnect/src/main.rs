//! `DELETE /webex/token`: forgets the Webex connection.

use vivid_shared::{lambda_http::Error, routes::webex::WebexDisconnect, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(WebexDisconnect::new).await
}
