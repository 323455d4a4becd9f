//! A stand-in for Zoom, a real HTTP server on loopback: the OAuth endpoints of a user-managed app
//! (`/oauth/authorize` redirects straight back with a code; `/oauth/token` takes the client as
//! HTTP Basic and rotates refresh tokens — a used one stops working; `/oauth/revoke`), the REST API
//! (`/v2/users/me`, `/v2/users/me/recordings` answering at most a month per call with page tokens
//! that expire, `/v2/meetings/{meetingId}/recordings`), downloads that redirect to a file host,
//! and a webhook sender that signs deliveries as Zoom does. Failure modes are the platform
//! stand-ins' shared ones.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use time::{Date, OffsetDateTime, macros::format_description};
use tokio::{net::TcpListener, task::JoinHandle};
use vivid_domain::zoom::WebhookSigner;

mod api;
use api::{authorize, download, file, list, me, meeting, revoke, token};

use crate::{
    error::StackError,
    standins::platform::{Content, Mode, Tokens, lock, serve},
};

/// How long a listing's `next_page_token` lasts (Zoom: 15 minutes).
const PAGE_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Clone)]
struct File {
    id: String,
    file_type: String,
    recording_type: String,
    content: Content,
    /// Which segment of the meeting the file belongs to (a meeting recorded, stopped and
    /// recorded again has files per segment).
    segment: u32,
    /// A transcript Zoom has not finished yet: not listed, until [`ZoomStandIn::complete_transcripts`].
    pending: bool,
    /// The segment's start and end as a published sample gives them (instead of the segment's).
    times: Option<(String, String)>,
}

impl File {
    fn is_transcript(&self) -> bool {
        matches!(self.file_type.as_str(), "TRANSCRIPT" | "CC")
    }
}

#[derive(Clone)]
struct Meeting {
    uuid: String,
    topic: String,
    start: OffsetDateTime,
    duration_minutes: u64,
    /// The meeting's number (`object.id`: the digits people dial).
    number: u64,
    /// How long each recorded segment lasts.
    segment: time::Duration,
    files: Vec<File>,
}

/// How long each segment of a stand-in meeting lasts unless told, and the pause before the next.
const SEGMENT: time::Duration = time::Duration::minutes(30);
const SEGMENT_GAP: time::Duration = time::Duration::minutes(10);
/// The meeting number of a stand-in meeting unless told (the one of Zoom's samples).
const MEETING_NUMBER: u64 = 1_234_567_890;

impl Meeting {
    fn segment_times(&self, segment: u32) -> (OffsetDateTime, OffsetDateTime) {
        let start = self.start + (self.segment + SEGMENT_GAP) * segment as i32;
        (start, start + self.segment)
    }
}

struct PageToken {
    from: Date,
    to: Date,
    offset: usize,
    issued: Instant,
}

#[derive(Default)]
struct Inner {
    client_id: String,
    client_secret: String,
    base: String,
    user_id: String,
    tokens: Tokens,
    /// Refresh tokens that were used (rotated away): presenting one again fails.
    used_refresh: Vec<String>,
    meetings: Vec<Meeting>,
    pages: HashMap<String, PageToken>,
    /// Bodies that endpoints answer verbatim instead of their own (a vendor's published sample):
    /// `token`, `list`, `meeting`.
    published: HashMap<&'static str, Value>,
    /// Calls to `/v2/users/me/recordings`, with the window each asked for.
    listings: Vec<(String, String)>,
    reuses: u32,
    /// Grants ended by `/oauth/revoke`.
    revocations: u32,
}

type Shared = Arc<Mutex<Inner>>;

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "code": status.as_u16(), "message": message }))).into_response()
}

/// A recording file to add to a meeting: its kind and content.
pub struct NewFile {
    pub file_type: &'static str,
    pub recording_type: &'static str,
    pub content: Content,
    /// The meeting's segment it belongs to (0: the first).
    pub segment: u32,
    /// A transcript that Zoom finishes later (`recording.transcript_completed`).
    pub later: bool,
}

impl NewFile {
    fn new(file_type: &'static str, recording_type: &'static str, content: Content) -> Self {
        Self { file_type, recording_type, content, segment: 0, later: false }
    }

    /// The usual video file of a recording (shared screen with the speaker).
    pub fn mp4(bytes: Vec<u8>) -> Self {
        Self::new("MP4", "shared_screen_with_speaker_view", Content::Bytes(Bytes::from(bytes)))
    }

    /// The active speaker's view (Zoom records it beside the shared screen).
    pub fn speaker_mp4(bytes: Vec<u8>) -> Self {
        Self::new("MP4", "active_speaker", Content::Bytes(Bytes::from(bytes)))
    }

    /// A video of `size` generated bytes, streamed without being held.
    pub fn synthetic_mp4(size: u64) -> Self {
        Self::new("MP4", "shared_screen_with_speaker_view", Content::Synthetic(size))
    }

    pub fn audio() -> Self {
        Self::new("M4A", "audio_only", Content::Bytes(Bytes::from_static(b"m4a")))
    }

    /// The meeting's chat, as Zoom saves it beside the recording.
    pub fn chat() -> Self {
        Self::new("CHAT", "chat_file", Content::Bytes(Bytes::from_static(b"09:00:01\t From Ana : hello\n")))
    }

    /// An audio transcript Zoom has finished already (a recording imported hours later).
    pub fn transcript(vtt: &str) -> Self {
        Self::new("TRANSCRIPT", "audio_transcript", Content::Bytes(Bytes::from(vtt.as_bytes().to_vec())))
    }

    /// An audio transcript that Zoom finishes after the recording, as it usually does: absent from
    /// `recording.completed` and from the API until [`ZoomStandIn::complete_transcripts`].
    pub fn later_transcript(vtt: &str) -> Self {
        Self { later: true, ..Self::transcript(vtt) }
    }

    /// The same file in another segment of the meeting.
    pub fn in_segment(self, segment: u32) -> Self {
        Self { segment, ..self }
    }
}

/// A meeting the stand-in holds: its UUID and its files' ids, in the order given.
#[derive(Debug, Clone)]
pub struct AddedMeeting {
    pub meeting_id: String,
    pub file_ids: Vec<String>,
}

pub struct ZoomStandIn {
    pub base: String,
    pub client_id: String,
    pub client_secret: String,
    /// The app's webhook secret token.
    pub webhook_secret: String,
    state: Shared,
    http: reqwest::Client,
    server: JoinHandle<()>,
}

impl Drop for ZoomStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl ZoomStandIn {
    pub async fn start(bind: SocketAddr) -> Result<Self, StackError> {
        let listener = TcpListener::bind(bind).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let client_id = "vivid-local-zoom".to_owned();
        let client_secret = format!("zoom-secret-{}", ulid::Ulid::new());
        let state: Shared = Arc::new(Mutex::new(Inner {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            base: base.clone(),
            user_id: format!("zu{}", ulid::Ulid::new().to_string().to_lowercase()),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/oauth/authorize", get(authorize))
            .route("/oauth/token", post(token))
            .route("/oauth/revoke", post(revoke))
            .route("/v2/users/me", get(me))
            .route("/v2/users/me/recordings", get(list))
            .route("/v2/meetings/{meeting}/recordings", get(meeting))
            .route("/rec/download/{file}", get(download))
            .route("/rec/file/{file}", get(file))
            .with_state(Arc::clone(&state));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let http = reqwest::Client::builder().build().map_err(|e| StackError::Config(e.to_string()))?;
        let webhook_secret = format!("zoom-webhook-{}", ulid::Ulid::new());
        Ok(Self { base, client_id, client_secret, webhook_secret, state, http, server })
    }

    pub fn oauth_base(&self) -> String {
        self.base.clone()
    }

    pub fn api_base(&self) -> String {
        format!("{}/v2", self.base)
    }

    /// The Zoom user every token of the stand-in belongs to (what webhooks name as `host_id`).
    pub fn user_id(&self) -> String {
        lock(&self.state).user_id.clone()
    }

    pub fn set_mode(&self, mode: Mode) {
        lock(&self.state).tokens.mode = mode;
    }

    /// Adds a meeting that started at `start` with these files (segments of 30 minutes).
    pub fn add_meeting(&self, topic: &str, start: OffsetDateTime, files: Vec<NewFile>) -> AddedMeeting {
        self.add_numbered_meeting(MEETING_NUMBER, topic, start, 30, files)
    }

    /// Adds a meeting of number `number` whose segments each recorded `minutes`.
    pub fn add_numbered_meeting(
        &self,
        number: u64,
        topic: &str,
        start: OffsetDateTime,
        minutes: u32,
        files: Vec<NewFile>,
    ) -> AddedMeeting {
        // Zoom's UUIDs are base64 and may contain `/`.
        let uuid = STANDARD.encode(ulid::Ulid::new().to_bytes());
        let files: Vec<File> = files
            .into_iter()
            .map(|f| File {
                id: ulid::Ulid::new().to_string().to_lowercase(),
                file_type: f.file_type.to_owned(),
                recording_type: f.recording_type.to_owned(),
                content: f.content,
                segment: f.segment,
                pending: f.later,
                times: None,
            })
            .collect();
        let added = AddedMeeting { meeting_id: uuid.clone(), file_ids: files.iter().map(|f| f.id.clone()).collect() };
        let (duration_minutes, segment) = (u64::from(minutes).max(60), time::Duration::minutes(minutes.into()));
        let meeting = Meeting { uuid, topic: topic.to_owned(), start, duration_minutes, number, segment, files };
        lock(&self.state).meetings.push(meeting);
        added
    }

    /// Holds a meeting as a published sample describes it (a webhook's `payload.object` or the
    /// API's meeting): its UUID, topic, start and files (ids, types, segment times) kept, each
    /// file's bytes from `content` (`None`: a few placeholder bytes). Files of `later` (another
    /// sample's object, e.g. `recording.transcript_completed`'s) join the meeting as pending, until
    /// [`ZoomStandIn::complete_transcripts`].
    pub fn add_published_meeting(
        &self,
        object: &Value,
        later: Option<&Value>,
        content: impl Fn(&str) -> Option<Content>,
    ) -> AddedMeeting {
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let files_of = |o: &Value, pending: bool| -> Vec<File> {
            o["recording_files"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let file_type = text(f, "file_type");
                    File {
                        id: text(f, "id"),
                        content: content(&file_type).unwrap_or_else(|| Content::Bytes(Bytes::from_static(b"sample"))),
                        file_type,
                        recording_type: text(f, "recording_type"),
                        segment: 0,
                        pending,
                        times: Some((text(f, "recording_start"), text(f, "recording_end"))),
                    }
                })
                .collect()
        };
        let mut files = files_of(object, false);
        if let Some(l) = later {
            files.extend(files_of(l, true));
        }
        let start = OffsetDateTime::parse(&text(object, "start_time"), &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        let meeting = Meeting {
            uuid: text(object, "uuid"),
            topic: text(object, "topic"),
            start,
            duration_minutes: object["duration"].as_u64().unwrap_or(60),
            number: object["id"].as_u64().unwrap_or(MEETING_NUMBER),
            segment: SEGMENT,
            files,
        };
        let added = AddedMeeting {
            meeting_id: meeting.uuid.clone(),
            file_ids: meeting.files.iter().map(|f| f.id.clone()).collect(),
        };
        lock(&self.state).meetings.push(meeting);
        added
    }

    /// From now on `endpoint` (`token`, `list` or `meeting`) answers `body` verbatim, as a
    /// vendor's published sample (a token response's tokens are then valid here).
    pub fn answer_as_published(&self, endpoint: &'static str, body: Value) {
        let mut s = lock(&self.state);
        if endpoint == "token" {
            for (k, set) in [("access_token", true), ("refresh_token", false)] {
                if let Some(t) = body[k].as_str() {
                    if set {
                        s.tokens.access.insert(t.to_owned());
                    } else {
                        s.tokens.refresh.insert(t.to_owned());
                    }
                }
            }
        }
        s.published.insert(endpoint, body);
    }

    /// Every access and refresh token issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.state).tokens.issued.clone()
    }

    /// How many times a refresh token that was already used (rotated away) was presented again.
    pub fn reused_refresh_tokens(&self) -> u32 {
        lock(&self.state).reuses
    }

    pub fn refreshes(&self) -> u32 {
        lock(&self.state).tokens.refreshes
    }

    /// How many grants `/oauth/revoke` ended.
    pub fn revocations(&self) -> u32 {
        lock(&self.state).revocations
    }

    /// Whether the user's grant is alive: some refresh token of theirs still works.
    pub fn grant_alive(&self) -> bool {
        !lock(&self.state).tokens.refresh.is_empty()
    }

    pub fn downloads(&self) -> u32 {
        lock(&self.state).tokens.downloads
    }

    /// The `(from, to)` windows the listing calls asked for.
    pub fn listings(&self) -> Vec<(String, String)> {
        lock(&self.state).listings.clone()
    }

    /// Every page token expires now (Zoom's last 15 minutes).
    pub fn expire_page_tokens(&self) {
        for page in lock(&self.state).pages.values_mut() {
            page.issued = Instant::now().checked_sub(PAGE_TOKEN_TTL * 2).unwrap_or_else(Instant::now);
        }
    }

    /// The `recording.completed` event Zoom sends when a meeting's recording is ready: its
    /// finished files, without the transcript (Zoom makes it afterwards and announces it in
    /// `recording.transcript_completed`), in the shape of Zoom's published example.
    pub fn recording_completed_event(&self, meeting_id: &str) -> Value {
        let s = lock(&self.state);
        let object = s
            .meetings
            .iter()
            .find(|m| m.uuid == meeting_id)
            .map(|m| meeting_object(&s, m, |f| !f.pending && !f.is_transcript()))
            .unwrap_or(Value::Null);
        event("recording.completed", object)
    }

    /// Zoom finishes the meeting's pending transcripts: from now on the API lists them. Returns
    /// the `recording.transcript_completed` event announcing them (its files: the transcripts).
    pub fn complete_transcripts(&self, meeting_id: &str) -> Value {
        complete_transcripts(&self.state, meeting_id)
    }

    /// What `make dev` offers out of the box: a lecture recorded an hour ago (a real MP4, its
    /// audio and chat), whose transcript Zoom finishes `after` the start, then announces to
    /// `webhook_url` as Zoom would. A line for the start-up banner.
    pub async fn seed_sample(&self, webhook_url: String, after: Duration) -> String {
        let video = match crate::standins::platform::generated_mp4(SAMPLE_SECONDS).await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "no sample recording for the Zoom stand-in");
                return format!("Zoom: no sample recording ({e})");
            }
        };
        let size = video.len();
        let start = OffsetDateTime::now_utc() - time::Duration::hours(1);
        let files = vec![NewFile::mp4(video), NewFile::audio(), NewFile::chat(), NewFile::later_transcript(SAMPLE_VTT)];
        let meeting = self.add_meeting("Sample lecture (Zoom)", start, files).meeting_id;
        let (state, http, secret) = (Arc::clone(&self.state), self.http.clone(), self.webhook_secret.clone());
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let event = complete_transcripts(&state, &meeting);
            let (status, _) = send(&http, &webhook_url, &event, &secret).await;
            tracing::info!(status, "the Zoom stand-in delivered recording.transcript_completed");
        });
        format!("Zoom: Sample lecture (MP4, {size} bytes); its transcript comes {} s after the start", after.as_secs())
    }

    /// Delivers an event to `url` signed as Zoom signs (`secret`: the app's secret token, or
    /// another to test refusals); the response's status and body.
    pub async fn deliver(&self, url: &str, event: &Value, secret: &str) -> (u16, Value) {
        send(&self.http, url, event, secret).await
    }
}

/// How long the sample lecture lasts, and what its transcript says.
const SAMPLE_SECONDS: u32 = 8;
const SAMPLE_VTT: &str = "WEBVTT\n\n1\n00:00:00.500 --> 00:00:03.500\nLocal Host: Welcome to the sample lecture on eigenvalues.\n\n\
                          2\n00:00:03.500 --> 00:00:07.500\nLocal Host: A matrix stretches its eigenvectors.\n";

fn complete_transcripts(state: &Shared, meeting_id: &str) -> Value {
    let mut s = lock(state);
    if let Some(m) = s.meetings.iter_mut().find(|m| m.uuid == meeting_id) {
        for f in m.files.iter_mut().filter(|f| f.is_transcript()) {
            f.pending = false;
        }
    }
    let object = s
        .meetings
        .iter()
        .find(|m| m.uuid == meeting_id)
        .map(|m| meeting_object(&s, m, File::is_transcript))
        .unwrap_or(Value::Null);
    event("recording.transcript_completed", object)
}

/// Posts an event to `url` signed as Zoom signs; the response's status and body.
async fn send(http: &reqwest::Client, url: &str, event: &Value, secret: &str) -> (u16, Value) {
    let body = event.to_string();
    let timestamp = OffsetDateTime::now_utc().unix_timestamp().to_string();
    let signature = WebhookSigner::new(secret).map(|s| s.signature(&timestamp, body.as_bytes())).unwrap_or_default();
    let resp = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-zm-request-timestamp", timestamp)
        .header("x-zm-signature", signature)
        .header("user-agent", "Zoom Marketplace/1.0a")
        .body(body)
        .send()
        .await;
    match resp {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        }
        Err(e) => (0, json!({ "error": e.without_url().to_string() })),
    }
}

fn date(s: &str) -> Option<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// A webhook delivery's body, as Zoom's published examples are: the event, its time, the
/// download token, and the payload's object.
fn event(name: &str, object: Value) -> Value {
    let account = object["account_id"].clone();
    json!({
        "event": name,
        "event_ts": OffsetDateTime::now_utc().unix_timestamp() * 1000,
        "download_token": format!("dt{}", ulid::Ulid::new()),
        "payload": { "account_id": account, "object": object },
    })
}

/// A meeting as a webhook's object: the API's fields and the host's ids, with the files `keep`
/// selects.
fn meeting_object(s: &Inner, m: &Meeting, keep: impl Fn(&File) -> bool) -> Value {
    let mut object = meeting_json(&s.base, m, keep);
    object["host_id"] = s.user_id.clone().into();
    object["account_id"] = "LOCALACCOUNT".into();
    object["host_email"] = "host@example.com".into();
    object
}

/// A meeting's recording as Zoom's API answers it (`GET /meetings/{id}/recordings`, and each
/// entry of the listing): the files `keep` selects, each with its segment's start and end.
fn meeting_json(base: &str, m: &Meeting, keep: impl Fn(&File) -> bool) -> Value {
    let kept: Vec<&File> = m.files.iter().filter(|f| keep(f)).collect();
    let files: Vec<Value> = kept
        .iter()
        .map(|f| {
            let (start, end) = m.segment_times(f.segment);
            let (start, end) = f.times.clone().unwrap_or_else(|| (rfc3339(start), rfc3339(end)));
            json!({
                "id": f.id,
                "meeting_id": m.uuid,
                "recording_start": start,
                "recording_end": end,
                "file_type": f.file_type,
                "file_extension": match f.file_type.as_str() { "TRANSCRIPT" | "CC" => "VTT", "CHAT" => "TXT", other => other },
                "file_size": f.content.len(),
                "play_url": format!("{base}/rec/play/{}", f.id),
                "download_url": format!("{base}/rec/download/{}", f.id),
                "status": "completed",
                "recording_type": f.recording_type,
            })
        })
        .collect();
    json!({
        "uuid": m.uuid,
        "id": m.number,
        "topic": m.topic,
        "type": 2,
        "start_time": rfc3339(m.start),
        "timezone": "UTC",
        "duration": m.duration_minutes,
        "share_url": format!("{base}/rec/share/{}", m.uuid),
        "total_size": kept.iter().map(|f| f.content.len()).sum::<u64>(),
        "recording_count": kept.len(),
        "recording_files": files,
    })
}
