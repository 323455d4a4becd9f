//! `POST /zoom/token`: exchanges the code and stores the sealed tokens and the Zoom user id.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(zoom_connect::wire, vivid_dynamo::rate_counter).await
}
