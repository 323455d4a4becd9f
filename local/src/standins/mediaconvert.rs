//! A stand-in for AWS Elemental MediaConvert's REST API (`/2017-08-29/jobs`), a real HTTP server
//! the unchanged `aws-sdk-mediaconvert` client talks to: `CreateJob` (idempotent by
//! `clientRequestToken`), `GetJob`, `ListJobs`, `CancelJob`, and `Probe` (ffprobe reading the file
//! over HTTP, as much of it as the container needs). Responses follow the published API
//! model (epoch-second timestamps, `{"job": ...}` envelopes). It keeps every `CreateJob` body it
//! received, so tests can count calls and read the settings the suite really sends.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{error::StackError, standins::ffmpeg::Runner};

/// A job as the stand-in keeps it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub status: String,
    pub body: Value,
    pub created_at: u64,
}

impl Job {
    fn to_json(&self) -> Value {
        let mut job = json!({
            "arn": format!("arn:aws:mediaconvert:us-east-1:000000000000:jobs/{}", self.id),
            "id": self.id,
            "createdAt": self.created_at,
            "status": self.status,
            "role": self.body.get("role").cloned().unwrap_or(Value::Null),
            "settings": self.body.get("settings").cloned().unwrap_or_else(|| json!({})),
            "userMetadata": self.body.get("userMetadata").cloned().unwrap_or_else(|| json!({})),
            "statusUpdateInterval": self.body.get("statusUpdateInterval").cloned().unwrap_or(json!("SECONDS_60")),
            "queue": "arn:aws:mediaconvert:us-east-1:000000000000:queues/Default",
            "timing": { "submitTime": self.created_at },
        });
        if let Some(obj) = job.as_object_mut() {
            obj.retain(|_, v| !v.is_null());
        }
        job
    }
}

#[derive(Default)]
pub struct Jobs {
    /// Runs submitted jobs with ffmpeg when set (the local stack); tests of the API alone leave
    /// jobs `SUBMITTED` and send the events themselves.
    runner: Option<Arc<Runner>>,
    pub jobs: Vec<Job>,
    by_token: HashMap<String, String>,
    /// Every `CreateJob` request body, in order (duplicates included).
    pub create_requests: Vec<Value>,
    /// The grants of the stacks whose functions call it (see [`crate::infra::grants`]).
    grants: Vec<crate::infra::grants::Grants>,
    /// How `Probe` reads the files it is given (the emulator's S3, by presigned URL).
    files: Option<aws_sdk_s3::Client>,
    /// Every `Probe` request body, in order.
    pub probe_requests: Vec<Value>,
}

/// The running stand-in; stops when dropped.
pub struct MediaConvertStandIn {
    pub endpoint: String,
    state: Arc<Mutex<Jobs>>,
    server: JoinHandle<()>,
}

impl Drop for MediaConvertStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Shared = Arc<Mutex<Jobs>>;

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

impl MediaConvertStandIn {
    pub async fn start(bind: SocketAddr) -> Result<Self, StackError> {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/2017-08-29/jobs", get(list_jobs).post(create_job))
            .route("/2017-08-29/jobs/{id}", get(get_job).delete(cancel_job))
            .route("/2017-08-29/probe", post(probe_files))
            .with_state(Arc::clone(&state));
        let listener = TcpListener::bind(bind).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { endpoint, state, server })
    }

    /// From now on, submitted jobs run with ffmpeg and emit their events.
    pub fn run_jobs_with(&self, runner: Runner) {
        if let Ok(mut s) = self.state.lock() {
            s.files.get_or_insert_with(|| runner.s3.clone());
            s.runner = Some(Arc::new(runner));
        }
    }

    /// From now on, `Probe` reads the files it is given from this S3 (the service's own access;
    /// the caller's grant on each file is checked).
    pub fn probe_with(&self, s3: aws_sdk_s3::Client) {
        if let Ok(mut s) = self.state.lock() {
            s.files = Some(s3);
        }
    }

    /// The `Probe` requests so far.
    pub fn probe_requests(&self) -> Vec<Value> {
        self.state.lock().map(|s| s.probe_requests.clone()).unwrap_or_default()
    }

    /// A snapshot of the jobs and requests so far.
    pub fn jobs(&self) -> Vec<Job> {
        self.state.lock().map(|s| s.jobs.clone()).unwrap_or_default()
    }

    /// From now on, a call a function of this stack makes needs its grants (the job or queue,
    /// and `iam:PassRole` on a new job's role).
    pub fn check_grants_of(&self, grants: crate::infra::grants::Grants) {
        if let Ok(mut s) = self.state.lock() {
            s.grants.push(grants);
        }
    }

    pub fn create_requests(&self) -> Vec<Value> {
        self.state.lock().map(|s| s.create_requests.clone()).unwrap_or_default()
    }
}

/// MediaConvert's answer to a call its signer's role does not grant (`ForbiddenException`, 403),
/// `None` when granted (or not a function's); `new_job` is the id a `CreateJob` gives its job.
fn refusal(
    state: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    new_job: &str,
) -> Option<Response> {
    use crate::infra::grants::{Grants, needs};
    let key = headers.get(http::header::AUTHORIZATION)?.to_str().ok().and_then(crate::infra::grants::signing_key)?;
    let grants = state.lock().ok()?.grants.clone();
    let wanted = needs::mediaconvert(method, uri.path(), uri.query(), body, new_job);
    let denial = Grants::check_shared(&grants, key, &wanted, &needs::mediaconvert_context())?;
    Some(crate::infra::grants::rest_json_error(StatusCode::FORBIDDEN, "ForbiddenException", &denial.message()))
}

/// A new job's id: creation time in milliseconds and a random tail, as MediaConvert's look.
fn new_job_id() -> String {
    let now = vivid_domain::types::unix_now();
    format!("{}-{}", now * 1000, &ulid::Ulid::new().to_string()[20..].to_lowercase())
}

async fn create_job(State(state): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, raw: Bytes) -> Response {
    let id = new_job_id();
    if let Some(refused) = refusal(&state, &method, &uri, &headers, &raw, &id) {
        return refused;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return error(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    if body.get("role").and_then(Value::as_str).is_none() || body.get("settings").is_none() {
        return error(StatusCode::BAD_REQUEST, "role and settings are required");
    }
    let Ok(mut s) = state.lock() else { return error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned") };
    s.create_requests.push(body.clone());
    let token = body.get("clientRequestToken").and_then(Value::as_str).map(str::to_owned);
    if let Some(existing) = token.as_ref().and_then(|t| s.by_token.get(t)).cloned()
        && let Some(job) = s.jobs.iter().find(|j| j.id == existing)
    {
        return (StatusCode::CREATED, Json(json!({ "job": job.to_json() }))).into_response();
    }
    let now = vivid_domain::types::unix_now();
    let job = Job { id: id.clone(), status: "SUBMITTED".into(), body: body.clone(), created_at: now };
    let json = job.to_json();
    s.jobs.push(job);
    if let Some(t) = token {
        s.by_token.insert(t, id.clone());
    }
    if let Some(runner) = s.runner.clone() {
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            set_status(&state, &id, "PROGRESSING");
            let end = runner.run(&id, &body).await;
            set_status(&state, &id, end);
        });
    }
    (StatusCode::CREATED, Json(json!({ "job": json }))).into_response()
}

fn set_status(state: &Shared, id: &str, status: &str) {
    if let Ok(mut s) = state.lock()
        && let Some(job) = s.jobs.iter_mut().find(|j| j.id == id)
    {
        job.status = status.to_owned();
    }
}

async fn get_job(
    State(state): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = refusal(&state, &method, &uri, &headers, b"", "") {
        return refused;
    }
    let found = state.lock().ok().and_then(|s| s.jobs.iter().find(|j| j.id == id).map(Job::to_json));
    match found {
        Some(job) => Json(json!({ "job": job })).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such job"),
    }
}

async fn list_jobs(State(state): State<Shared>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&state, &method, &uri, &headers, b"", "") {
        return refused;
    }
    let jobs: Vec<Value> = state.lock().map(|s| s.jobs.iter().rev().map(Job::to_json).collect()).unwrap_or_default();
    Json(json!({ "jobs": jobs })).into_response()
}

async fn cancel_job(
    State(state): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = refusal(&state, &method, &uri, &headers, b"", "") {
        return refused;
    }
    let Ok(mut s) = state.lock() else { return error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned") };
    match s.jobs.iter_mut().find(|j| j.id == id) {
        Some(job) if job.status == "SUBMITTED" || job.status == "PROGRESSING" => {
            job.status = "CANCELED".into();
            (StatusCode::ACCEPTED, Json(json!({}))).into_response()
        }
        Some(_) => error(StatusCode::CONFLICT, "the job is not cancelable"),
        None => error(StatusCode::NOT_FOUND, "no such job"),
    }
}

/// `Probe` (`POST /2017-08-29/probe`): each file's container as MediaConvert describes it — its
/// format, duration and tracks, and the object's metadata. A file ffprobe cannot read gets a
/// blank container (no format, no duration), as the service answers for a format it does not
/// recognise.
async fn probe_files(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    if let Some(refused) = refusal(&state, &method, &uri, &headers, &raw, "") {
        return refused;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return crate::infra::grants::rest_json_error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "the body is not JSON",
        );
    };
    let urls: Vec<String> = body["inputFiles"]
        .as_array()
        .map(|files| files.iter().filter_map(|f| f["fileUrl"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if urls.is_empty() {
        return crate::infra::grants::rest_json_error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "inputFiles is required",
        );
    }
    let files = match state.lock() {
        Ok(mut s) => {
            s.probe_requests.push(body.clone());
            s.files.clone()
        }
        Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned"),
    };
    let Some(s3) = files else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "the stand-in has no S3 to read files from");
    };
    let mut results = Vec::new();
    for url in urls {
        let Some((bucket, key)) = url.strip_prefix("s3://").and_then(|r| r.split_once('/')) else {
            return crate::infra::grants::rest_json_error(
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                "fileUrl must be s3://",
            );
        };
        let Ok(head) = s3.head_object().bucket(bucket).key(key).send().await else {
            return crate::infra::grants::rest_json_error(
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                "cannot read the file",
            );
        };
        let presigned = aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(300));
        let link = match presigned {
            Ok(config) => s3.get_object().bucket(bucket).key(key).presigned(config).await.ok(),
            Err(_) => None,
        };
        let container = match link {
            Some(link) => crate::standins::ffmpeg::probe_container(link.uri()).await,
            None => json!({}),
        };
        results.push(json!({
            "metadata": {
                "fileSize": head.content_length(),
                "eTag": head.e_tag(),
                "mimeType": head.content_type(),
            },
            "container": container,
        }));
    }
    Json(json!({ "probeResults": results })).into_response()
}
