//! A pass-through proxy in front of the local stack's AWS endpoint that counts calls by service:
//! the service is read from the SigV4 credential scope of each request
//! (`Credential=<key>/<date>/<region>/<service>/aws4_request`), so DynamoDB, S3, Secrets Manager,
//! KMS, Lambda… are told apart whatever their protocol.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{body::Body, extract::State, response::Response};
use tokio::task::JoinHandle;

pub type Counts = BTreeMap<String, u64>;

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    counts: Arc<Mutex<Counts>>,
}

pub struct CountingProxy {
    pub endpoint: String,
    counts: Arc<Mutex<Counts>>,
    server: JoinHandle<()>,
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The service of a SigV4-signed request (header or presigned query), `other` when unsigned.
pub fn service_of(authorization: Option<&str>, query: Option<&str>) -> String {
    let scope = authorization
        .and_then(|a| a.split("Credential=").nth(1))
        .or_else(|| query.and_then(|q| q.split("X-Amz-Credential=").nth(1)))
        .map(|s| s.replace("%2F", "/"));
    scope
        .and_then(|s| s.split([',', '&', ' ']).next().map(str::to_owned))
        .and_then(|s| s.split('/').nth(3).map(str::to_owned))
        .unwrap_or_else(|| "other".to_owned())
}

async fn forward(State(s): State<ProxyState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let service =
        service_of(parts.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()), parts.uri.query());
    *s.counts.lock().unwrap_or_else(PoisonError::into_inner).entry(service).or_default() += 1;
    let head = parts.method == http::Method::HEAD;
    let Ok(bytes) = axum::body::to_bytes(body, 256 * 1024 * 1024).await else {
        let mut r = Response::new(Body::from("request body too large for the counting proxy"));
        *r.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
        return r;
    };
    let url = format!("{}{}", s.upstream, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut out = s.http.request(parts.method.clone(), url).body(bytes);
    for (k, v) in &parts.headers {
        if k != http::header::HOST && k != http::header::CONTENT_LENGTH {
            out = out.header(k, v);
        }
    }
    match out.send().await {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = status;
            for (k, v) in &headers {
                // A HEAD's Content-Length is the object's size: it must pass through.
                if (head || k != http::header::CONTENT_LENGTH) && k != http::header::TRANSFER_ENCODING {
                    r.headers_mut().append(k, v.clone());
                }
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

impl CountingProxy {
    /// A proxy to `upstream` (e.g. `http://127.0.0.1:4566`) on a free loopback port.
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let state = ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(std::io::Error::other)?,
            counts: Arc::default(),
        };
        let counts = Arc::clone(&state.counts);
        let app = axum::Router::new().fallback(forward).with_state(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { endpoint, counts, server })
    }

    /// Calls so far, by service.
    pub fn counts(&self) -> Counts {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// `after - before`, per service.
pub fn delta(before: &Counts, after: &Counts) -> Counts {
    after.iter().map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0))).filter(|(_, v)| *v > 0).collect()
}

#[cfg(test)]
mod tests {
    use super::service_of;

    #[test]
    fn the_service_comes_from_the_credential_scope() {
        let auth = "AWS4-HMAC-SHA256 Credential=local/20261127/us-east-1/dynamodb/aws4_request, \
                    SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(service_of(Some(auth), None), "dynamodb");
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=local%2F20261127%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=x";
        assert_eq!(service_of(None, Some(query)), "s3");
        assert_eq!(service_of(None, None), "other");
    }
}
