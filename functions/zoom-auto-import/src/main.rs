//! `PUT /spaces/{spaceId}/zoom-auto-import`: links the host's Zoom account to the space for automatic import.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(zoom_auto_import::wire).await
}
