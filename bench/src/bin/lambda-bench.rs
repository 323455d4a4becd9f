//! `lambda-bench`: runs release builds of Lambda functions as Lambda does — a process whose
//! runtime client polls the Runtime API — against a fake Runtime API on loopback, the local
//! stack's emulator behind a proxy that counts DynamoDB calls, and reports per function: artifact
//! size, init time (process start → first `/next` poll), warm latency (event handed out →
//! response posted), peak memory (VmHWM) and DynamoDB round trips per request.
//!
//! `cargo build --release -p <functions…> && cargo run --release -p vivid-bench --bin lambda-bench`

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use tokio::sync::Notify;
use vivid_bench::peak_rss_kib;
use vivid_local::{
    emulator::{Moto, SerialProxy, moto_server_path},
    stack::{Stack, StackConfig, find_repo_root},
};

#[derive(Default)]
struct Api {
    queue: VecDeque<(String, Value)>,
    first_poll: Option<Instant>,
    handed: HashMap<String, Instant>,
    done: HashMap<String, (Instant, bool)>,
}

#[derive(Clone)]
struct ApiState {
    api: Arc<Mutex<Api>>,
    notify: Arc<Notify>,
}

async fn next(State(s): State<ApiState>) -> Response {
    loop {
        let notified = s.notify.notified();
        {
            let mut api = s.api.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            api.first_poll.get_or_insert_with(Instant::now);
            if let Some((id, event)) = api.queue.pop_front() {
                api.handed.insert(id.clone(), Instant::now());
                let deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
                    .duration_since(std::time::UNIX_EPOCH)
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
                        ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000".into()),
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

async fn respond(State(s): State<ApiState>, Path(id): Path<String>, _body: Bytes) -> Response {
    s.api.lock().unwrap_or_else(std::sync::PoisonError::into_inner).done.insert(id, (Instant::now(), true));
    s.notify.notify_waiters();
    http::StatusCode::ACCEPTED.into_response()
}

async fn error(State(s): State<ApiState>, Path(id): Path<String>, body: Bytes) -> Response {
    eprintln!("invocation {id} failed: {}", String::from_utf8_lossy(&body));
    s.api.lock().unwrap_or_else(std::sync::PoisonError::into_inner).done.insert(id, (Instant::now(), false));
    s.notify.notify_waiters();
    http::StatusCode::ACCEPTED.into_response()
}

async fn init_error(body: Bytes) -> Response {
    eprintln!("init failed: {}", String::from_utf8_lossy(&body));
    http::StatusCode::ACCEPTED.into_response()
}

struct Figures {
    name: String,
    size_kib: u64,
    init_ms: f64,
    median_ms: f64,
    p90_ms: f64,
    peak_mib: f64,
    dynamodb_per_request: f64,
    failures: usize,
}

async fn bench(
    name: &str,
    binary: &std::path::Path,
    env: &[(String, String)],
    events: Vec<Value>,
    proxy: &SerialProxy,
) -> Result<Figures, Box<dyn std::error::Error>> {
    let state = ApiState { api: Arc::default(), notify: Arc::new(Notify::new()) };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(state.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("RUST_LOG", std::env::var("VIVID_BENCH_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(if std::env::var_os("VIVID_BENCH_LOG").is_some() {
            std::process::Stdio::inherit()
        } else {
            std::process::Stdio::null()
        })
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let first = loop {
        if let Some(t) = state.api.lock().map_err(|_| "poisoned")?.first_poll {
            break t;
        }
        if Instant::now() > deadline {
            return Err(format!("{name}: no poll of the Runtime API in 20 s").into());
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    };
    let init = first - started;
    let before = proxy.dynamodb_calls();
    let n = events.len();
    let mut latencies = Vec::with_capacity(n);
    let mut failures = 0;
    for event in events {
        let id = ulid::Ulid::new().to_string();
        state.api.lock().map_err(|_| "poisoned")?.queue.push_back((id.clone(), event));
        state.notify.notify_waiters();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let done = {
                let api = state.api.lock().map_err(|_| "poisoned")?;
                api.done.get(&id).copied().zip(api.handed.get(&id).copied())
            };
            if let Some(((at, ok), handed)) = done {
                latencies.push((at - handed).as_secs_f64() * 1000.0);
                failures += usize::from(!ok);
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("{name}: an invocation got no answer in 30 s").into());
            }
            tokio::time::sleep(Duration::from_micros(100)).await;
        }
    }
    let calls = proxy.dynamodb_calls() - before;
    let peak = peak_rss_kib(pid).unwrap_or_default();
    let _ = child.kill().await;
    server.abort();
    // The first invocation warms connections; the warm figures leave it out.
    let mut warm: Vec<f64> = latencies.iter().skip(1).copied().collect();
    warm.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| warm.get(((warm.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
    Ok(Figures {
        name: name.to_owned(),
        size_kib: std::fs::metadata(binary)?.len() / 1024,
        init_ms: init.as_secs_f64() * 1000.0,
        median_ms: pick(0.5),
        p90_ms: pick(0.9),
        peak_mib: peak as f64 / 1024.0,
        dynamodb_per_request: calls as f64 / n as f64,
        failures,
    })
}

/// An API Gateway event from the samples with the path and token replaced.
fn http_event(
    root: &std::path::Path,
    function: &str,
    raw_path: &str,
    params: Value,
    token: &str,
    body: Option<Value>,
) -> Value {
    let text = std::fs::read_to_string(root.join(format!("events/{function}.json"))).unwrap_or_default();
    let mut e: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    e["rawPath"] = raw_path.into();
    e["requestContext"]["http"]["path"] = raw_path.into();
    e["pathParameters"] = params;
    e["headers"]["authorization"] = format!("Bearer {token}").into();
    if let Some(b) = body {
        e["body"] = b.to_string().into();
    }
    e
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = find_repo_root(&std::env::current_dir()?).ok_or("run inside the repository")?;
    let target = std::env::var("VIVID_BENCH_TARGET").map(PathBuf::from).unwrap_or_else(|_| root.join("target/release"));
    let n: usize = std::env::var("VIVID_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let moto = Moto::start(&moto_server_path(&root)).await?;
    let proxy = SerialProxy::start(&moto.endpoint).await?;
    let mut config = StackConfig::new(
        root.join("template.yaml"),
        moto.endpoint.clone(),
        "vivid-bench".into(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    );
    config.pipeline = false;
    let stack = Stack::start(config).await?;
    let base = format!("http://{}", stack.addr);
    let http = reqwest::Client::new();

    // The world: a host, a member, a space, uploads.
    let token_of = |email: &str| {
        let (http, base) = (http.clone(), base.clone());
        let email = email.to_owned();
        async move {
            let v: Value = http.get(format!("{base}/_local/token?email={email}")).send().await?.json().await?;
            Ok::<_, reqwest::Error>(v["accessToken"].as_str().unwrap_or_default().to_owned())
        }
    };
    let host = token_of("host@example.com").await?;
    let member = token_of("member@example.com").await?;
    let space: Value = http
        .post(format!("{base}/spaces"))
        .bearer_auth(&host)
        .json(&json!({ "name": "Bench" }))
        .send()
        .await?
        .json()
        .await?;
    let space = space["spaceId"].as_str().unwrap_or_default().to_owned();
    http.post(format!("{base}/spaces/{space}/members"))
        .bearer_auth(&host)
        .json(&json!({ "email": "member@example.com" }))
        .send()
        .await?;
    let new_video = |bytes: usize| {
        let (http, base, host, space) = (http.clone(), base.clone(), host.clone(), space.clone());
        async move {
            let v: Value = http
                .post(format!("{base}/spaces/{space}/videos"))
                .bearer_auth(&host)
                .json(&json!({ "title": "B", "fileName": "b.mp4", "contentType": "video/mp4", "sizeBytes": bytes }))
                .send()
                .await?
                .json()
                .await?;
            http.put(v["upload"]["url"].as_str().unwrap_or_default())
                .header("content-type", "video/mp4")
                .body(vec![0u8; bytes])
                .send()
                .await?;
            Ok::<_, reqwest::Error>(v["videoId"].as_str().unwrap_or_default().to_owned())
        }
    };
    let video = new_video(1024).await?;
    let mut uploads = Vec::with_capacity(n);
    for _ in 0..n {
        uploads.push(new_video(1024).await?);
    }

    // What every function is told: the environment the template declares for it (as the local
    // stack resolves it), and the AWS endpoint of the counting proxy.
    let aws: Vec<(String, String)> = vec![
        ("AWS_ENDPOINT_URL".into(), proxy.endpoint.clone()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID".into(), "local".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "local".into()),
    ];
    let env_of = |name: &str| -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> =
            stack.environments.get(name).map(|e| e.clone().into_iter().collect()).unwrap_or_default();
        env.extend(aws.iter().cloned());
        env
    };

    let mut cases: Vec<(&str, Vec<Value>)> = Vec::new();
    let space_params = json!({ "spaceId": space });
    cases.push((
        "get-space",
        (0..n)
            .map(|_| http_event(&root, "get-space", &format!("/spaces/{space}"), space_params.clone(), &host, None))
            .collect(),
    ));
    let video_params = json!({ "videoId": video });
    cases.push((
        "put-progress",
        (0..n)
            .map(|i| {
                let body = json!({ "progressRate": (i % 100) as u8, "positionSeconds": i as f64 });
                http_event(
                    &root,
                    "put-progress",
                    &format!("/videos/{video}/progress"),
                    video_params.clone(),
                    &member,
                    Some(body),
                )
            })
            .collect(),
    ));
    cases.push((
        "get-video",
        (0..n)
            .map(|_| http_event(&root, "get-video", &format!("/videos/{video}"), video_params.clone(), &member, None))
            .collect(),
    ));
    cases.push((
        "create-video",
        (0..n)
            .map(|_| {
                let body = json!({ "title": "T", "fileName": "t.mp4", "contentType": "video/mp4", "sizeBytes": 1024 });
                http_event(
                    &root,
                    "create-video",
                    &format!("/spaces/{space}/videos"),
                    space_params.clone(),
                    &host,
                    Some(body),
                )
            })
            .collect(),
    ));
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(root.join("events/on-raw-upload.json"))?)?;
    cases.push((
        "on-raw-upload",
        uploads
            .iter()
            .map(|id| {
                let mut e = sample.clone();
                e["Records"][0]["s3"]["bucket"]["name"] = stack.buckets.raw.clone().into();
                e["Records"][0]["s3"]["object"]["key"] = format!("raw/{id}").into();
                e["Records"][0]["s3"]["object"]["size"] = 1024.into();
                e
            })
            .collect(),
    ));
    let only: Vec<String> = std::env::args().skip(1).collect();
    println!(
        "| function | release artifact (x86_64, KiB) | init to first poll (ms) | warm latency median / p90 (ms) | peak RSS (MiB) | DynamoDB calls / request | failed |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, events) in cases {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let binary = target.join(name);
        if !binary.exists() {
            eprintln!("{name}: no {} (build it with cargo build --release -p {name})", binary.display());
            continue;
        }
        let f = bench(name, &binary, &env_of(name), events, &proxy).await?;
        println!(
            "| {} | {} | {:.1} | {:.2} / {:.2} | {:.1} | {:.2} | {} |",
            f.name, f.size_kib, f.init_ms, f.median_ms, f.p90_ms, f.peak_mib, f.dynamodb_per_request, f.failures
        );
    }
    drop(stack);
    moto.stop().await;
    Ok(())
}
