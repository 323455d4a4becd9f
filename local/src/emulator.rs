//! The AWS emulator (moto server): DynamoDB, S3, SQS, Secrets Manager and KMS on one loopback
//! port, behind a proxy that keeps its DynamoDB faithful and runs Lambda invocations locally.

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};
use vivid_events::EventHandler;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("moto_server not found at {0}: run `make venv` (or set VIVID_MOTO_SERVER)")]
    NotInstalled(PathBuf),
    #[error("cannot start moto_server: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("moto_server did not accept connections on {0} within 30 s")]
    NotReady(SocketAddr),
}

/// A running moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

/// A free loopback port (bound then released; good enough for a local tool).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// Where `make venv` installs moto, under the repository root; `VIVID_MOTO_SERVER` overrides.
pub fn moto_server_path(repo_root: &Path) -> PathBuf {
    std::env::var_os("VIVID_MOTO_SERVER").map(PathBuf::from).unwrap_or_else(|| repo_root.join(".venv/bin/moto_server"))
}

impl Moto {
    pub async fn start(moto_server: &Path) -> Result<Self, EmulatorError> {
        if !moto_server.exists() {
            return Err(EmulatorError::NotInstalled(moto_server.to_owned()));
        }
        let port = free_port()?;
        let child = Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        wait_for(addr).await?;
        Ok(Self { child, endpoint: format!("http://{addr}") })
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Waits until something accepts TCP connections on `addr`.
pub async fn wait_for(addr: SocketAddr) -> Result<(), EmulatorError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(EmulatorError::NotReady(addr))
}

/// A proxy in front of the emulator that lets one DynamoDB request through at a time.
///
/// moto's `TransactWriteItems` is not isolated: a cancelled transaction restores a copy of every
/// table taken when it began, undoing writes that other requests made meanwhile. DynamoDB does
/// not do that, so the local stack serialises DynamoDB calls to keep the emulator's answers
/// faithful; S3 and SQS pass through concurrently.
pub struct SerialProxy {
    pub endpoint: String,
    dynamodb_calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    functions: Functions,
    server: tokio::task::JoinHandle<()>,
}

/// The local event handlers by function name, set once the stack has wired them.
type Functions = std::sync::Arc<std::sync::OnceLock<std::sync::Arc<HashMap<String, std::sync::Arc<dyn EventHandler>>>>>;

impl Drop for SerialProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    dynamodb: std::sync::Arc<tokio::sync::Mutex<()>>,
    calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    functions: Functions,
}

/// Lambda's `Invoke` (`POST /2015-03-31/functions/{name}/invocations`): moto cannot run our
/// functions, so the proxy hands the payload to the local handler, as Lambda does with an
/// `Event` invocation (202 at once, the handler runs on).
fn invoke(s: &ProxyState, path: &str, payload: &[u8]) -> Option<axum::response::Response> {
    use axum::{body::Body, response::Response};
    let name = path.strip_prefix("/2015-03-31/functions/")?.strip_suffix("/invocations")?;
    let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
    let name = name.rsplit(':').next().unwrap_or_default().to_owned();
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
    tokio::spawn(async move {
        if let Err(e) = handler.handle(event).await {
            tracing::warn!(function = name, error = %e, "asynchronous invocation failed");
        }
    });
    Some(reply(202, String::new()))
}

async fn forward(
    axum::extract::State(s): axum::extract::State<ProxyState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::{body::Body, response::Response};
    let (parts, body) = req.into_parts();
    let is_dynamodb =
        parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("DynamoDB_"));
    let head = parts.method == http::Method::HEAD;
    let Ok(bytes) = axum::body::to_bytes(body, 256 * 1024 * 1024).await else {
        let mut r = Response::new(Body::from("request body too large for the emulator proxy"));
        *r.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
        return r;
    };
    if parts.method == http::Method::POST
        && let Some(resp) = invoke(&s, parts.uri.path(), &bytes)
    {
        return resp;
    }
    let url = format!("{}{}", s.upstream, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut out = s.http.request(parts.method.clone(), url).body(bytes);
    for (k, v) in &parts.headers {
        if k != http::header::HOST && k != http::header::CONTENT_LENGTH {
            out = out.header(k, v);
        }
    }
    if is_dynamodb {
        s.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    let _turn = if is_dynamodb { Some(s.dynamodb.lock().await) } else { None };
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
                    r.headers_mut().insert(k, v.clone());
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

impl SerialProxy {
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let state = ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(std::io::Error::other)?,
            dynamodb: std::sync::Arc::default(),
            calls: std::sync::Arc::default(),
            functions: Functions::default(),
        };
        let dynamodb_calls = std::sync::Arc::clone(&state.calls);
        let functions = std::sync::Arc::clone(&state.functions);
        let app = axum::Router::new().fallback(forward).with_state(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { endpoint, dynamodb_calls, functions, server })
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
