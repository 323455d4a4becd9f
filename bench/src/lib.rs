//! Shared pieces of the benchmarks: an AWS endpoint proxy that counts DynamoDB calls, and the
//! local stack with a seeded world.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{body::Body, extract::State, response::Response};

/// Forwards every request to the emulator and counts DynamoDB operations (`X-Amz-Target`).
pub struct CountingProxy {
    pub endpoint: String,
    pub dynamodb_calls: Arc<AtomicU64>,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    count: Arc<AtomicU64>,
}

async fn forward(State(s): State<ProxyState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    if parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("DynamoDB_")) {
        s.count.fetch_add(1, Ordering::SeqCst);
    }
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
    let url = format!("{}{}", s.upstream, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let head = parts.method == http::Method::HEAD;
    let mut out = s.http.request(parts.method.clone(), url).body(bytes);
    for (k, v) in &parts.headers {
        if k != "host" && k != "content-length" {
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
                if (head || k != "content-length") && k != "transfer-encoding" {
                    r.headers_mut().insert(k, v.clone());
                }
            }
            r
        }
        Err(e) => {
            let mut r = Response::new(Body::from(e.to_string()));
            *r.status_mut() = http::StatusCode::BAD_GATEWAY;
            r
        }
    }
}

impl CountingProxy {
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let count = Arc::new(AtomicU64::new(0));
        let state =
            ProxyState { upstream: upstream.to_owned(), http: reqwest::Client::new(), count: Arc::clone(&count) };
        let app = axum::Router::new().fallback(forward).with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { endpoint, dynamodb_calls: count })
    }

    pub fn calls(&self) -> u64 {
        self.dynamodb_calls.load(Ordering::SeqCst)
    }
}

/// Peak resident memory (`VmHWM`) of a process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
