//! Fault injection: the emulator proxy can answer a chosen AWS call with the service's throttling
//! answer, a 5xx in the service's error shape, or a connection closed without an answer — so that
//! tests drive every write route and event consumer through a failing backend and read back what
//! was left in the table and the buckets.
//!
//! ```ignore
//! let faults = stack.faults();
//! // Every TransactWriteItems fails with a 500 (more than the SDK's three attempts: it surfaces).
//! let rule = faults.add(FaultRule::dynamodb("TransactWriteItems", Fault::ServerError));
//! // ... the route answers 503 ...
//! assert!(faults.fired(rule) >= 3);
//! faults.clear();
//! ```
//!
//! The AWS SDK retries throttling, 5xx and broken connections itself (standard mode, three
//! attempts): a rule that fails fewer calls than that is absorbed, one that fails more surfaces.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::{body::Body, response::Response};
use http::{HeaderValue, StatusCode, header};

/// The AWS service a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    DynamoDb,
    S3,
    Lambda,
    Sqs,
    SecretsManager,
    Kms,
    Other,
}

/// One AWS call as the proxy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub service: Service,
    /// The operation's name as the service's API reference spells it (`PutItem`, `PutObject`,
    /// `Invoke`); `Unknown` when the proxy cannot tell.
    pub operation: String,
    /// The bucket of an S3 call, the function of a Lambda `Invoke`.
    pub resource: Option<String>,
}

/// What the emulator answers instead of the call's real answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The service's throttling answer: DynamoDB `ThrottlingException` (400), S3 `SlowDown`
    /// (503), Lambda `TooManyRequestsException` (429).
    Throttle,
    /// A 500 in the service's error shape: DynamoDB `InternalServerError`, S3 `InternalError`,
    /// Lambda `ServiceException`.
    ServerError,
    /// The connection is closed without an answer.
    Drop,
    /// DynamoDB `TransactWriteItems`: the transaction is cancelled (400
    /// `TransactionCanceledException`, which the SDK does not retry) with this reason on its first
    /// item and `None` on the others — e.g. `ThrottlingError` or `TransactionConflict`. On any
    /// other call it is a `ServerError`.
    CancelTransaction(String),
}

/// A rule: which calls fail, how, and which of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub service: Service,
    pub operation: String,
    /// Only the calls on this bucket (S3) or function (Lambda).
    pub resource: Option<String>,
    pub fault: Fault,
    /// The first `skip` matching calls pass.
    pub skip: u64,
    /// Then this many fail (`None`: every one until the rule is cleared).
    pub times: Option<u64>,
}

impl FaultRule {
    pub fn new(service: Service, operation: &str, fault: Fault) -> Self {
        Self { service, operation: operation.to_owned(), resource: None, fault, skip: 0, times: None }
    }

    /// A DynamoDB operation, by its `X-Amz-Target` name (`TransactWriteItems`, `UpdateItem`...).
    pub fn dynamodb(operation: &str, fault: Fault) -> Self {
        Self::new(Service::DynamoDb, operation, fault)
    }

    /// An S3 operation (`PutObject`, `DeleteObjects`, `CompleteMultipartUpload`...).
    pub fn s3(operation: &str, fault: Fault) -> Self {
        Self::new(Service::S3, operation, fault)
    }

    /// Lambda `Invoke` (of any function unless [`FaultRule::on`] names one).
    pub fn lambda_invoke(fault: Fault) -> Self {
        Self::new(Service::Lambda, "Invoke", fault)
    }

    /// Only the calls on this bucket (S3) or function (Lambda).
    pub fn on(mut self, resource: &str) -> Self {
        self.resource = Some(resource.to_owned());
        self
    }

    /// Lets the first `n` matching calls pass.
    pub fn after(mut self, n: u64) -> Self {
        self.skip = n;
        self
    }

    /// Fails `m` matching calls (after the skipped ones), then lets them pass again.
    pub fn times(mut self, m: u64) -> Self {
        self.times = Some(m);
        self
    }

    fn matches(&self, call: &Call) -> bool {
        self.service == call.service
            && self.operation == call.operation
            && self.resource.as_ref().is_none_or(|r| call.resource.as_ref() == Some(r))
    }
}

/// A rule added to [`Faults`], for reading its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultId(usize);

#[derive(Debug)]
struct Armed {
    rule: FaultRule,
    active: bool,
    /// Matching calls seen while the rule was active (skipped ones included).
    seen: u64,
    /// Calls the rule failed.
    fired: u64,
}

/// The fault rules of a running stack's emulator proxy (cheap to clone; every clone is the same
/// set). Rules apply in the order they were added: the first due rule that matches a call fails
/// it; every matching rule counts it.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<Armed>>>,
}

impl Faults {
    fn rules(&self) -> MutexGuard<'_, Vec<Armed>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Arms a rule; its id reads its counts, also after [`Faults::clear`].
    pub fn add(&self, rule: FaultRule) -> FaultId {
        let mut rules = self.rules();
        rules.push(Armed { rule, active: true, seen: 0, fired: 0 });
        FaultId(rules.len() - 1)
    }

    /// Disarms every rule: from now on every call reaches the emulator.
    pub fn clear(&self) {
        for armed in self.rules().iter_mut() {
            armed.active = false;
        }
    }

    /// How many calls the rule failed.
    pub fn fired(&self, id: FaultId) -> u64 {
        self.rules().get(id.0).map_or(0, |a| a.fired)
    }

    /// How many matching calls the rule saw while armed (the skipped and the failed).
    pub fn seen(&self, id: FaultId) -> u64 {
        self.rules().get(id.0).map_or(0, |a| a.seen)
    }

    /// The fault to answer `call` with, if a rule is due for it.
    pub fn check(&self, call: &Call) -> Option<Fault> {
        let mut chosen = None;
        for armed in self.rules().iter_mut().filter(|a| a.active && a.rule.matches(call)) {
            armed.seen += 1;
            let due =
                armed.seen > armed.rule.skip && armed.rule.times.is_none_or(|m| armed.fired < m) && chosen.is_none();
            if due {
                armed.fired += 1;
                chosen = Some(armed.rule.fault.clone());
            }
        }
        chosen
    }
}

/// The service and operation of a request the proxy received.
pub fn identify(method: &http::Method, uri: &http::Uri, headers: &http::HeaderMap) -> Call {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    if let Some((prefix, operation)) = target.and_then(|t| t.split_once('.')) {
        let service = match prefix {
            p if p.starts_with("DynamoDB_") => Service::DynamoDb,
            p if p.starts_with("AmazonSQS") => Service::Sqs,
            "secretsmanager" => Service::SecretsManager,
            "TrentService" => Service::Kms,
            _ => Service::Other,
        };
        return Call { service, operation: operation.to_owned(), resource: None };
    }
    let path = uri.path();
    if let Some(function) = path.strip_prefix("/2015-03-31/functions/").and_then(|p| p.strip_suffix("/invocations")) {
        let function = percent_encoding::percent_decode_str(function).decode_utf8_lossy();
        let function = function.rsplit(':').next().unwrap_or_default().to_owned();
        return Call { service: Service::Lambda, operation: "Invoke".to_owned(), resource: Some(function) };
    }
    match signing_service(uri, headers).as_deref() {
        None | Some("s3") => {}
        Some("sqs") => return Call { service: Service::Sqs, operation: "Unknown".to_owned(), resource: None },
        Some(_) => return Call { service: Service::Other, operation: "Unknown".to_owned(), resource: None },
    }
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let bucket = segments
        .next()
        .filter(|b| !b.is_empty())
        .map(|b| percent_encoding::percent_decode_str(b).decode_utf8_lossy().into_owned());
    let has_key = segments.next().is_some_and(|k| !k.is_empty());
    let operation = s3_operation(method, has_key, uri.query().unwrap_or(""), headers);
    Call { service: Service::S3, operation: operation.to_owned(), resource: bucket }
}

/// The service named in a SigV4 credential scope (`.../us-east-1/s3/aws4_request`), from the
/// `Authorization` header or a presigned URL's `X-Amz-Credential`.
fn signing_service(uri: &http::Uri, headers: &http::HeaderMap) -> Option<String> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or_default().to_owned());
    let from_query = || {
        uri.query()?
            .split('&')
            .find_map(|p| p.strip_prefix("X-Amz-Credential="))
            .map(|c| percent_encoding::percent_decode_str(c).decode_utf8_lossy().into_owned())
    };
    let credential = from_header.or_else(from_query)?;
    credential.split('/').rev().nth(1).map(str::to_owned)
}

/// An S3 REST call's operation, from its method, whether it names a key, its query and headers.
fn s3_operation(method: &http::Method, has_key: bool, query: &str, headers: &http::HeaderMap) -> &'static str {
    use http::Method;
    let has = |name: &str| query.split('&').any(|p| p == name || p.split_once('=').is_some_and(|(k, _)| k == name));
    let copy = headers.contains_key("x-amz-copy-source");
    match (method, has_key) {
        (m, true) if m == Method::PUT && has("partNumber") && has("uploadId") => {
            if copy {
                "UploadPartCopy"
            } else {
                "UploadPart"
            }
        }
        (m, true) if m == Method::PUT => {
            if copy {
                "CopyObject"
            } else {
                "PutObject"
            }
        }
        (m, true) if m == Method::POST && has("uploads") => "CreateMultipartUpload",
        (m, true) if m == Method::POST && has("uploadId") => "CompleteMultipartUpload",
        (m, true) if m == Method::DELETE && has("uploadId") => "AbortMultipartUpload",
        (m, true) if m == Method::DELETE => "DeleteObject",
        (m, true) if m == Method::HEAD => "HeadObject",
        (m, true) if m == Method::GET && has("uploadId") => "ListParts",
        (m, true) if m == Method::GET => "GetObject",
        (m, false) if m == Method::POST && has("delete") => "DeleteObjects",
        (m, false) if m == Method::GET && has("list-type") => "ListObjectsV2",
        (m, false) if m == Method::GET && has("uploads") => "ListMultipartUploads",
        (m, false) if m == Method::GET && has("cors") => "GetBucketCors",
        (m, false) if m == Method::PUT && has("cors") => "PutBucketCors",
        (m, false) if m == Method::GET => "ListObjects",
        (m, false) if m == Method::PUT => "CreateBucket",
        (m, false) if m == Method::HEAD => "HeadBucket",
        (m, _) if m == Method::OPTIONS => "Preflight",
        _ => "Unknown",
    }
}

fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let id = HeaderValue::from_str(&ulid::Ulid::new().to_string()).unwrap_or(HeaderValue::from_static("fault"));
    headers.insert("x-amzn-requestid", id.clone());
    headers.insert("x-amz-request-id", id);
    r
}

/// The answer of `fault` to `call` (`None`: close the connection without one). `body` is the
/// request's, for a cancelled transaction's reasons (one per item).
pub fn response(call: &Call, fault: &Fault, body: &[u8]) -> Option<Response> {
    let fault = match fault {
        Fault::Drop => return None,
        Fault::CancelTransaction(_) if call.operation != "TransactWriteItems" => &Fault::ServerError,
        other => other,
    };
    Some(match (call.service, fault) {
        (Service::DynamoDb, Fault::CancelTransaction(reason)) => {
            let items = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("TransactItems").and_then(|i| i.as_array()).map(Vec::len))
                .unwrap_or(1)
                .max(1);
            let reasons: Vec<serde_json::Value> = (0..items)
                .map(|i| {
                    if i == 0 {
                        serde_json::json!({ "Code": reason, "Message": format!("{reason} (injected)") })
                    } else {
                        serde_json::json!({ "Code": "None" })
                    }
                })
                .collect();
            let listed = (0..items).map(|i| if i == 0 { reason.as_str() } else { "None" }).collect::<Vec<_>>();
            let doc = serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": format!(
                    "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                    listed.join(", ")
                ),
                "CancellationReasons": reasons,
            });
            answer(StatusCode::BAD_REQUEST, "application/x-amz-json-1.0", doc.to_string())
        }
        (Service::DynamoDb, Fault::Throttle) => answer(
            StatusCode::BAD_REQUEST,
            "application/x-amz-json-1.0",
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#.to_owned(),
        ),
        (Service::DynamoDb, _) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/x-amz-json-1.0",
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error (injected)"}"#.to_owned(),
        ),
        (Service::S3, Fault::Throttle) => s3_error(StatusCode::SERVICE_UNAVAILABLE, "SlowDown", "Please reduce your request rate.", call),
        (Service::S3, _) => s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
            call,
        ),
        (Service::Lambda, Fault::Throttle) => {
            let mut r = answer(
                StatusCode::TOO_MANY_REQUESTS,
                "application/json",
                r#"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#.to_owned(),
            );
            r.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("TooManyRequestsException"));
            r
        }
        (Service::Lambda, _) => {
            let mut r = answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json",
                r#"{"Type":"Service","message":"Internal error (injected)"}"#.to_owned(),
            );
            r.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("ServiceException"));
            r
        }
        (_, Fault::Throttle) => answer(
            StatusCode::BAD_REQUEST,
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned(),
        ),
        (_, _) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/x-amz-json-1.1",
            r#"{"__type":"InternalFailure","message":"Internal error (injected)"}"#.to_owned(),
        ),
    })
}

/// S3's XML error document (none for a `HEAD`, whose answer has no body).
fn s3_error(status: StatusCode, code: &str, message: &str, call: &Call) -> Response {
    if call.operation == "HeadObject" || call.operation == "HeadBucket" {
        return answer(status, "application/xml", String::new());
    }
    answer(
        status,
        "application/xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>injected</RequestId></Error>"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, uri: &str, headers: &[(&'static str, &str)]) -> Call {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        identify(&method.parse().expect("method"), &uri.parse().expect("uri"), &h)
    }

    const S3_AUTH: (&str, &str) = (
        "authorization",
        "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x",
    );

    #[test]
    fn calls_are_identified_by_service_and_operation() {
        let dynamo = call("POST", "/", &[("x-amz-target", "DynamoDB_20120810.TransactWriteItems")]);
        assert_eq!((dynamo.service, dynamo.operation.as_str()), (Service::DynamoDb, "TransactWriteItems"));
        let invoke = call("POST", "/2015-03-31/functions/import-worker/invocations", &[]);
        assert_eq!(
            (invoke.service, invoke.operation.as_str(), invoke.resource.as_deref()),
            (Service::Lambda, "Invoke", Some("import-worker"))
        );
        let s3 = |m: &str, u: &str| {
            let c = call(m, u, &[S3_AUTH]);
            assert_eq!(c.service, Service::S3, "{m} {u}");
            c.operation
        };
        assert_eq!(s3("PUT", "/raw/raw/01J?x-id=PutObject"), "PutObject");
        assert_eq!(s3("PUT", "/raw/raw/01J?partNumber=2&uploadId=u&x-id=UploadPart"), "UploadPart");
        assert_eq!(s3("POST", "/raw/raw/01J?uploads"), "CreateMultipartUpload");
        assert_eq!(s3("POST", "/raw/raw/01J?uploadId=u"), "CompleteMultipartUpload");
        assert_eq!(s3("DELETE", "/raw/raw/01J?uploadId=u"), "AbortMultipartUpload");
        assert_eq!(s3("DELETE", "/raw/raw/01J?x-id=DeleteObject"), "DeleteObject");
        assert_eq!(s3("POST", "/media?delete"), "DeleteObjects");
        assert_eq!(s3("HEAD", "/raw/raw/01J"), "HeadObject");
        assert_eq!(s3("GET", "/user/drawings/a.json?x-id=GetObject"), "GetObject");
        assert_eq!(s3("GET", "/media?list-type=2&prefix=media%2F01J%2F"), "ListObjectsV2");
        assert_eq!(call("PUT", "/raw/raw/01J", &[S3_AUTH]).resource.as_deref(), Some("raw"));
        let presigned =
            call("PUT", "/raw/raw/01J?X-Amz-Credential=local%2F20250101%2Fus-east-1%2Fs3%2Faws4_request", &[]);
        assert_eq!((presigned.service, presigned.operation.as_str()), (Service::S3, "PutObject"));
        let kms = call("POST", "/", &[("x-amz-target", "TrentService.Decrypt")]);
        assert_eq!(kms.service, Service::Kms);
    }

    #[test]
    fn rules_skip_then_fail_a_number_of_matching_calls() {
        let faults = Faults::default();
        let put = Call { service: Service::DynamoDb, operation: "PutItem".into(), resource: None };
        let get = Call { service: Service::DynamoDb, operation: "GetItem".into(), resource: None };
        let id = faults.add(FaultRule::dynamodb("PutItem", Fault::Throttle).after(1).times(2));
        let fired: Vec<bool> = (0..5).map(|_| faults.check(&put).is_some()).collect();
        assert_eq!(fired, [false, true, true, false, false]);
        assert_eq!(faults.check(&get), None);
        assert_eq!((faults.seen(id), faults.fired(id)), (5, 2));
        let always = faults.add(FaultRule::dynamodb("GetItem", Fault::Drop));
        assert_eq!(faults.check(&get), Some(Fault::Drop));
        faults.clear();
        assert_eq!(faults.check(&get), None);
        assert_eq!(faults.fired(always), 1, "counts outlive the rule");
        let bucket = faults.add(FaultRule::s3("PutObject", Fault::ServerError).on("user"));
        let put_raw = Call { service: Service::S3, operation: "PutObject".into(), resource: Some("raw".into()) };
        let put_user = Call { resource: Some("user".into()), ..put_raw.clone() };
        assert_eq!(faults.check(&put_raw), None);
        assert_eq!(faults.check(&put_user), Some(Fault::ServerError));
        assert_eq!(faults.fired(bucket), 1);
    }

    #[test]
    fn a_cancelled_transaction_names_a_reason_per_item() {
        let call = Call { service: Service::DynamoDb, operation: "TransactWriteItems".into(), resource: None };
        let body = br#"{"TransactItems":[{"Put":{}},{"Update":{}},{"Update":{}}]}"#;
        let r = response(&call, &Fault::CancelTransaction("ThrottlingError".into()), body).expect("an answer");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(response(&call, &Fault::Drop, body).is_none());
    }
}
