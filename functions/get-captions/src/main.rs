//! `GET /videos/{videoId}/captions/{lang}`: a caption track as a file to keep, WebVTT or SRT (member).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_captions::wire, vivid_dynamo::rate_counter).await
}
