//! `POST /spaces/{spaceId}/videos/zoom`: a Zoom recording file into the space, the import worker started (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(import_zoom_recording::wire, vivid_dynamo::rate_counter).await
}
