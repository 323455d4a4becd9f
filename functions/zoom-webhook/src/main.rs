//! `POST /zoom/webhook`: Zoom's signed events; a completed recording is imported once into each linked space.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(zoom_webhook::wire, vivid_dynamo::rate_counter).await
}
