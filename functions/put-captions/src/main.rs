//! `PUT /videos/{videoId}/captions/{lang}`: a caption track, WebVTT or SRT (host, co-host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(put_captions::wire, vivid_dynamo::rate_counter).await
}
