//! The local HTTP API: serves every `HttpApi` route of the template by turning the request into
//! the API Gateway payload v2 event Lambda receives and calling the function's real handler.
//! As in API Gateway, CORS preflights are answered before routing, the most specific route
//! wins, and the `$default` route takes what no other route matches (404 without one).

use std::{collections::BTreeMap, sync::Arc};

use axum::{body::Body as AxumBody, extract::State, response::Response as AxumResponse};
use base64::{Engine, engine::general_purpose::STANDARD};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use vivid_edge::{
    Handler,
    http::dispatch,
    lambda_http::{self, Body},
};

use crate::infra::{
    cors::CorsPolicy,
    local_routes::LocalRoutes,
    template::{Route, match_path},
};

/// API Gateway's payload limit.
pub const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

/// A template route and the handler of its function.
pub struct BoundRoute {
    pub route: Route,
    pub handler: Arc<dyn Handler>,
}

/// Path parameters of a matched route.
pub type PathParams = Vec<(String, String)>;

pub struct GatewayState {
    pub routes: Vec<BoundRoute>,
    /// The HTTP API's `CorsConfiguration`, applied as API Gateway applies it.
    pub cors: CorsPolicy,
    pub local: LocalRoutes,
}

impl GatewayState {
    /// The route API Gateway would pick: the match with the most literal segments, else the
    /// `$default` route (no path parameters), else none.
    fn route(&self, method: &str, path: &str) -> Option<(&BoundRoute, PathParams)> {
        self.routes
            .iter()
            .filter(|b| !b.route.is_default())
            .filter(|b| b.route.method == method || b.route.method == "ANY")
            .filter_map(|b| match_path(&b.route.path, path).map(|params| (b, params)))
            .max_by_key(|(b, params)| b.route.path.split('/').count() - params.len())
            .or_else(|| self.routes.iter().find(|b| b.route.is_default()).map(|b| (b, PathParams::new())))
    }
}

pub async fn serve(State(state): State<Arc<GatewayState>>, req: axum::extract::Request) -> AxumResponse {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAYLOAD).await {
        Ok(b) => b,
        Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
    };
    let path = parts.uri.path().to_owned();
    if path.starts_with("/_local/") {
        return state.local.serve(&parts, &bytes).await;
    }
    let method = parts.method.as_str().to_owned();
    let origin = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // Before routing: no route, `$default` included, sees a preflight.
    if method == "OPTIONS" && parts.headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return state.cors.preflight(&parts.headers);
    }
    let Some((bound, params)) = state.route(&method, &path) else {
        let mut resp = message(StatusCode::NOT_FOUND, "Not Found");
        state.cors.decorate(origin.as_deref(), resp.headers_mut());
        return resp;
    };
    // API Gateway's `sourceIp` is the TCP peer's address: a test sets its own by binding its
    // client to another loopback address (127.0.0.2, ...), never by a header.
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let source_ip = peer.map_or_else(|| "127.0.0.1".to_owned(), |ip| ip.to_canonical().to_string());
    let event = event_v2(&bound.route, &parts, &bytes, &params, &source_ip);
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the Lambda request");
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
    };
    let response = dispatch(bound.handler.as_ref(), request).await;
    let mut resp = into_axum(response);
    state.cors.decorate(origin.as_deref(), resp.headers_mut());
    resp
}

fn message(status: StatusCode, text: &str) -> AxumResponse {
    let mut resp = AxumResponse::new(AxumBody::from(json!({ "message": text }).to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn into_axum(resp: http::Response<Body>) -> AxumResponse {
    let (parts, body) = resp.into_parts();
    let bytes = match body {
        Body::Empty => Vec::new(),
        Body::Text(t) => t.into_bytes(),
        Body::Binary(b) => b,
        _ => Vec::new(),
    };
    AxumResponse::from_parts(parts, AxumBody::from(bytes))
}

/// The API Gateway HTTP API payload v2 event for a request from `source_ip`.
pub fn event_v2(
    route: &Route,
    parts: &http::request::Parts,
    body: &[u8],
    params: &[(String, String)],
    source_ip: &str,
) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let Ok(value) = value.to_str() else { continue };
        if name == header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
            continue;
        }
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
    }
    // API Gateway tells the integration how the client connected.
    headers.insert("x-forwarded-proto".to_owned(), "http".to_owned());
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode =
            |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
        query
            .entry(decode(k))
            .and_modify(|e| {
                e.push(',');
                e.push_str(&decode(v));
            })
            .or_insert_with(|| decode(v));
    }
    let (body, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(STANDARD.encode(body)), true),
    };
    let now = time::OffsetDateTime::now_utc();
    let request_id = ulid::Ulid::new().to_string();
    let route_key = route.key();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.uri.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host").cloned().unwrap_or_else(|| "127.0.0.1".to_owned()),
            "domainPrefix": "local",
            "http": {
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": request_id,
            "routeKey": route.key(),
            "stage": "$default",
            "time": now.format(time::macros::format_description!(
                "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
            )).unwrap_or_default(),
            "timeEpoch": now.unix_timestamp() * 1000 + i64::from(now.millisecond()),
        },
        "isBase64Encoded": is_base64,
    });
    if let Some(obj) = event.as_object_mut() {
        if !cookies.is_empty() {
            obj.insert("cookies".into(), json!(cookies));
        }
        if !query.is_empty() {
            obj.insert("queryStringParameters".into(), json!(query));
        }
        if !params.is_empty() {
            let map: BTreeMap<&str, &str> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            obj.insert("pathParameters".into(), json!(map));
        }
        if !body.is_null() {
            obj.insert("body".into(), body);
        }
    }
    event
}
