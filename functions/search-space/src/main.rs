//! `GET /spaces/{spaceId}/search`: the space's lectures holding every word of `q`, best first, with the moments to jump to (member).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(search_space::wire, vivid_dynamo::rate_counter).await
}
