//! `DELETE /spaces/{spaceId}`: the space, its videos and media, members' data (host).

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve(delete_space::wire).await
}
