//! `POST /spaces/{spaceId}/videos/webex`: the video in IMPORTING, the import worker started (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(import_recording::wire, vivid_dynamo::rate_counter).await
}
