//! The HTTP API's `$default` route: 405 with `Allow` for an undeclared method on a known path,
//! 404 for an unknown path.

#[tokio::main]
async fn main() -> Result<(), vivid_edge::lambda_http::Error> {
    vivid_edge::serve_without_aws(no_route::wire).await
}
