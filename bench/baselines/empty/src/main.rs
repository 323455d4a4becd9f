//! The floor: the Lambda runtime client and nothing else; answers every event with itself. With
//! the feature `http`, the same on `lambda_http`: every request is answered with its own path.

#[cfg(not(feature = "http"))]
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    use lambda_runtime::{Error, LambdaEvent, service_fn};
    use serde_json::Value;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<Value, Error>(event.payload) })).await
}

#[cfg(feature = "http")]
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    use lambda_http::{Body, Error, Request, Response, service_fn};
    lambda_http::run(service_fn(|request: Request| async move {
        let body = serde_json::json!({ "path": request.uri().path() }).to_string();
        Ok::<_, Error>(Response::builder().header("content-type", "application/json").body(Body::from(body))?)
    }))
    .await
}
