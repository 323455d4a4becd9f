//! `GET /videos/{videoId}/study-map`: the class's k-anonymous study map and the caller's marks.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(get_study_map::wire, vivid_dynamo::rate_counter).await
}
