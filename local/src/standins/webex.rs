//! A stand-in for the Webex REST API, a real HTTP server on loopback: `/v1/authorize` (redirects
//! straight back with a code), `/v1/access_token` (authorization code and refresh),
//! `DELETE /v1/authorizations?clientId=` (the user's authorization of the client revoked), recordings
//! list and details with a temporary download link that serves real bytes. Failure modes can be
//! switched on to test what clients rely on: expired tokens, 429, 500, revoked refresh tokens and
//! downloads that break off.
//!
//! Recordings are served in the shapes of Webex's published examples for List Recordings and Get
//! Recording Details (`webex/webex-openapi-specs`, `public-spec/webex-meeting.json`): the user's
//! listing has no `hostEmail` (only the admin listing has it), every recording says its `format`
//! (`MP4`, `ARF` — Webex's own format — or `UPLOADED`), and the listing filters by the `format`
//! query parameter (`MP4` or `ARF`; another value is a 400) as Webex does.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{delete, get, post},
};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    error::StackError,
    standins::platform::{Content, Tokens, generated_mp4, json_error, lock, serve},
};

pub use crate::standins::platform::Mode;

/// A recording's file format, as Webex names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingFormat {
    /// `MP4`: what a Webex site records by default, and the only format we import.
    Mp4,
    /// `ARF`: Webex's own format, played only by its Network Recording Player.
    Arf,
    /// `UPLOADED`: a file someone uploaded to the site.
    Uploaded,
}

impl RecordingFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mp4 => "MP4",
            Self::Arf => "ARF",
            Self::Uploaded => "UPLOADED",
        }
    }
}

/// What an ARF recording of the stand-in holds: not a video anything but Webex's player reads.
pub const ARF_STAND_IN_BYTES: &[u8] = b"ARF stand-in: Webex Advanced Recording Format, not a video MediaConvert reads";

#[derive(Clone)]
struct Rec {
    topic: String,
    format: RecordingFormat,
    content: Content,
}

#[derive(Default)]
struct Inner {
    client_id: String,
    client_secret: String,
    base: String,
    tokens: Tokens,
    recordings: Vec<(String, Rec)>,
    /// Where download links point instead of this server (a host outside the allow-list).
    download_base: Option<String>,
    /// Download links that answer with a redirect to this URL.
    redirect_to: Option<String>,
    /// The size the API states for each recording, whatever its bytes are.
    stated_size: Option<u64>,
    /// Bodies that endpoints answer verbatim instead of their own (a vendor's published sample):
    /// `list`, `details`.
    published: std::collections::HashMap<&'static str, serde_json::Value>,
    /// The query of every listing call, as received.
    list_queries: Vec<String>,
    /// Authorizations deleted through `DELETE /v1/authorizations`.
    revocations: u32,
}

type Shared = Arc<Mutex<Inner>>;

pub struct WebexStandIn {
    pub base: String,
    pub client_id: String,
    pub client_secret: String,
    state: Shared,
    server: JoinHandle<()>,
}

impl Drop for WebexStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl WebexStandIn {
    pub async fn start(bind: SocketAddr) -> Result<Self, StackError> {
        let listener = TcpListener::bind(bind).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let client_id = "vivid-local-webex".to_owned();
        let client_secret = format!("webex-secret-{}", ulid::Ulid::new());
        let state: Shared = Arc::new(Mutex::new(Inner {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            base: base.clone(),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/v1/authorize", get(authorize))
            .route("/v1/access_token", post(access_token))
            .route("/v1/authorizations", delete(delete_authorizations))
            .route("/v1/recordings", get(list))
            .route("/v1/recordings/{id}", get(details))
            .route("/download/{id}", get(download))
            .route("/redirect/{id}", get(redirect))
            .with_state(Arc::clone(&state));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { base, client_id, client_secret, state, server })
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/v1/authorize", self.base)
    }

    pub fn api_base(&self) -> String {
        format!("{}/v1", self.base)
    }

    /// Every access and refresh token the stand-in has issued (tests look for them where they
    /// must not be).
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.state).tokens.issued.clone()
    }

    pub fn set_mode(&self, mode: Mode) {
        lock(&self.state).tokens.mode = mode;
    }

    /// How many authorizations `DELETE /v1/authorizations` deleted.
    pub fn revocations(&self) -> u32 {
        lock(&self.state).revocations
    }

    /// Whether the user's authorization is alive: some refresh token of theirs still works.
    pub fn grant_alive(&self) -> bool {
        !lock(&self.state).tokens.refresh.is_empty()
    }

    /// Adds an MP4 recording with real bytes; returns its id.
    pub fn add_recording(&self, topic: &str, bytes: Vec<u8>) -> String {
        self.add_recording_with_format(topic, RecordingFormat::Mp4, bytes)
    }

    /// Adds a recording in `format` with real bytes (for an ARF, e.g. [`ARF_STAND_IN_BYTES`]);
    /// returns its id.
    pub fn add_recording_with_format(&self, topic: &str, format: RecordingFormat, bytes: Vec<u8>) -> String {
        self.add(topic, format, Content::Bytes(Bytes::from(bytes)))
    }

    /// Adds an MP4 recording of `size` generated bytes, streamed without being held.
    pub fn add_synthetic_recording(&self, topic: &str, size: u64) -> String {
        self.add(topic, RecordingFormat::Mp4, Content::Synthetic(size))
    }

    /// A Webex-like id: 32 hex digits.
    fn add(&self, topic: &str, format: RecordingFormat, content: Content) -> String {
        let id = format!("{:032x}", u128::from(ulid::Ulid::new()));
        lock(&self.state).recordings.push((id.clone(), Rec { topic: topic.to_owned(), format, content }));
        id
    }

    /// What `make dev` offers out of the box: a short real MP4 lecture (generated with ffmpeg) and
    /// an ARF one (listed by Webex only when asked for ARF; refused by the import). A line per
    /// recording for the start-up banner; without ffmpeg the MP4 is left out, with a warning.
    pub async fn seed_samples(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match generated_mp4(SAMPLE_SECONDS).await {
            Ok(bytes) => {
                let size = bytes.len();
                let id = self.add_recording("Sample lecture", bytes);
                lines.push(format!("Webex: Sample lecture (MP4, {size} bytes, {SAMPLE_SECONDS} s) {id}"));
            }
            Err(e) => {
                tracing::warn!(error = %e, "no sample MP4 recording for the Webex stand-in");
                lines.push(format!("Webex: no sample MP4 ({e})"));
            }
        }
        let id =
            self.add_recording_with_format("Sample lecture (ARF)", RecordingFormat::Arf, ARF_STAND_IN_BYTES.to_vec());
        lines.push(format!("Webex: Sample lecture (ARF) {id}: not listed, its import a 422"));
        lines
    }

    /// From now on `endpoint` (`list` or `details`) answers `body` verbatim, as a vendor's
    /// published sample.
    pub fn answer_as_published(&self, endpoint: &'static str, body: serde_json::Value) {
        lock(&self.state).published.insert(endpoint, body);
    }

    /// The query string of every listing call so far.
    pub fn list_queries(&self) -> Vec<String> {
        lock(&self.state).list_queries.clone()
    }

    /// How many refresh grants the stand-in has answered.
    pub fn refreshes(&self) -> u32 {
        lock(&self.state).tokens.refreshes
    }

    pub fn downloads(&self) -> u32 {
        lock(&self.state).tokens.downloads
    }

    /// Download links point at `base` (e.g. a host the import worker must refuse).
    pub fn set_download_base(&self, base: Option<String>) {
        lock(&self.state).download_base = base;
    }

    /// Download links answer 302 to `url` (e.g. the instance metadata service).
    pub fn set_redirect(&self, url: Option<String>) {
        lock(&self.state).redirect_to = url;
    }

    /// Recordings are said to have `size` bytes, whatever they hold.
    pub fn set_stated_size(&self, size: Option<u64>) {
        lock(&self.state).stated_size = size;
    }
}

/// How long the sample MP4 lecture is.
const SAMPLE_SECONDS: u32 = 8;

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
}

async fn authorize(State(state): State<Shared>, Query(q): Query<AuthorizeQuery>) -> Response {
    let mut s = lock(&state);
    if q.client_id != s.client_id {
        return (StatusCode::BAD_REQUEST, "unknown client").into_response();
    }
    let code = format!("wxcode{}", ulid::Ulid::new());
    s.tokens.codes.insert(code.clone());
    let sep = if q.redirect_uri.contains('?') { '&' } else { '?' };
    let st = percent_encoding::utf8_percent_encode(&q.state, percent_encoding::NON_ALPHANUMERIC);
    Redirect::to(&format!("{}{sep}code={code}&state={st}", q.redirect_uri)).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: String,
    client_secret: String,
    code: Option<String>,
    refresh_token: Option<String>,
}

fn error(status: StatusCode, message: &str) -> Response {
    json_error(status, message)
}

async fn access_token(State(state): State<Shared>, Form(f): Form<TokenForm>) -> Response {
    let mut s = lock(&state);
    if f.client_id != s.client_id || f.client_secret != s.client_secret {
        return error(StatusCode::UNAUTHORIZED, "invalid client");
    }
    match f.grant_type.as_str() {
        "authorization_code" => {
            if !f.code.as_ref().is_some_and(|c| s.tokens.codes.remove(c)) {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
        }
        "refresh_token" => {
            if s.tokens.mode == Mode::Revoked || !f.refresh_token.as_ref().is_some_and(|r| s.tokens.refresh.contains(r))
            {
                return error(StatusCode::BAD_REQUEST, "invalid_grant: the refresh token is revoked");
            }
            s.tokens.refreshes += 1;
        }
        _ => return error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
    let (access, refresh) = s.tokens.issue("wx");
    Json(json!({
        "access_token": access,
        "expires_in": 1_209_600,
        "refresh_token": refresh,
        "refresh_token_expires_in": 7_776_000,
        "token_type": "Bearer",
    }))
    .into_response()
}

#[derive(Deserialize)]
struct AuthorizationsQuery {
    #[serde(rename = "clientId")]
    client_id: Option<String>,
}

/// `DELETE /v1/authorizations?clientId=` (Webex's Authorizations API, "Delete authorization of
/// org and client ID"), with the user's access token: the user's authorization of that client
/// goes, its refresh and access tokens with it; 204. Without `clientId` a 400; another client's a
/// 404. The stand-in does not reproduce the admin roles and the `identity:tokens_write` scope
/// Webex documents for this API (`docs/vendors.md`).
async fn delete_authorizations(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<AuthorizationsQuery>,
) -> Response {
    if let Some(resp) = gate(&state, &headers) {
        return resp;
    }
    let mut s = lock(&state);
    let Some(client) = q.client_id else { return error(StatusCode::BAD_REQUEST, "clientId is required") };
    if client != s.client_id {
        return error(StatusCode::NOT_FOUND, "no authorization of this client");
    }
    s.tokens.refresh.clear();
    s.tokens.access.clear();
    s.revocations += 1;
    StatusCode::NO_CONTENT.into_response()
}

/// The failure mode's answer to an API call, or `None` to go on.
fn gate(state: &Shared, headers: &HeaderMap) -> Option<Response> {
    lock(state).tokens.gate(headers, error)
}

/// A recording as Webex's published examples show it: a List Recordings item, or with
/// `with_link` the Get Recording Details answer (its temporary download link, which expires 3
/// hours after the request). The audio and transcript links are left out: the stand-in has no
/// audio-only file or transcript to serve.
fn recording_json(s: &Inner, id: &str, r: &Rec, with_link: bool) -> serde_json::Value {
    let size = s.stated_size.unwrap_or(r.content.len());
    let mut v = json!({
        "id": id,
        "meetingId": format!("{id}_I_166641849979635652"),
        "scheduledMeetingId": format!("{id}_20261120T090000Z"),
        "meetingSeriesId": id,
        "topic": r.topic,
        "createTime": "2026-11-20T10:02:11Z",
        "timeRecorded": "2026-11-20T09:00:00Z",
        "siteUrl": "vivid-local.webex.com",
        "downloadUrl": format!("https://vivid-local.webex.com/vivid-local/lsr.php?RCID={id}"),
        "playbackUrl": format!("https://vivid-local.webex.com/vivid-local/ldr.php?RCID={id}"),
        "password": "********",
        "format": r.format.as_str(),
        "serviceType": "MeetingCenter",
        "durationSeconds": 600,
        "sizeBytes": size,
        "shareToMe": false,
        "status": "available",
    });
    if with_link {
        let expiration = time::OffsetDateTime::now_utc() + time::Duration::hours(3);
        v["temporaryDirectDownloadLinks"] = json!({
            "recordingDownloadLink": format!(
                "{}/{}/{id}?token=tmp{}",
                s.download_base.as_deref().unwrap_or(&s.base),
                if s.redirect_to.is_some() { "redirect" } else { "download" },
                ulid::Ulid::new()
            ),
            "expiration": expiration
                .replace_nanosecond(0)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default(),
        });
    }
    v
}

#[derive(Deserialize)]
struct ListQuery {
    max: Option<usize>,
    offset: Option<usize>,
    /// Webex's filter: `MP4` or `ARF`.
    format: Option<String>,
}

async fn list(
    State(state): State<Shared>,
    headers: HeaderMap,
    raw: axum::extract::RawQuery,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Some(resp) = gate(&state, &headers) {
        return resp;
    }
    {
        let mut s = lock(&state);
        s.list_queries.push(raw.0.unwrap_or_default());
        if let Some(body) = s.published.get("list") {
            return Json(body.clone()).into_response();
        }
    }
    let format = match q.format.as_deref() {
        None => None,
        Some("MP4") => Some(RecordingFormat::Mp4),
        Some("ARF") => Some(RecordingFormat::Arf),
        Some(_) => return error(StatusCode::BAD_REQUEST, "format must be one of MP4, ARF"),
    };
    let s = lock(&state);
    let max = q.max.unwrap_or(10).clamp(1, 100);
    let offset = q.offset.unwrap_or(0);
    let matching: Vec<_> = s.recordings.iter().filter(|(_, r)| format.is_none_or(|f| r.format == f)).collect();
    let items: Vec<_> =
        matching.iter().skip(offset).take(max).map(|(id, r)| recording_json(&s, id, r, false)).collect();
    let mut resp = Json(json!({ "items": items })).into_response();
    // The next link keeps the query, its filter included.
    let filter = format.map(|f| format!("&format={}", f.as_str())).unwrap_or_default();
    if offset + max < matching.len()
        && let Ok(link) =
            format!("<{}/v1/recordings?max={max}{filter}&offset={}>; rel=\"next\"", s.base, offset + max).parse()
    {
        resp.headers_mut().insert("link", link);
    }
    resp
}

async fn details(State(state): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(resp) = gate(&state, &headers) {
        return resp;
    }
    let s = lock(&state);
    if let Some(body) = s.published.get("details") {
        return Json(body.clone()).into_response();
    }
    match s.recordings.iter().find(|(rid, _)| *rid == id) {
        Some((id, r)) => Json(recording_json(&s, id, r, true)).into_response(),
        None => error(StatusCode::NOT_FOUND, "The requested resource could not be found."),
    }
}

/// A download link that sends the client elsewhere.
async fn redirect(State(state): State<Shared>) -> Response {
    match lock(&state).redirect_to.clone() {
        Some(to) => Redirect::to(&to).into_response(),
        None => error(StatusCode::NOT_FOUND, "no redirect set"),
    }
}

/// Serves a recording's bytes (or breaks off, in that mode).
async fn download(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let (content, mode) = {
        let mut s = lock(&state);
        s.tokens.downloads += 1;
        match s.recordings.iter().find(|(rid, _)| *rid == id) {
            Some((_, r)) => (r.content.clone(), s.tokens.mode),
            None => return error(StatusCode::NOT_FOUND, "no such recording"),
        }
    };
    serve(content, mode)
}
