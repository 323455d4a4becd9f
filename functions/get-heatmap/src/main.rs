//! `GET /videos/{videoId}/heatmap`: the class's heatmap and drop-off (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_heatmap::wire, vivid_dynamo::rate_counter).await
}
