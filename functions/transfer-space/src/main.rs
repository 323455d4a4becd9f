//! `POST /spaces/{spaceId}/transfer`: hands the space to another member (host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(transfer_space::wire, vivid_dynamo::rate_counter).await
}
