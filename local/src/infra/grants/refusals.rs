//! The refusals, in each service's own error shape.

use super::Denial;

/// An answer with a status, a content type, extra headers and a body.
fn answer(
    status: http::StatusCode,
    content_type: &'static str,
    headers: &[(&'static str, &str)],
    body: String,
) -> axum::response::Response {
    let mut resp = axum::response::Response::new(axum::body::Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    for (name, value) in headers {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            resp.headers_mut().insert(*name, v);
        }
    }
    resp
}

/// S3's answer to a call the signer's role does not grant.
pub fn s3_access_denied() -> axum::response::Response {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>LOCAL</RequestId></Error>";
    answer(http::StatusCode::FORBIDDEN, "application/xml", &[], body.to_owned())
}

/// DynamoDB's answer to an action the caller's role does not grant (JSON 1.0, 400).
pub fn access_denied(denial: &Denial) -> axum::response::Response {
    let body = serde_json::json!({
        "__type": "com.amazon.coral.service#AccessDeniedException",
        "Message": denial.message(),
    });
    answer(http::StatusCode::BAD_REQUEST, "application/x-amz-json-1.0", &[], body.to_string())
}

/// The answer of an AWS JSON 1.1 service (KMS, Secrets Manager, EventBridge, Transcribe):
/// 400 with `__type` naming the error.
pub fn json_error(code: &str, message: &str) -> axum::response::Response {
    let body = serde_json::json!({ "__type": code, "Message": message, "message": message });
    answer(http::StatusCode::BAD_REQUEST, "application/x-amz-json-1.1", &[], body.to_string())
}

/// The answer of a REST-JSON service (Lambda, SES v2, MediaConvert): the status, the error's name
/// in `x-amzn-ErrorType`, the message in the body.
pub fn rest_json_error(status: http::StatusCode, code: &str, message: &str) -> axum::response::Response {
    let body = serde_json::json!({ "Type": "User", "Message": message, "message": message });
    answer(status, "application/json", &[("x-amzn-errortype", code)], body.to_string())
}
