//! HTTP plumbing shared by every route: request accessors that validate at the edge, JSON
//! responses, and the one dispatcher that turns errors into problem documents.

use std::{str::FromStr, sync::Arc};

use async_trait::async_trait;
use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response, request::RequestContext};
use serde::{Serialize, de::DeserializeOwned};
use tracing::Instrument;

use vivid_config::{Config, ConfigError};
use vivid_domain::types::Invalid;
use vivid_tokens::{Caller, TokenVerifier};

use crate::problem::ApiError;

/// Default largest JSON body a route accepts.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One HTTP route's logic. `main.rs` of each function hands one to the Lambda runtime; the local
/// gateway calls the very same object.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError>;
}

/// A request with validating accessors.
pub struct ApiRequest {
    inner: Request,
    request_id: String,
}

impl ApiRequest {
    pub fn new(inner: Request) -> Self {
        let request_id = match inner.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
            _ => None,
        }
        .or_else(|| inner.lambda_context_ref().map(|c| c.request_id.clone()))
        .unwrap_or_else(|| ulid::Ulid::new().to_string());
        Self { inner, request_id }
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    pub fn method(&self) -> &http::Method {
        self.inner.method()
    }

    /// The path the client asked for, as sent (API Gateway's `rawPath`).
    pub fn raw_path(&self) -> &str {
        self.inner.uri().path()
    }

    pub fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.inner.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// A path parameter parsed into its type; a malformed value is a 400.
    pub fn path<T: FromStr<Err = Invalid>>(&self, name: &str) -> Result<T, ApiError> {
        let params = self.inner.path_parameters_ref();
        let raw = params
            .and_then(|p| p.first(name))
            .ok_or_else(|| ApiError::bad_request("missing_parameter", format!("path parameter {name} is missing")))?;
        raw.parse().map_err(|e: Invalid| ApiError::bad_request("malformed_id", e.0))
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.inner.query_string_parameters_ref().and_then(|q| q.first(name))
    }

    /// The caller, from `Authorization: Bearer <access token>`.
    pub fn caller(&self, verifier: &TokenVerifier) -> Result<Caller, ApiError> {
        Ok(verifier.verify(self.bearer_token()?)?)
    }

    /// The token of `Authorization: Bearer <token>`, not verified.
    pub fn bearer_token(&self) -> Result<&str, ApiError> {
        let value = self.header(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthenticated(
                "an access token is required: send it as 'Authorization: Bearer <token>' (sign in for one, or get a new one from POST /auth/refresh)",
            )
        })?;
        value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthenticated("the Authorization header must be 'Bearer <token>'"))
    }

    /// The address the request came from: API Gateway's `requestContext.http.sourceIp`, the TCP
    /// peer's address (never a header the client could set; behind a proxy such as CloudFront it
    /// would be the proxy's). `None` for an event without one.
    pub fn source_ip(&self) -> Option<std::net::IpAddr> {
        match self.inner.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.as_deref()?.parse().ok(),
            _ => None,
        }
    }

    /// The origin this request was made to (`https://api.example.com`): API Gateway's
    /// `requestContext.domainName` (the custom domain or the execute-api host the client used)
    /// and `X-Forwarded-Proto`. `None` when the event carries no domain.
    pub fn origin(&self) -> Option<String> {
        let domain = match self.inner.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.domain_name.clone(),
            _ => None,
        }?;
        let scheme = match self.header("x-forwarded-proto") {
            Some("http") => "http",
            _ => "https",
        };
        Some(format!("{scheme}://{domain}"))
    }

    /// A cookie's value (from the `Cookie` header lambda_http rebuilds from the event's cookies).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies(name).into_iter().next().filter(|v| !v.is_empty())
    }

    /// Every value the request carries for the cookie `name`, in order (a browser sends two
    /// cookies of one name when they differ in domain or path).
    pub fn cookies(&self, name: &str) -> Vec<String> {
        self.inner
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .filter(|c| c.name() == name)
            .map(|c| c.value().to_owned())
            .collect()
    }

    pub fn body_bytes(&self) -> &[u8] {
        self.inner.body().as_ref()
    }

    /// The body of a text route: its media type (one of `types`, else 415 naming `expected`) and
    /// its bytes (413 above `max`).
    pub fn typed_body(&self, max: usize, types: &[&str], expected: &'static str) -> Result<(String, &[u8]), ApiError> {
        let mime = self
            .header(header::CONTENT_TYPE)
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .filter(|m| types.contains(&m.as_str()))
            .ok_or(ApiError::UnsupportedMediaType(expected))?;
        let bytes = self.body_bytes();
        if bytes.len() > max {
            return Err(ApiError::PayloadTooLarge { limit: max });
        }
        Ok((mime, bytes))
    }

    /// The JSON body as `T`: 415 unless `application/json`, 413 above `max` bytes, 400 for
    /// malformed JSON, 422 for JSON that breaks the type's rules.
    pub fn json<T: DeserializeOwned>(&self, max: usize) -> Result<T, ApiError> {
        let is_json = self
            .header(header::CONTENT_TYPE)
            .and_then(|ct| ct.split(';').next())
            .map(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType("application/json"));
        }
        let bytes = self.body_bytes();
        if bytes.len() > max {
            return Err(ApiError::PayloadTooLarge { limit: max });
        }
        serde_json::from_slice(bytes).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => ApiError::unprocessable("invalid_body", e.to_string()),
            _ => ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")),
        })
    }
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Binary(body))
        .map_err(ApiError::internal)
}

/// A JSON 201 with its `Location`.
pub fn created<T: Serialize>(location: &str, value: &T) -> Result<Response<Body>, ApiError> {
    let mut resp = json(StatusCode::CREATED, value)?;
    let loc = HeaderValue::from_str(location).map_err(ApiError::internal)?;
    resp.headers_mut().insert(header::LOCATION, loc);
    Ok(resp)
}

pub use cookie::SameSite;

/// A `Set-Cookie` value: always `HttpOnly; Secure`, with the given path, lifetime, SameSite and,
/// when given, the domain it is shared with (sibling subdomains).
pub fn cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: u64,
    same_site: SameSite,
    domain: Option<&str>,
) -> String {
    let mut c = cookie::Cookie::build((name.to_owned(), value.to_owned()))
        .path(path.to_owned())
        .max_age(cookie::time::Duration::seconds(i64::try_from(max_age_secs).unwrap_or(i64::MAX)))
        .http_only(true)
        .secure(true)
        .same_site(same_site);
    if let Some(d) = domain {
        c = c.domain(d.to_owned());
    }
    c.build().to_string()
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str, path: &str, same_site: SameSite, domain: Option<&str>) -> String {
    cookie(name, "", path, 0, same_site, domain)
}

/// Adds `Set-Cookie` headers to a response.
pub fn with_cookies(mut resp: Response<Body>, cookies: &[String]) -> Result<Response<Body>, ApiError> {
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(c).map_err(ApiError::internal)?);
    }
    Ok(resp)
}

/// A 302 that no cache keeps.
pub fn redirect(location: &str) -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Empty)
        .map_err(ApiError::internal)
}

pub fn no_content() -> Result<Response<Body>, ApiError> {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).map_err(ApiError::internal)
}

/// The problem document for an error.
pub fn problem(err: &ApiError, request_id: &str) -> Response<Body> {
    let doc = err.to_problem(Some(request_id));
    let body = serde_json::to_vec(&doc).unwrap_or_default();
    let mut resp = Response::new(Body::Binary(body));
    *resp.status_mut() = err.status();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    match err {
        ApiError::Unauthenticated(_) | ApiError::AccountDeleted => {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // RFC 9470: the client signs in again (at most `max_age` seconds before it repeats).
        ApiError::ReauthenticationRequired(e) => {
            let challenge = format!("Bearer error=\"insufficient_user_authentication\", max_age=\"{}\"", e.max_age);
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        _ => {}
    }
    if matches!(err, ApiError::QuotaExceeded(e) if e.quota.resets_daily()) {
        let (_, left) = vivid_domain::quota::utc_day(vivid_domain::types::unix_now());
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(left));
    }
    if let ApiError::RateLimited { retry_after_secs, .. } = err {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    if matches!(err, ApiError::Unavailable(_)) {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::problem::UNAVAILABLE_RETRY_AFTER_SECS));
    }
    resp
}

/// Runs a handler on one request: the only place where an error becomes a response.
pub async fn dispatch(handler: &dyn Handler, req: Request) -> Response<Body> {
    let req = ApiRequest::new(req);
    let span = tracing::info_span!("request", request_id = %req.request_id(), method = %req.method());
    async {
        let result = handler.handle(&req).await;
        let resp = match result {
            Ok(resp) => resp,
            Err(err) => {
                match &err {
                    ApiError::Internal(cause) => tracing::error!(error = %cause, cause = ?cause, "request failed"),
                    ApiError::Unavailable(cause) => {
                        tracing::warn!(error = %cause, cause = ?cause, "backend unavailable: answered 503")
                    }
                    other => tracing::info!(status = other.status().as_u16(), code = other.code(), "request refused"),
                }
                problem(&err, req.request_id())
            }
        };
        tracing::info!(status = resp.status().as_u16(), "request done");
        resp
    }
    .instrument(span)
    .await
}

/// The whole of an HTTP function's `main`: tracing, the configuration, the function's own
/// wiring (only the clients its handler uses, built once), then the handler on the runtime
/// behind the per-caller rate limit, counted in the store `counter` builds
/// (`vivid_dynamo::rate_counter`; see [`crate::rate`]).
pub async fn serve<H, F, Fut>(wire: F, counter: crate::rate::CounterFrom) -> Result<(), lambda_http::Error>
where
    H: Handler + 'static,
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = Result<H, ConfigError>>,
{
    vivid_config::telemetry::init();
    let cfg = Config::from_process().await?;
    let handler = wire(cfg.clone()).await?;
    run(crate::rate::limited(&cfg, counter, Arc::new(handler))?).await
}

/// [`serve`] for a function that calls no AWS service: its configuration has the environment and
/// no SDK configuration (`Config::sdk` is an error), so `aws-config`'s default chain is neither
/// run at init nor linked. Nor is it rate limited: counting needs the table, and such a function
/// (`no-route`, the `$default` route's 404/405) does no work a count would spare.
pub async fn serve_without_aws<H, F, Fut>(wire: F) -> Result<(), lambda_http::Error>
where
    H: Handler + 'static,
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = Result<H, ConfigError>>,
{
    vivid_config::telemetry::init();
    let handler = wire(Config::from_process_env()).await?;
    run(Arc::new(handler)).await
}

/// Serves a handler on the Lambda runtime (HTTP API payload v2).
pub async fn run(handler: Arc<dyn Handler>) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let handler = Arc::clone(&handler);
        async move { Ok::<_, std::convert::Infallible>(crate::answer::Answer(dispatch(handler.as_ref(), req).await)) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_backend_is_a_503_the_client_may_retry_after_a_few_seconds() {
        let err: ApiError = vivid_domain::error::StoreError::unavailable("throttled").into();
        let resp = problem(&err, "req-1");
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        let wait: u32 = resp.headers()[header::RETRY_AFTER].to_str().ok().and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!((1..=10).contains(&wait), "{wait}");
        let doc: serde_json::Value = match resp.body() {
            Body::Binary(b) => serde_json::from_slice(b).unwrap_or_default(),
            _ => serde_json::Value::Null,
        };
        assert_eq!(doc["code"], "service_unavailable");
        assert_eq!(doc["status"], 503);
        assert!(!doc["detail"].as_str().unwrap_or_default().contains("throttled"), "the cause is never shown");
        let internal: ApiError = vivid_domain::error::StoreError::backend("broken").into();
        assert_eq!(problem(&internal, "req-2").status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!problem(&internal, "req-2").headers().contains_key(header::RETRY_AFTER));
    }
}
