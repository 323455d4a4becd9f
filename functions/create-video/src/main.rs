//! `POST /spaces/{spaceId}/videos`: the video in UPLOADING and its upload instructions (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(create_video::wire, vivid_dynamo::rate_counter).await
}
