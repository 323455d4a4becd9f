//! A stand-in for Amazon Transcribe's `StartTranscriptionJob` (JSON 1.1 protocol,
//! `X-Amz-Target: Transcribe.StartTranscriptionJob`), a real HTTP server the unchanged
//! `aws-sdk-transcribe` client talks to. Job names are unique (a second start is a
//! `ConflictException`, as in AWS). In the pipeline it recognises speech for real: the media is
//! read from S3, its audio decoded by ffmpeg and recognised by pocketsphinx (`local/recognize.py`,
//! English only), the result written where the job asks in Transcribe's result format, and a
//! "Transcribe Job State Change" event sent through the template's rules.
//!
//! What to expect of it: pocketsphinx's small English model gets distinctive words right
//! ("algebra", "matrix", "vector") and mishears many short ones; Amazon Transcribe is far more
//! accurate, punctuates, and identifies the language.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::post,
};
use http::StatusCode;
use serde_json::{Value, json};
use tokio::{net::TcpListener, process::Command, sync::mpsc, task::JoinHandle};

use crate::error::StackError;

/// A job as the stand-in keeps it.
#[derive(Debug, Clone)]
pub struct TranscriptionJob {
    pub name: String,
    pub status: String,
    pub request: Value,
}

/// What running a job takes.
pub struct Recognizer {
    pub s3: aws_sdk_s3::Client,
    pub emit: mpsc::UnboundedSender<Value>,
    /// The Python with pocketsphinx, and the script.
    pub python: PathBuf,
    pub script: PathBuf,
}

#[derive(Default)]
struct Jobs {
    jobs: Vec<TranscriptionJob>,
    recognizer: Option<Arc<Recognizer>>,
    /// The grants of the stacks whose functions call it (see [`crate::infra::grants`]).
    grants: Vec<crate::infra::grants::Grants>,
    /// How many of the next jobs fail (as a job Transcribe cannot finish: its FAILED event).
    failures_left: u32,
}

/// The reason a job the stand-in is told to fail gives: Transcribe's own, from its documented
/// failure of a media it cannot read (the words of `events/on-transcribe-event-failed.json`).
const FAILURE_REASON: &str = "The media format provided does not match the detected media format.";

type Shared = Arc<Mutex<Jobs>>;

pub struct TranscribeStandIn {
    pub endpoint: String,
    state: Shared,
    server: JoinHandle<()>,
}

impl Drop for TranscribeStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn aws_error(kind: &str, message: &str) -> Response {
    let body = json!({ "__type": kind, "Message": message }).to_string();
    (StatusCode::BAD_REQUEST, [("content-type", "application/x-amz-json-1.1")], body).into_response()
}

impl TranscribeStandIn {
    pub async fn start(bind: SocketAddr) -> Result<Self, StackError> {
        let state: Shared = Arc::default();
        let app = Router::new().route("/", post(dispatch)).with_state(Arc::clone(&state));
        let listener = TcpListener::bind(bind).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { endpoint, state, server })
    }

    /// From now on, started jobs run and emit their events.
    pub fn run_jobs_with(&self, recognizer: Recognizer) {
        if let Ok(mut s) = self.state.lock() {
            s.recognizer = Some(Arc::new(recognizer));
        }
    }

    /// From now on, a job a function of this stack starts needs its grants (the job, the media's
    /// `s3:GetObject`, the result's `s3:PutObject`).
    pub fn check_grants_of(&self, grants: crate::infra::grants::Grants) {
        if let Ok(mut s) = self.state.lock() {
            s.grants.push(grants);
        }
    }

    /// The next `n` jobs started fail, each with its `FAILED` event (once they are run).
    pub fn fail_next_jobs(&self, n: u32) {
        if let Ok(mut s) = self.state.lock() {
            s.failures_left = n;
        }
    }

    pub fn jobs(&self) -> Vec<TranscriptionJob> {
        self.state.lock().map(|s| s.jobs.clone()).unwrap_or_default()
    }
}

async fn dispatch(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if target != "Transcribe.StartTranscriptionJob" {
        return aws_error("UnknownOperationException", &format!("the stand-in does not implement {target}"));
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return aws_error("BadRequestException", "the body is not JSON");
    };
    let Some(name) = request["TranscriptionJobName"].as_str().map(str::to_owned) else {
        return aws_error("BadRequestException", "TranscriptionJobName is required");
    };
    if request.pointer("/Media/MediaFileUri").and_then(Value::as_str).is_none() {
        return aws_error("BadRequestException", "Media.MediaFileUri is required");
    }
    if let Some(refused) = refusal(&state, &headers, &body) {
        return refused;
    }
    let Ok(mut s) = state.lock() else { return aws_error("InternalFailureException", "poisoned") };
    if s.jobs.iter().any(|j| j.name == name) {
        return aws_error("ConflictException", "The requested job name already exists. Use a different job name.");
    }
    s.jobs.push(TranscriptionJob { name: name.clone(), status: "IN_PROGRESS".into(), request: request.clone() });
    let fails = s.failures_left > 0;
    s.failures_left = s.failures_left.saturating_sub(1);
    if let Some(recognizer) = s.recognizer.clone() {
        let state = Arc::clone(&state);
        let job_name = name.clone();
        let request = request.clone();
        tokio::spawn(async move {
            let run = if fails { Err(FAILURE_REASON.to_owned()) } else { recognizer.run(&request).await };
            let (status, reason) = match run {
                Ok(()) => ("COMPLETED", None),
                Err(reason) => {
                    tracing::warn!(job = job_name, reason, "transcription stand-in: job failed");
                    ("FAILED", Some(reason))
                }
            };
            if let Ok(mut s) = state.lock()
                && let Some(job) = s.jobs.iter_mut().find(|j| j.name == job_name)
            {
                job.status = status.to_owned();
            }
            let mut detail = json!({ "TranscriptionJobName": job_name, "TranscriptionJobStatus": status });
            if let Some(r) = reason {
                detail["FailureReason"] = r.into();
            }
            let _ = recognizer.emit.send(json!({
                "version": "0",
                "id": ulid::Ulid::new().to_string(),
                "detail-type": "Transcribe Job State Change",
                "source": "aws.transcribe",
                "account": "000000000000",
                "time": vivid_domain::types::now_rfc3339(),
                "region": "us-east-1",
                "resources": [],
                "detail": detail,
            }));
        });
    }
    let language = request["LanguageCode"].clone();
    let body = json!({ "TranscriptionJob": {
        "TranscriptionJobName": name,
        "TranscriptionJobStatus": "IN_PROGRESS",
        "LanguageCode": language,
        "Media": request["Media"],
        "CreationTime": vivid_domain::types::unix_now(),
    }});
    (StatusCode::OK, [("content-type", "application/x-amz-json-1.1")], body.to_string()).into_response()
}

/// Transcribe's answer to a job its caller may not start: `AccessDeniedException` for the job
/// itself; for the media or the output location (the service reads and writes them with the
/// caller's permissions) the `BadRequestException` it answers when it cannot reach them.
fn refusal(state: &Shared, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    use crate::infra::grants::{Context, Grants, needs};
    let key = headers.get(http::header::AUTHORIZATION)?.to_str().ok().and_then(crate::infra::grants::signing_key)?;
    let grants = state.lock().ok()?.grants.clone();
    let wanted = needs::transcribe(body)?;
    let none = Context::default();
    if let Some(denial) = Grants::check_shared(&grants, key, &[wanted.job], &none) {
        return Some(aws_error("AccessDeniedException", &denial.message()));
    }
    if let Some(media) = wanted.media
        && Grants::check_shared(&grants, key, &[media], &none).is_some()
    {
        return Some(aws_error(
            "BadRequestException",
            "The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your request again.",
        ));
    }
    if let Some(output) = wanted.output
        && Grants::check_shared(&grants, key, &[output], &none).is_some()
    {
        return Some(aws_error(
            "BadRequestException",
            "The output location that you provided can't be accessed. Make sure that you have write permission and try your request again.",
        ));
    }
    None
}

fn s3_parts(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    Some((bucket.to_owned(), key.to_owned()))
}

impl Recognizer {
    /// Runs a job to its result; the reason when it fails.
    async fn run(&self, request: &Value) -> Result<(), String> {
        let uri = request.pointer("/Media/MediaFileUri").and_then(Value::as_str).unwrap_or_default();
        let (bucket, key) = s3_parts(uri).ok_or_else(|| format!("unsupported media URI {uri}"))?;
        let out_bucket = request["OutputBucketName"].as_str().ok_or("no OutputBucketName")?.to_owned();
        let out_key = request["OutputKey"].as_str().ok_or("no OutputKey")?.to_owned();
        let media = self
            .s3
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| format!("cannot read the media: {}", aws_sdk_s3::error::DisplayErrorContext(e)))?
            .body
            .collect()
            .await
            .map_err(|e| format!("cannot read the media: {e}"))?
            .into_bytes();
        let dir = std::env::temp_dir().join(format!("vivid-transcribe-{}", ulid::Ulid::new()));
        tokio::fs::create_dir_all(&dir).await.map_err(|e| e.to_string())?;
        let result = self.recognize(&dir, &media).await;
        let _ = tokio::fs::remove_dir_all(&dir).await;
        let words = result?;
        let language = request["LanguageCode"].as_str().unwrap_or("en-US");
        let items: Vec<Value> = words
            .iter()
            .map(|(w, s, e)| {
                json!({ "type": "pronunciation", "start_time": format!("{s:.3}"), "end_time": format!("{e:.3}"),
                        "alternatives": [{ "content": w, "confidence": "0.5" }] })
            })
            .collect();
        let transcript = words.iter().map(|(w, _, _)| w.as_str()).collect::<Vec<_>>().join(" ");
        let doc = json!({
            "jobName": request["TranscriptionJobName"],
            "accountId": "000000000000",
            "status": "COMPLETED",
            "results": { "language_code": language, "transcripts": [{ "transcript": transcript }], "items": items },
        });
        self.s3
            .put_object()
            .bucket(&out_bucket)
            .key(&out_key)
            .content_type("application/json")
            .body(doc.to_string().into_bytes().into())
            .send()
            .await
            .map_err(|e| format!("cannot write the result: {}", aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn recognize(&self, dir: &std::path::Path, media: &[u8]) -> Result<Vec<(String, f64, f64)>, String> {
        let input = dir.join("media");
        let raw = dir.join("audio.raw");
        tokio::fs::write(&input, media).await.map_err(|e| e.to_string())?;
        let decoded = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i"])
            .arg(&input)
            .args(["-vn", "-ar", "16000", "-ac", "1", "-f", "s16le"])
            .arg(&raw)
            .output()
            .await
            .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
        if !decoded.status.success() {
            return Err(format!(
                "the media has no audio ffmpeg can read: {}",
                String::from_utf8_lossy(&decoded.stderr).trim()
            ));
        }
        let out = Command::new(&self.python)
            .arg(&self.script)
            .arg(&raw)
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", self.python.display()))?;
        if !out.status.success() {
            return Err(format!("speech recognition failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        let words: Vec<(String, f64, f64)> =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("unreadable recognition: {e}"))?;
        Ok(words)
    }
}
