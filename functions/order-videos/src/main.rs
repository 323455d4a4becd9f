//! `PUT /spaces/{spaceId}/videos/order`: the host's order of the space's lectures (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(order_videos::wire, vivid_dynamo::rate_counter).await
}
