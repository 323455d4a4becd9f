//! `webex-import` (invoked asynchronously by `import-recording`): streams a Webex recording into
//! the raw bucket by multipart upload with constant memory.

use vivid_shared::{events::WebexImport, lambda_runtime::Error, runtime::serve_event};

#[tokio::main]
async fn main() -> Result<(), Error> {
    serve_event(WebexImport::new).await
}
