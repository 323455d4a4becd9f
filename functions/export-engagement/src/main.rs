//! `POST /spaces/{spaceId}/engagement-export`: the class's engagement as a CSV download.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(export_engagement::wire, vivid_dynamo::rate_counter).await
}
