//! Zoom's own routes: its cloud recordings (our cursor wraps Zoom's month windows and page
//! tokens), importing one into a space, linking a space for automatic import, and Zoom's webhook
//! that imports each new recording once. Connecting and disconnecting are the shared connector
//! routes (`connectors.rs`).

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, Duration, OffsetDateTime, format_description::BorrowedFormatItem, macros::format_description};
use vivid_domain::{
    access::require_manager,
    connectors::{ConnectionStore, ConnectorError, Provider},
    imports::{ImportIndex, ImportInvoker, ImportJob, JobKind},
    page::PageKey,
    quota::Quotas,
    spaces::SpaceStore,
    types::{Description, SpaceId, now_rfc3339, unix_now},
    video::{Title, VideoStore},
    zoom::{AutoImport, AutoImportStore, MAX_RANGE_DAYS, WINDOW_DAYS, WebhookSigner, ZoomApi, ZoomMeeting, file_ref},
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::{
    connectors::Platform,
    imports::{Found, ImportFrom, Lookup, NewImport, start_import},
};

const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
/// The most calls to Zoom one page of ours makes (empty months are skipped within it).
const MAX_CALLS_PER_PAGE: usize = 4;

fn date_param(req: &ApiRequest, name: &str) -> Result<Option<Date>, ApiError> {
    req.query(name)
        .map(|v| {
            Date::parse(v, DATE)
                .map_err(|_| ApiError::bad_request("invalid_date", format!("{name} must be a date (YYYY-MM-DD)")))
        })
        .transpose()
}

fn fmt(d: Date) -> String {
    d.format(DATE).unwrap_or_default()
}

/// The windows of at most [`WINDOW_DAYS`] that cover `from..=to`, newest first: `(from, to)`.
fn window_ending(to: Date, from: Date) -> (Date, Date) {
    let start = to - Duration::days(WINDOW_DAYS - 1);
    (if start < from { from } else { start }, to)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MeetingView {
    #[serde(flatten)]
    meeting: ZoomMeeting,
}

/// `GET /users/me/recordings?from=&to=` (user): the caller's Zoom cloud recordings that started
/// between the two dates (the last 30 days by default, a year at most), newest first, each with
/// its importable video files. Zoom answers a month per call and pages within it with tokens that
/// expire after 15 minutes; the cursor carries the window and Zoom's token.
pub struct ListZoomRecordings {
    auth: Arc<TokenVerifier>,
    api: Arc<dyn ZoomApi>,
    platform: Platform,
    cursors: Arc<Cursors>,
}

impl ListZoomRecordings {
    /// `platform` is the same client as `api`, with the caller's stored connection.
    pub fn new(auth: Arc<TokenVerifier>, api: Arc<dyn ZoomApi>, platform: Platform, cursors: Arc<Cursors>) -> Self {
        Self { auth, api, platform, cursors }
    }
}

#[async_trait]
impl Handler for ListZoomRecordings {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let today = OffsetDateTime::now_utc().date();
        let to = date_param(req, "to")?.unwrap_or(today);
        let from = date_param(req, "from")?.unwrap_or(to - Duration::days(WINDOW_DAYS - 1));
        if from > to || (to - from).whole_days() >= MAX_RANGE_DAYS {
            return Err(ApiError::bad_request(
                "invalid_range",
                format!("from must not be after to, and the range at most {MAX_RANGE_DAYS} days"),
            ));
        }
        let binding = format!("zoom-recordings|user={}|from={}|to={}", caller.user_id, fmt(from), fmt(to));
        let (limit, start) = self.cursors.page(req, &binding)?;
        let invalid = || ApiError::bad_request("invalid_cursor", "the cursor is malformed or belongs to another query");
        let (mut window_to, mut token) = match &start {
            Some(k) => (
                k.get("w")
                    .and_then(|w| Date::parse(w, DATE).ok())
                    .filter(|w| *w >= from && *w <= to)
                    .ok_or_else(invalid)?,
                k.get("t").filter(|t| !t.is_empty()).cloned(),
            ),
            None => (to, None),
        };
        let api = &self.api;
        let connection = self.platform.connection(&caller.user_id);
        let mut items: Vec<MeetingView> = Vec::new();
        let mut next: Option<PageKey> = None;
        for _ in 0..MAX_CALLS_PER_PAGE {
            let (w_from, w_to) = window_ending(window_to, from);
            let wanted = (usize::from(limit.get()) - items.len()).max(1) as u16;
            let sent_token = token.clone();
            let page = connection
                .with_access(|access| {
                    let t = sent_token.clone();
                    async move { api.recordings(&access, &fmt(w_from), &fmt(w_to), wanted, t.as_deref()).await }
                })
                .await
                .map_err(|e| match e {
                    ConnectorError::Rejected(_) if token.is_some() => ApiError::bad_request(
                        "cursor_expired",
                        "Zoom's page expired (its pages last 15 minutes): list the recordings again",
                    ),
                    other => self.platform.problem(other),
                })?;
            items.extend(page.meetings.into_iter().map(|meeting| MeetingView { meeting }));
            match page.next_page_token {
                Some(t) => {
                    next = Some([("w".to_owned(), fmt(w_to)), ("t".to_owned(), t)].into());
                    break;
                }
                None if w_from > from => {
                    window_to = w_from - Duration::days(1);
                    token = None;
                    next = Some([("w".to_owned(), fmt(window_to)), ("t".to_owned(), String::new())].into());
                    if items.len() >= usize::from(limit.get()) {
                        break;
                    }
                }
                None => {
                    next = None;
                    break;
                }
            }
        }
        http::json(StatusCode::OK, &self.cursors.list(items, next.as_ref(), &binding))
    }
}

/// What `POST /spaces/{spaceId}/videos/zoom` names: `{meetingId, recordingFileId}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ZoomNames {
    meeting_id: String,
    recording_file_id: String,
}

/// Finds a Zoom recording file for an import: one of its meeting's video files.
pub struct ZoomLookup(pub Arc<dyn ZoomApi>);

#[async_trait]
impl Lookup for ZoomLookup {
    type Names = ZoomNames;

    fn check(&self, names: &ZoomNames) -> Result<(), &'static str> {
        let ok = |s: &str| (1..=256).contains(&s.chars().count()) && !s.chars().any(char::is_control);
        if ok(&names.meeting_id) && ok(&names.recording_file_id) {
            Ok(())
        } else {
            Err("meetingId and recordingFileId must be a Zoom meeting's UUID and one of its recording files' ids")
        }
    }

    async fn find(&self, access_token: &str, names: &ZoomNames) -> Result<Found, ConnectorError> {
        let meeting = self.0.meeting(access_token, &names.meeting_id).await?;
        let file = meeting
            .files
            .iter()
            .find(|f| f.recording_file_id == names.recording_file_id)
            .ok_or(ConnectorError::NotFound)?;
        Ok(Found {
            recording: file_ref(&meeting.meeting_id, &file.recording_file_id),
            topic: meeting.topic.clone(),
            size_bytes: file.size_bytes,
        })
    }
}

/// `POST /spaces/{spaceId}/videos/zoom` (host, co-host): `{meetingId, recordingFileId, title, description}`.
pub type ImportZoomRecording = ImportFrom<ZoomLookup>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AutoImportBody {
    enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AutoImportView {
    space_id: SpaceId,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled_at: Option<String>,
}

/// `PUT /spaces/{spaceId}/zoom-auto-import {enabled}` (host, co-host): links the caller's connected Zoom
/// account to the space, so that each of their new cloud recordings is imported into it.
pub struct ZoomAutoImport {
    auth: Arc<TokenVerifier>,
    spaces: Arc<dyn SpaceStore>,
    connections: Arc<dyn ConnectionStore>,
    links: Arc<dyn AutoImportStore>,
}

impl ZoomAutoImport {
    pub fn new(
        auth: Arc<TokenVerifier>,
        spaces: Arc<dyn SpaceStore>,
        connections: Arc<dyn ConnectionStore>,
        links: Arc<dyn AutoImportStore>,
    ) -> Self {
        Self { auth, spaces, connections, links }
    }
}

#[async_trait]
impl Handler for ZoomAutoImport {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: AutoImportBody = req.json(1024)?;
        require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        if !body.enabled {
            self.links.delete_auto_import(&space_id).await?;
            return http::json(StatusCode::OK, &AutoImportView { space_id, enabled: false, enabled_at: None });
        }
        let zoom_user_id = self
            .connections
            .connection(&caller.user_id, Provider::Zoom)
            .await?
            .and_then(|c| c.external_id)
            .ok_or_else(|| ApiError::conflict("zoom_not_connected", "connect Zoom first"))?;
        let link =
            AutoImport { space_id: space_id.clone(), user_id: caller.user_id, zoom_user_id, enabled_at: now_rfc3339() };
        self.links.put_auto_import(&link).await?;
        http::json(StatusCode::OK, &AutoImportView { space_id, enabled: true, enabled_at: Some(link.enabled_at) })
    }
}

#[derive(Deserialize)]
struct Delivery {
    event: String,
    #[serde(default)]
    payload: Value,
}

#[derive(Deserialize)]
struct WebhookFile {
    #[serde(default)]
    id: String,
    #[serde(default)]
    file_type: String,
    #[serde(default)]
    recording_type: String,
    #[serde(default)]
    file_size: u64,
    /// A meeting recorded, stopped and recorded again has files (a video, a transcript) per
    /// segment, each with its segment's start.
    #[serde(default)]
    recording_start: String,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
struct WebhookRecording {
    uuid: String,
    #[serde(default)]
    host_id: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    recording_files: Vec<WebhookFile>,
}

impl WebhookFile {
    fn is_video(&self) -> bool {
        self.file_type.eq_ignore_ascii_case("MP4") && !self.id.is_empty() && self.status != "processing"
    }
}

/// The most segments of one meeting a delivery imports (each a transaction and an invocation
/// within Zoom's 3-second wait).
const MAX_SEGMENTS: usize = 12;

/// The file of a segment to import: the shared screen with the speaker, else the speaker, else
/// the first MP4.
fn preferred<'a>(files: &[&'a WebhookFile]) -> Option<&'a WebhookFile> {
    ["shared_screen_with_speaker_view", "active_speaker"]
        .iter()
        .find_map(|kind| files.iter().find(|f| f.recording_type == *kind).copied())
        .or_else(|| files.first().copied())
}

/// The file to import of each segment of a meeting (files grouped by `recording_start`, in the
/// order the segments were recorded): every segment becomes a video.
fn segments(files: &[WebhookFile]) -> Vec<&WebhookFile> {
    let mut starts: Vec<&str> = files.iter().filter(|f| f.is_video()).map(|f| f.recording_start.as_str()).collect();
    starts.sort_unstable();
    starts.dedup();
    starts
        .into_iter()
        .filter_map(|start| {
            let in_segment: Vec<&WebhookFile> =
                files.iter().filter(|f| f.is_video() && f.recording_start == start).collect();
            preferred(&in_segment)
        })
        .collect()
}

/// `POST /zoom/webhook` (anonymous, signed by Zoom): answers Zoom's endpoint validation; for
/// `recording.completed` imports the recording into every space its host linked — every segment
/// of a meeting recorded in several, each once per space however many times Zoom delivers the
/// event; for `recording.transcript_completed` (Zoom's transcript comes minutes after the
/// recording, in an event of its own) brings the transcript to every video already imported from
/// that meeting. A delivery without Zoom's valid signature (or older than five minutes) is refused.
pub struct ZoomWebhook {
    signer: WebhookSigner,
    links: Arc<dyn AutoImportStore>,
    videos: Arc<dyn VideoStore>,
    imports: Arc<dyn ImportIndex>,
    invoker: Arc<dyn ImportInvoker>,
    quotas: Quotas,
}

/// What a webhook needs besides the signer.
pub struct ZoomWebhookPorts {
    pub links: Arc<dyn AutoImportStore>,
    pub videos: Arc<dyn VideoStore>,
    pub imports: Arc<dyn ImportIndex>,
    pub invoker: Arc<dyn ImportInvoker>,
}

fn recording(payload: &Value) -> Result<WebhookRecording, ApiError> {
    let object = payload.get("object").cloned().unwrap_or(Value::Null);
    serde_json::from_value(object).map_err(|e| ApiError::bad_request("invalid_event", format!("not a recording: {e}")))
}

impl ZoomWebhook {
    pub fn new(signer: WebhookSigner, ports: ZoomWebhookPorts, quotas: Quotas) -> Self {
        let ZoomWebhookPorts { links, videos, imports, invoker } = ports;
        Self { signer, links, videos, imports, invoker, quotas }
    }

    async fn recording_completed(&self, payload: &Value) -> Result<u32, ApiError> {
        let recording = recording(payload)?;
        let mut files = segments(&recording.recording_files);
        let parts = files.len();
        if parts > MAX_SEGMENTS {
            // Zoom waits 3 s for the answer: the rest can be imported by hand.
            tracing::warn!(
                segments = parts,
                "a meeting of more segments than one delivery imports: the first ones only"
            );
            files.truncate(MAX_SEGMENTS);
        }
        let mut started = 0;
        if parts == 0 || recording.host_id.is_empty() {
            return Ok(0);
        }
        for link in self.links.auto_imports_of(&recording.host_id).await? {
            for (k, file) in files.iter().enumerate() {
                let reference = file_ref(&recording.uuid, &file.id);
                if !self.links.claim_delivery(&link.space_id, &reference, unix_now()).await? {
                    tracing::info!(space_id = %link.space_id, "recording already imported into this space");
                    continue;
                }
                let title = if parts > 1 {
                    format!("{} (part {} of {parts})", recording.topic.trim(), k + 1)
                } else {
                    recording.topic.clone()
                };
                let import = NewImport {
                    space_id: link.space_id.clone(),
                    user_id: link.user_id.clone(),
                    provider: Provider::Zoom,
                    recording: reference.clone(),
                    title: Title::lossy(&title, "Zoom recording"),
                    description: Description::default(),
                    topic: recording.topic.clone(),
                    size_bytes: file.file_size,
                };
                match start_import(self.videos.as_ref(), self.invoker.as_ref(), import, &self.quotas).await {
                    Ok(video) => {
                        tracing::info!(space_id = %link.space_id, video_id = %video.video_id, "automatic Zoom import started");
                        started += 1;
                    }
                    // The space went away since it was linked.
                    Err(ApiError::NotFound(_)) => {
                        self.links.delete_auto_import(&link.space_id).await?;
                        break;
                    }
                    // Imported by hand already, or over a quota: nothing to start; the host sees the
                    // reason when they import by hand.
                    Err(
                        e @ (ApiError::Conflict { .. } | ApiError::QuotaExceeded(_) | ApiError::UploadTooLarge { .. }),
                    ) => {
                        tracing::info!(space_id = %link.space_id, code = e.code(), "automatic Zoom import not started");
                    }
                    // Not now (throttled, briefly unavailable): the claim is given back, so that
                    // Zoom's next delivery (it retries what is not answered 2xx) imports it.
                    Err(e @ ApiError::Unavailable(_)) => {
                        if let Err(release) = self.links.release_delivery(&link.space_id, &reference).await {
                            tracing::warn!(space_id = %link.space_id, error = %release, "the delivery's claim stays");
                        }
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(started)
    }

    /// Zoom's transcript is ready: each video imported from the meeting gets it, by the import
    /// worker (with its importer's connection; a video that has it already is left alone).
    async fn transcript_completed(&self, payload: &Value) -> Result<u32, ApiError> {
        let recording = recording(payload)?;
        let has_transcript = recording
            .recording_files
            .iter()
            .any(|f| matches!(f.file_type.to_ascii_uppercase().as_str(), "TRANSCRIPT" | "CC"));
        if !has_transcript || recording.uuid.is_empty() {
            return Ok(0);
        }
        let mut started = 0;
        for imported in self.imports.zoom_imports(&recording.uuid).await? {
            // Once per video, however often Zoom delivers the event (the worker would add
            // nothing twice, but it would fetch the transcript from Zoom every time).
            let claim = format!("{}#transcript", imported.reference);
            if !self.links.claim_delivery(&imported.space_id, &claim, unix_now()).await? {
                continue;
            }
            let job = ImportJob {
                video_id: imported.video_id.clone(),
                user_id: imported.user_id,
                provider: Provider::Zoom,
                recording_id: imported.reference,
                kind: JobKind::Transcript,
            };
            if let Err(e) = self.invoker.start(&job).await {
                if let Err(release) = self.links.release_delivery(&imported.space_id, &claim).await {
                    tracing::warn!(video_id = %imported.video_id, error = %release, "the transcript's claim stays");
                }
                return Err(e.into());
            }
            tracing::info!(video_id = %imported.video_id, "Zoom's transcript is on its way to the video");
            started += 1;
        }
        Ok(started)
    }
}

#[async_trait]
impl Handler for ZoomWebhook {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let body = req.body_bytes();
        let signature = req.header("x-zm-signature").unwrap_or_default();
        let timestamp = req.header("x-zm-request-timestamp").unwrap_or_default();
        if body.len() > 256 * 1024 || !self.signer.verify(timestamp, body, signature, unix_now()) {
            return Err(ApiError::Unauthenticated("the delivery is not signed by Zoom (or is too old)"));
        }
        let delivery: Delivery = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not a Zoom event: {e}")))?;
        match delivery.event.as_str() {
            "endpoint.url_validation" => {
                let plain = delivery.payload.get("plainToken").and_then(Value::as_str).unwrap_or_default();
                if plain.is_empty() || plain.len() > 256 {
                    return Err(ApiError::bad_request("invalid_event", "a validation without plainToken"));
                }
                let answer =
                    serde_json::json!({ "plainToken": plain, "encryptedToken": self.signer.encrypt_token(plain) });
                http::json(StatusCode::OK, &answer)
            }
            "recording.completed" => {
                let started = self.recording_completed(&delivery.payload).await?;
                http::json(StatusCode::OK, &serde_json::json!({ "imports": started }))
            }
            "recording.transcript_completed" => {
                let started = self.transcript_completed(&delivery.payload).await?;
                http::json(StatusCode::OK, &serde_json::json!({ "transcripts": started }))
            }
            other => {
                tracing::info!(event = other, "Zoom event ignored");
                http::no_content()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_at_most_a_month_and_stop_at_from() {
        let d = |s: &str| Date::parse(s, DATE).expect("date");
        assert_eq!(window_ending(d("2026-11-27"), d("2026-01-01")), (d("2026-10-29"), d("2026-11-27")));
        assert_eq!(window_ending(d("2026-11-27"), d("2026-11-20")), (d("2026-11-20"), d("2026-11-27")));
    }

    #[test]
    fn each_segment_imports_its_screen_with_the_speaker() {
        let f = |id: &str, t: &str, kind: &str, start: &str| WebhookFile {
            id: id.into(),
            file_type: t.into(),
            recording_type: kind.into(),
            file_size: 1,
            recording_start: start.into(),
            status: "completed".into(),
        };
        let (one, two) = ("2026-11-01T09:00:00Z", "2026-11-01T09:40:00Z");
        let files = [
            f("a", "M4A", "audio_only", one),
            f("s", "MP4", "active_speaker", one),
            f("w", "MP4", "shared_screen_with_speaker_view", one),
            f("t", "TRANSCRIPT", "audio_transcript", one),
            f("s2", "MP4", "active_speaker", two),
        ];
        let picked = |files: &[WebhookFile]| segments(files).iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(picked(&files), ["w", "s2"]);
        assert_eq!(picked(&files[..2]), ["s"]);
        assert!(picked(&files[..1]).is_empty());
        let processing = [WebhookFile { status: "processing".into(), ..f("p", "MP4", "active_speaker", one) }];
        assert!(picked(&processing).is_empty(), "a file still processing is not importable");
    }
}
