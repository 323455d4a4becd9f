//! `GET /webex/recordings`: the caller's Webex recordings.

use vivid_shared::{lambda_http::Error, routes::webex::ListRecordings, runtime::serve_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_http(ListRecordings::new).await
}
