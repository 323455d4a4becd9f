//! What the platform stand-ins (Webex, Zoom) share: their failure modes, the tokens they issued,
//! recordings' content (real bytes or a synthetic stream of any size) and how it is served.

use std::collections::HashSet;

use crate::error::StackError;

use axum::{
    Json,
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde_json::json;

/// What a stand-in does wrong, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Normal,
    /// The next API call with an access token answers 401 (the token "expired").
    ExpireAccessOnce,
    /// API calls answer 429 with this `Retry-After` (once when `once`).
    RateLimited { retry_after: u64, once: bool },
    /// API calls answer 500.
    ServerError,
    /// Refresh tokens are refused (revoked), and access tokens too.
    Revoked,
    /// Downloads stop after this many bytes.
    BreakDownloadAfter(u64),
}

/// A recording's content: bytes, or a deterministic synthetic stream of a size.
#[derive(Clone)]
pub enum Content {
    Bytes(Bytes),
    Synthetic(u64),
}

impl Content {
    pub fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Synthetic(n) => *n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The tokens a stand-in issued and how the next calls fail.
#[derive(Default)]
pub struct Tokens {
    pub mode: Mode,
    pub codes: HashSet<String>,
    pub access: HashSet<String>,
    pub refresh: HashSet<String>,
    /// Every refresh token ever issued (tests look for them where they must not be).
    pub issued: Vec<String>,
    pub refreshes: u32,
    pub downloads: u32,
}

impl Tokens {
    /// A new pair under `prefix`; the access token valid from now on.
    pub fn issue(&mut self, prefix: &str) -> (String, String) {
        let access = format!("{prefix}at{}", ulid::Ulid::new());
        let refresh = format!("{prefix}rt{}", ulid::Ulid::new());
        self.access.insert(access.clone());
        self.refresh.insert(refresh.clone());
        self.issued.push(access.clone());
        self.issued.push(refresh.clone());
        (access, refresh)
    }

    /// The failure mode's answer to an API call with `headers`, or `None` to go on.
    pub fn gate(&mut self, headers: &HeaderMap, error: fn(StatusCode, &str) -> Response) -> Option<Response> {
        let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        match self.mode {
            Mode::ServerError => return Some(error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")),
            Mode::RateLimited { retry_after, once } => {
                if once {
                    self.mode = Mode::Normal;
                }
                let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "too many requests");
                if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                    resp.headers_mut().insert("retry-after", v);
                }
                return Some(resp);
            }
            Mode::ExpireAccessOnce => {
                self.mode = Mode::Normal;
                if let Some(t) = token {
                    self.access.remove(t);
                }
                return Some(error(StatusCode::UNAUTHORIZED, "Invalid access token."));
            }
            Mode::Revoked => return Some(error(StatusCode::UNAUTHORIZED, "Invalid access token.")),
            _ => {}
        }
        if token.is_none_or(|t| !self.access.contains(t)) {
            return Some(error(StatusCode::UNAUTHORIZED, "Invalid access token."));
        }
        None
    }
}

/// A stand-in's state, also after a panicking holder (tests keep going).
pub fn lock<T>(state: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A JSON error answer.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message, "trackingId": "LOCAL" }))).into_response()
}

/// Serves content in 64 KiB chunks — or breaks off, in that mode.
pub fn serve(content: Content, mode: Mode) -> Response {
    let total = content.len();
    let stop = match mode {
        Mode::BreakDownloadAfter(n) => Some(n),
        _ => None,
    };
    const CHUNK: u64 = 64 * 1024;
    let stream = futures_util::stream::unfold(0u64, move |sent| {
        let content = content.clone();
        async move {
            if let Some(stop) = stop
                && sent >= stop
            {
                return Some((Err(std::io::Error::other("connection reset")), u64::MAX));
            }
            if sent >= total {
                return None;
            }
            let n = CHUNK.min(total - sent);
            let chunk = match &content {
                Content::Bytes(b) => b.slice(sent as usize..(sent + n) as usize),
                Content::Synthetic(_) => Bytes::from((sent..sent + n).map(|i| (i % 251) as u8).collect::<Vec<u8>>()),
            };
            Some((Ok(chunk), sent + n))
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    if stop.is_none()
        && let Ok(v) = HeaderValue::from_str(&total.to_string())
    {
        resp.headers_mut().insert("content-length", v);
    }
    resp.headers_mut().insert("content-type", HeaderValue::from_static("video/mp4"));
    resp
}

/// A real H.264/AAC MP4 of `seconds`, made by ffmpeg from its test pattern and a tone.
pub async fn generated_mp4(seconds: u32) -> Result<Vec<u8>, StackError> {
    let file = std::env::temp_dir().join(format!("vivid-sample-{}.mp4", ulid::Ulid::new()));
    let video = format!("testsrc=duration={seconds}:size=640x360:rate=25");
    let audio = format!("sine=frequency=440:duration={seconds}");
    let out = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &audio])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-c:a", "aac", "-shortest"])
        .args(["-movflags", "+faststart"])
        .arg(&file)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| StackError::Config(format!("cannot run ffmpeg: {e}")))?;
    let bytes = if out.status.success() {
        tokio::fs::read(&file).await.map_err(StackError::from)
    } else {
        Err(StackError::Config(format!("ffmpeg: {}", String::from_utf8_lossy(&out.stderr).trim())))
    };
    let _ = tokio::fs::remove_file(&file).await;
    bytes
}
