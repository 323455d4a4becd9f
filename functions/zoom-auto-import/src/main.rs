//! `PUT /spaces/{spaceId}/zoom-auto-import`: links the caller's Zoom account to the space for automatic import (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(zoom_auto_import::wire, vivid_dynamo::rate_counter).await
}
