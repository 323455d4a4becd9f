//! `DELETE /zoom/token`: revokes the tokens at Zoom, forgets the connection and its automatic imports.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(zoom_disconnect::wire, vivid_dynamo::rate_counter).await
}
