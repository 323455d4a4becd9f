//! A fake Lambda Runtime API on loopback: hands out events one at a time, timestamps the first
//! `GET /next` poll (the end of init) and every answer, and keeps each answer's body.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::Value;
use tokio::{sync::Notify, task::JoinHandle};

/// How an invocation ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Event handed out (the `/next` answer) → result posted.
    pub latency: Duration,
    /// Posted to `/response` (true) or `/error` (false).
    pub ok: bool,
    pub body: Bytes,
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<(String, Value)>,
    first_poll: Option<Instant>,
    handed: HashMap<String, Instant>,
    done: HashMap<String, (Instant, bool, Bytes)>,
    init_error: Option<String>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    notify: Arc<Notify>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One Runtime API, for one function process.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Shared,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(s): State<Shared>) -> Response {
    loop {
        let notified = s.notify.notified();
        {
            let mut inner = s.lock();
            let now = Instant::now();
            inner.first_poll.get_or_insert(now);
            if let Some((id, event)) = inner.queue.pop_front() {
                inner.handed.insert(id.clone(), Instant::now());
                let deadline = (SystemTime::now() + Duration::from_secs(30))
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or_default();
                return (
                    [
                        ("lambda-runtime-aws-request-id", id),
                        ("lambda-runtime-deadline-ms", deadline.to_string()),
                        (
                            "lambda-runtime-invoked-function-arn",
                            "arn:aws:lambda:us-east-1:000000000000:function:bench".into(),
                        ),
                        ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into()),
                        ("content-type", "application/json".into()),
                    ],
                    event.to_string(),
                )
                    .into_response();
            }
        }
        notified.await;
    }
}

async fn respond(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    s.lock().done.insert(id, (Instant::now(), true, body));
    s.notify.notify_waiters();
    http::StatusCode::ACCEPTED.into_response()
}

async fn error(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    s.lock().done.insert(id, (Instant::now(), false, body));
    s.notify.notify_waiters();
    http::StatusCode::ACCEPTED.into_response()
}

async fn init_error(State(s): State<Shared>, body: Bytes) -> Response {
    s.lock().init_error = Some(String::from_utf8_lossy(&body).into_owned());
    s.notify.notify_waiters();
    http::StatusCode::ACCEPTED.into_response()
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let shared = Shared { inner: Arc::default(), notify: Arc::new(Notify::new()) };
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, server })
    }

    /// Waits for the first `/next` poll; its time, or why there was none.
    pub async fn first_poll(&self, timeout: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            {
                let inner = self.shared.lock();
                if let Some(t) = inner.first_poll {
                    return Ok(t);
                }
                if let Some(e) = &inner.init_error {
                    return Err(format!("init failed: {e}"));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no poll of the Runtime API in {} s", timeout.as_secs()));
            }
            // `/next` does not notify; poll the clock finely as well.
            let _ = tokio::time::timeout(left.min(Duration::from_micros(100)), notified).await;
        }
    }

    /// Hands out one event and waits for its answer.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Result<Outcome, String> {
        let id = ulid::Ulid::new().to_string();
        self.shared.lock().queue.push_back((id.clone(), event));
        self.shared.notify.notify_waiters();
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            {
                let mut inner = self.shared.lock();
                if let Some((at, ok, body)) = inner.done.remove(&id) {
                    let handed = inner.handed.remove(&id).unwrap_or(at);
                    return Ok(Outcome { latency: at - handed, ok, body });
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no answer in {} s", timeout.as_secs()));
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }
}

/// The end of a process's init: its first poll, or why there was none (it exited, or it
/// reported an init error, or it did not poll in time).
pub async fn await_init(
    api: &RuntimeApi,
    child: &mut tokio::process::Child,
    timeout: Duration,
) -> Result<Instant, String> {
    tokio::select! {
        polled = api.first_poll(timeout) => polled,
        status = child.wait() => Err(match status {
            Ok(s) => format!("the process exited before polling the Runtime API ({s})"),
            Err(e) => format!("the process could not be waited for: {e}"),
        }),
    }
}
