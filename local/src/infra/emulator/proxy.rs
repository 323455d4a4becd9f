//! The proxy in front of the emulator: one DynamoDB call at a time, index reads that lag,
//! faults, IAM as the template grants it, S3's CORS and presigned URLs, Lambda's `Invoke`.

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddr},
};

use vivid_events::EventHandler;

use super::state::{Functions, ProxyState};
use super::{
    Severable, async_invoke, emulator_sdk_config, iam, index_lag, s3_cors, s3_presigned,
    s3_requests::{s3_list_parts_as_s3_sends_it, s3_object_key, s3_signing_key},
    severable::SeveringListener,
};
use crate::infra::faults::Faults;

/// The turn DynamoDB calls take on the emulator at `upstream`, shared by every proxy in front of
/// it (the stacks of one account each have a proxy, see [`crate::infra::account`]): a cancelled
/// transaction restores every table of the emulator, another stack's too.
fn dynamodb_turn(upstream: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    type Turns = std::sync::Mutex<HashMap<String, std::sync::Weak<tokio::sync::Mutex<()>>>>;
    static TURNS: std::sync::LazyLock<Turns> = std::sync::LazyLock::new(Turns::default);
    let mut turns = TURNS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    turns.retain(|_, turn| turn.strong_count() > 0);
    let upstream = upstream.trim_end_matches('/').to_owned();
    if let Some(turn) = turns.get(&upstream).and_then(std::sync::Weak::upgrade) {
        return turn;
    }
    let turn = std::sync::Arc::default();
    turns.insert(upstream, std::sync::Arc::downgrade(&turn));
    turn
}

/// A proxy in front of the emulator that lets one DynamoDB request through at a time.
///
/// moto's `TransactWriteItems` is not isolated: a cancelled transaction restores a copy of every
/// table taken when it began, undoing writes that other requests made meanwhile. DynamoDB does
/// not do that, so the local stack serialises DynamoDB calls to keep the emulator's answers
/// faithful; S3 and SQS pass through concurrently.
///
/// It is also where faults are injected ([`SerialProxy::faults`]): a call a rule names gets the
/// service's throttling answer, a 5xx, or its connection closed, instead of the emulator's answer.
pub struct SerialProxy {
    pub endpoint: String,
    dynamodb_calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    functions: Functions,
    invocations: async_invoke::AsyncInvocations,
    faults: Faults,
    grants: crate::infra::grants::Grants,
    index_lag: Option<index_lag::IndexLag>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SerialProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Lambda's `Invoke` (`POST /2015-03-31/functions/{name}/invocations`): moto cannot run our
/// functions, so the proxy hands the payload to the local handler, as Lambda does with an
/// `Event` invocation (202 at once, the handler runs on, retried when it fails: [`async_invoke`]).
fn invoke(s: &ProxyState, path: &str, payload: &[u8]) -> Option<axum::response::Response> {
    use axum::{body::Body, response::Response};
    let name = path.strip_prefix("/2015-03-31/functions/")?.strip_suffix("/invocations")?;
    let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
    let name = async_invoke::function_name(&name).to_owned();
    let handler = s.functions.get().and_then(|f| f.get(&name)).cloned();
    let reply = |status: u16, body: String| {
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_GATEWAY);
        r
    };
    let Some(handler) = handler else {
        return Some(reply(404, format!(r#"{{"Type":"User","message":"Function not found: {name}"}}"#)));
    };
    let event: serde_json::Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(e) => return Some(reply(400, format!(r#"{{"Type":"User","message":"invalid payload: {e}"}}"#))),
    };
    s.invocations.spawn(name, handler, event);
    Some(reply(202, String::new()))
}

async fn forward(
    axum::extract::State(s): axum::extract::State<ProxyState>,
    axum::extract::ConnectInfo(connection): axum::extract::ConnectInfo<Severable>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::{body::Body, response::Response};
    let (parts, body) = req.into_parts();
    let is_dynamodb =
        parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("DynamoDB_"));
    // A browser's request to a bucket (a presigned URL): S3's CORS applies.
    let cors = browser_s3_request(&parts);
    if let Some((bucket, origin)) = &cors
        && parts.method == http::Method::OPTIONS
        && parts.headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return s3_cors::preflight(&bucket_cors(&s.s3, bucket).await, origin, &parts.headers);
    }
    let head = parts.method == http::Method::HEAD;
    let Ok(bytes) = axum::body::to_bytes(body, 256 * 1024 * 1024).await else {
        let mut r = Response::new(Body::from("request body too large for the emulator proxy"));
        *r.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
        return r;
    };
    // KMS, Secrets Manager, SES, Lambda and EventBridge as IAM sees them (DynamoDB and S3 below).
    if let Some(refused) = iam::refusal(&s, &parts, &bytes).await {
        return refused;
    }
    let dynamodb_target = is_dynamodb
        .then(|| parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()))
        .flatten()
        .unwrap_or_default()
        .to_owned();
    if is_dynamodb {
        let header = |name: http::header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(denial) = s.grants.check(header(http::header::AUTHORIZATION), &dynamodb_target, &bytes) {
            return crate::infra::grants::access_denied(&denial);
        }
    }
    // An index read goes to the table's lagged twin (see `index_lag`); the request as sent is kept
    // for the twin's copy of what it writes.
    let sent = bytes.clone();
    let bytes = match (&s.index_lag, is_dynamodb) {
        (Some(lag), true) => match lag.route(&dynamodb_target, bytes) {
            Ok(b) => b,
            Err(index_lag::ConsistentIndexRead) => return index_lag::consistent_index_read_refused(),
        },
        _ => bytes,
    };
    let call = crate::infra::faults::identify(&parts.method, &parts.uri, &parts.headers);
    // S3 as IAM sees it: the signer's (a function's, or the presigning function's) statements.
    let s3_signer = (call.service == crate::infra::faults::Service::S3).then(|| s3_signing_key(&parts)).flatten();
    let object = s3_object_key(parts.uri.path());
    // A presigned URL as S3 checks it (moto does not): the headers it signed (a part's length, an
    // upload's length and type) as signed, and not expired.
    if call.service == crate::infra::faults::Service::S3
        && let Some(Err(refusal)) = s3_presigned::check(&parts, unix_now())
    {
        tracing::debug!(?refusal, path = parts.uri.path(), "presigned S3 request refused");
        let mut r = s3_presigned::refused(&refusal);
        if let Some((bucket, origin)) = &cors {
            s3_cors::decorate(&bucket_cors(&s.s3, bucket).await, origin, parts.method.as_str(), r.headers_mut());
        }
        return r;
    }
    if let (Some(key), Some(bucket)) = (&s3_signer, &call.resource)
        && let Some((action, arn)) = crate::infra::grants::s3_needs(&call.operation, bucket, object.as_deref())
        && s.grants.check_s3(key, action, &arn).is_some()
    {
        return crate::infra::grants::s3_access_denied();
    }
    // A batch delete needs `s3:DeleteObject` on every key it names (refused whole here, where S3
    // answers each refused key with an error of its own: either way the caller sees it).
    if call.operation == "DeleteObjects"
        && let (Some(key), Some(bucket)) = (&s3_signer, &call.resource)
    {
        let denied = crate::infra::grants::xml_keys(&bytes)
            .iter()
            .filter(|k| s.grants.check_s3(key, "s3:DeleteObject", &format!("arn:aws:s3:::{bucket}/{k}")).is_some())
            .count();
        if denied > 0 {
            return crate::infra::grants::s3_access_denied();
        }
    }
    if let Some(fault) = s.faults.check(&call) {
        tracing::debug!(service = ?call.service, operation = call.operation, ?fault, "fault injected");
        // `Drop` has no answer: the connection is severed, so the empty one is never written.
        return crate::infra::faults::response(&call, &fault, &bytes).unwrap_or_else(|| {
            connection.sever();
            Response::new(Body::empty())
        });
    }
    if parts.method == http::Method::POST
        && let Some(resp) = invoke(&s, parts.uri.path(), &bytes)
    {
        return resp;
    }
    let url = format!("{}{}", s.upstream, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut out = s.http.request(parts.method.clone(), url).body(bytes);
    let form_part = form_typed_part(&parts);
    for (k, v) in &parts.headers {
        if k != http::header::HOST
            && k != http::header::CONTENT_LENGTH
            && !(form_part && k == http::header::CONTENT_TYPE)
        {
            out = out.header(k, v);
        }
    }
    // The rate limiter's write, made before every route's own work, is neither one of the
    // route's round trips nor ever in an index (see `index_lag::is_rate_count`).
    let rate_count = is_dynamodb && index_lag::is_rate_count(&dynamodb_target, &sent);
    if is_dynamodb && !rate_count {
        s.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    // Counted from before it is sent, so that waiting for the indexes waits for this write too.
    let _in_flight =
        s.index_lag.as_ref().filter(|_| is_dynamodb && !rate_count).and_then(|lag| lag.begin(&dynamodb_target));
    let _turn = if is_dynamodb { Some(s.dynamodb.lock().await) } else { None };
    match out.send().await {
        Ok(resp) => {
            let status = resp.status();
            if let (Some(lag), true) = (&s.index_lag, is_dynamodb && !rate_count && status.is_success()) {
                let upstream = index_lag::Upstream {
                    http: s.http.clone(),
                    url: s.upstream.clone(),
                    authorization: parts
                        .headers
                        .get(http::header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned(),
                };
                lag.after(&dynamodb_target, &sent, &upstream).await;
            }
            // A missing object: 404 only to a signer who may list the bucket, else 403 (S3's rule;
            // not a refusal of a call the function makes, so neither recorded nor audited).
            if status == http::StatusCode::NOT_FOUND
                && matches!(call.operation.as_str(), "GetObject" | "HeadObject")
                && let (Some(key), Some(bucket)) = (&s3_signer, &call.resource)
                && s.grants.allows(key, "s3:ListBucket", &format!("arn:aws:s3:::{bucket}")) == Some(false)
            {
                return crate::infra::grants::s3_access_denied();
            }
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            let body = s3_list_parts_as_s3_sends_it(&parts, body);
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = status;
            for (k, v) in &headers {
                // A HEAD's Content-Length is the object's size: it must pass through.
                if (head || k != http::header::CONTENT_LENGTH)
                    && k != http::header::TRANSFER_ENCODING
                    && (cors.is_none() || !k.as_str().starts_with("access-control-"))
                {
                    r.headers_mut().append(k, v.clone());
                }
            }
            if let Some((bucket, origin)) = &cors {
                s3_cors::decorate(&bucket_cors(&s.s3, bucket).await, origin, parts.method.as_str(), r.headers_mut());
            }
            r
        }
        Err(e) => {
            let mut r = Response::new(Body::from(e.without_url().to_string()));
            *r.status_mut() = http::StatusCode::BAD_GATEWAY;
            r
        }
    }
}

impl SerialProxy {
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let upstream_sdk = emulator_sdk_config(upstream).await;
        let dynamodb = dynamodb_turn(upstream);
        let state = ProxyState {
            index_lag: index_lag::IndexLag::from_env(std::sync::Arc::clone(&dynamodb)),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&upstream_sdk).force_path_style(true).build(),
            ),
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(std::io::Error::other)?,
            dynamodb: std::sync::Arc::clone(&dynamodb),
            calls: std::sync::Arc::default(),
            functions: Functions::default(),
            invocations: async_invoke::AsyncInvocations::default(),
            faults: Faults::default(),
            grants: crate::infra::grants::Grants::default(),
        };
        let dynamodb_calls = std::sync::Arc::clone(&state.calls);
        let functions = std::sync::Arc::clone(&state.functions);
        let invocations = state.invocations.clone();
        let faults = state.faults.clone();
        let grants = state.grants.clone();
        let index_lag = state.index_lag.clone();
        let app =
            axum::Router::new().fallback(forward).with_state(state).into_make_service_with_connect_info::<Severable>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(SeveringListener(listener), app).await;
        });
        Ok(Self { endpoint, dynamodb_calls, functions, invocations, faults, grants, index_lag, server })
    }

    /// The grants every function's calls are checked against (see [`crate::infra::grants`]).
    pub fn grants(&self) -> crate::infra::grants::Grants {
        self.grants.clone()
    }

    /// Returns once the global secondary indexes caught up with every write so far.
    pub async fn indexes_settled(&self) {
        if let Some(lag) = &self.index_lag {
            lag.settled().await;
        }
    }

    /// The fault rules of this proxy: calls they name fail (see [`crate::infra::faults`]).
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// The Lambda `Event` invocations the proxy ran: configured with each function's retries and
    /// on-failure destination, counted per function.
    pub fn invocations(&self) -> async_invoke::AsyncInvocations {
        self.invocations.clone()
    }

    /// From now on, Lambda invocations go to these handlers.
    pub fn deliver_invocations_to(&self, functions: std::sync::Arc<HashMap<String, std::sync::Arc<dyn EventHandler>>>) {
        let _ = self.functions.set(functions);
    }

    /// How many DynamoDB operations went through so far (the benchmarks count round trips).
    pub fn dynamodb_calls(&self) -> u64 {
        self.dynamodb_calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// An S3 `UploadPart` whose body claims to be a form (`curl --data-binary` sends
/// `application/x-www-form-urlencoded` unless told otherwise): S3 stores the bytes whatever the
/// type (a presigned part URL signs only `host`), but moto's web framework parses them as a form
/// and answers 500. The proxy drops that type.
fn form_typed_part(parts: &http::request::Parts) -> bool {
    let query = parts.uri.query().unwrap_or("");
    let is_part = parts.method == http::Method::PUT
        && query.split('&').any(|p| p.starts_with("partNumber="))
        && query.split('&').any(|p| p.starts_with("uploadId="));
    let form = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
        let t = t.trim().to_ascii_lowercase();
        t.starts_with("application/x-www-form-urlencoded") || t.starts_with("multipart/form-data")
    });
    is_part && form
}

/// The bucket and `Origin` of a browser's request to S3 (a presigned URL used by a page): it has
/// an `Origin` and is no AWS API call of the SDK's JSON protocols.
fn browser_s3_request(parts: &http::request::Parts) -> Option<(String, String)> {
    let origin = parts.headers.get(http::header::ORIGIN)?.to_str().ok()?.to_owned();
    if parts.headers.contains_key("x-amz-target") || parts.uri.path().starts_with("/2015-03-31/") {
        return None;
    }
    let bucket = parts.uri.path().trim_start_matches('/').split('/').next().filter(|b| !b.is_empty())?;
    Some((percent_encoding::percent_decode_str(bucket).decode_utf8_lossy().into_owned(), origin))
}

/// A bucket's CORS rules as the emulator holds them (none when the bucket has no configuration,
/// or does not exist).
async fn bucket_cors(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<aws_sdk_s3::types::CorsRule> {
    match s3.get_bucket_cors().bucket(bucket).send().await {
        Ok(out) => out.cors_rules.unwrap_or_default(),
        Err(e) => {
            if e.as_service_error().and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
                != Some("NoSuchCORSConfiguration")
            {
                tracing::warn!(bucket, error = %aws_sdk_s3::error::DisplayErrorContext(e), "cannot read the bucket's CORS rules");
            }
            Vec::new()
        }
    }
}
