//! `POST /zoom/webhook`: Zoom's signed events. A completed recording is imported once into each
//! space linked to its host while the user who linked it still manages the space; Zoom's later
//! transcript reaches the videos imported from the meeting; `app_deauthorized` forgets the
//! connections and links of the Zoom user who removed our app.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::Value;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use vivid_domain::{
    connectors::{ConnectionStore, Provider},
    imports::{ImportIndex, ImportInvoker, ImportJob, JobKind},
    quota::Quotas,
    spaces::SpaceStore,
    types::{Description, unix_now},
    video::{Title, UploadStore, Visibility},
    zoom::{
        AutoImport, AutoImportStore, WebhookSigner, file_ref,
        filter::{Recording, meeting_number},
        link_holds,
    },
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};

use crate::imports::{NewImport, start_import};

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
    recording_end: String,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
struct WebhookRecording {
    uuid: String,
    /// The meeting's number (a JSON number in Zoom's samples; a string read as well).
    #[serde(default)]
    id: Value,
    #[serde(default)]
    host_id: String,
    #[serde(default)]
    topic: String,
    /// The meeting's minutes (read leniently: only the filter's fallback uses them).
    #[serde(default)]
    duration: Value,
    #[serde(default)]
    recording_files: Vec<WebhookFile>,
}

impl WebhookFile {
    fn is_video(&self) -> bool {
        self.file_type.eq_ignore_ascii_case("MP4") && !self.id.is_empty() && self.status != "processing"
    }

    /// The seconds from `recording_start` to `recording_end`, when both are RFC 3339 times.
    fn recorded_secs(&self) -> Option<u64> {
        let at = |t: &str| OffsetDateTime::parse(t, &Rfc3339).ok();
        let secs = (at(&self.recording_end)? - at(&self.recording_start)?).whole_seconds();
        u64::try_from(secs).ok()
    }
}

impl WebhookRecording {
    /// The meeting's number in digits, as a filter keeps it (a string `857 4635 2910` too).
    fn meeting_number(&self) -> Option<String> {
        match &self.id {
            Value::Number(n) => meeting_number(&n.to_string()),
            Value::String(s) => meeting_number(s),
            _ => None,
        }
    }

    /// The recorded seconds of the files to import (each segment's start to end); the meeting's
    /// minutes when a file's times are missing.
    fn recorded_secs(&self, files: &[&WebhookFile]) -> u64 {
        files
            .iter()
            .map(|f| f.recorded_secs())
            .sum::<Option<u64>>()
            .unwrap_or_else(|| self.duration.as_u64().unwrap_or_default().saturating_mul(60))
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
/// `recording.completed` imports the recording into every space its host linked while the user
/// who linked it still hosts or co-hosts it (read consistently: a stale link is deleted) — every
/// segment of a meeting recorded in several, each once per space however many times Zoom
/// delivers the event, a claim given back when its import fails so that Zoom's retry imports it;
/// for `recording.transcript_completed` (Zoom's transcript comes minutes after the recording, in
/// an event of its own) brings the transcript to every video already imported from that meeting;
/// for `app_deauthorized` (the user removed our app at Zoom) forgets the Zoom connections of that
/// Zoom user and every automatic import linked to it. A delivery without Zoom's valid signature
/// (or older than five minutes) is refused.
pub struct ZoomWebhook {
    /// Verifies Zoom's signature of each delivery.
    pub signer: WebhookSigner,
    /// The links, and each delivery's claim per space.
    pub links: Arc<dyn AutoImportStore>,
    /// The linking user's role in a linked space, read at each delivery.
    pub spaces: Arc<dyn SpaceStore>,
    /// The Zoom connections `app_deauthorized` ends.
    pub connections: Arc<dyn ConnectionStore>,
    /// Where an imported recording's video is created.
    pub uploads: Arc<dyn UploadStore>,
    /// The videos imported from a meeting, for its transcript.
    pub imports: Arc<dyn ImportIndex>,
    pub importer: Arc<dyn ImportInvoker>,
    /// An import's size and the day's transcoding budget.
    pub quotas: Quotas,
}

/// What Zoom's `app_deauthorized` names: the Zoom user who removed the app (and their account).
#[derive(Deserialize)]
struct Deauthorization {
    #[serde(default)]
    user_id: String,
}

fn recording(payload: &Value) -> Result<WebhookRecording, ApiError> {
    let object = payload.get("object").cloned().unwrap_or(Value::Null);
    serde_json::from_value(object).map_err(|e| ApiError::bad_request("invalid_event", format!("not a recording: {e}")))
}

impl ZoomWebhook {
    /// Whether the link still imports: its user hosts or co-hosts the live space, read
    /// consistently now. A link that outlived a removal, demotion or departure is deleted (only
    /// while it still names that user) and its space skipped.
    /// The space's visibility for new videos while the link holds; `None` (the link dropped)
    /// once its user no longer manages the space.
    async fn link_holds(&self, link: &AutoImport) -> Result<Option<Visibility>, ApiError> {
        let access = self.spaces.space_access(&link.space_id, &link.user_id).await?;
        let visibility = access.as_ref().map(|a| a.space.new_video_visibility());
        if link_holds(access) {
            return Ok(visibility);
        }
        let removed = self.links.remove_auto_import_of(&link.space_id, &link.user_id).await?;
        tracing::info!(space_id = %link.space_id, removed, "the linking user no longer manages the space: link dropped");
        Ok(None)
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
        let meeting_number = recording.meeting_number();
        let filtered = Recording {
            meeting_id: meeting_number.as_deref(),
            topic: &recording.topic,
            recorded_secs: recording.recorded_secs(&files),
        };
        for link in self.links.auto_imports_of(&recording.host_id).await? {
            if let Err(skipped) = link.filter.admits(&filtered) {
                tracing::info!(space_id = %link.space_id, reason = skipped.as_str(), "recording outside the link's filter");
                continue;
            }
            let Some(visibility) = self.link_holds(&link).await? else { continue };
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
                    visibility,
                };
                match start_import(self.uploads.as_ref(), self.importer.as_ref(), import, &self.quotas).await {
                    Ok(video) => {
                        tracing::info!(space_id = %link.space_id, video_id = %video.video_id, "automatic Zoom import started");
                        started += 1;
                    }
                    // The space went away since it was linked, or the linking account is being
                    // deleted: the link goes (only while it is still theirs).
                    Err(ApiError::NotFound(_) | ApiError::AccountDeleted) => {
                        self.links.remove_auto_import_of(&link.space_id, &link.user_id).await?;
                        break;
                    }
                    // Imported by hand already, or over a quota: nothing to start; the host sees the
                    // reason when they import by hand. The claim stays: a redelivery would decide
                    // the same.
                    Err(e @ (ApiError::QuotaExceeded(_) | ApiError::UploadTooLarge { .. })) => {
                        tracing::info!(space_id = %link.space_id, code = e.code(), "automatic Zoom import not started");
                    }
                    Err(e @ ApiError::Conflict { code: "already_imported", .. }) => {
                        tracing::info!(space_id = %link.space_id, code = e.code(), "automatic Zoom import not started");
                    }
                    // Any other failure (throttled, briefly unavailable, a backend or invocation
                    // error): the claim is given back, so that Zoom's next delivery (it retries
                    // what is not answered 2xx) imports it.
                    Err(e) => {
                        if let Err(release) = self.links.release_delivery(&link.space_id, &reference).await {
                            tracing::warn!(space_id = %link.space_id, error = %release, "the delivery's claim stays");
                        }
                        return Err(e);
                    }
                }
            }
        }
        Ok(started)
    }

    /// The user removed our app at Zoom: every connection with that Zoom user is forgotten (only
    /// while it still is that Zoom user's: a conditional delete) and every automatic import linked
    /// to it or made by those users goes. Their tokens are dead at Zoom already: nothing to revoke.
    /// `(connections, links)` removed; a redelivery removes nothing more.
    async fn app_deauthorized(&self, payload: &Value) -> Result<(u32, u32), ApiError> {
        let notice: Deauthorization = serde_json::from_value(payload.clone())
            .map_err(|e| ApiError::bad_request("invalid_event", format!("not a deauthorization: {e}")))?;
        let zoom_user = notice.user_id.trim();
        if zoom_user.is_empty() || zoom_user.len() > 256 {
            return Err(ApiError::bad_request("invalid_event", "a deauthorization without user_id"));
        }
        let (mut connections, mut links) = (0, 0);
        let users = self.connections.connected_as(Provider::Zoom, zoom_user).await?;
        for user in &users {
            connections += u32::from(self.connections.forget_connection_as(user, Provider::Zoom, zoom_user).await?);
        }
        let mut linked = self.links.auto_imports_of(zoom_user).await?;
        for user in &users {
            linked.extend(self.links.auto_imports_by(user).await?);
        }
        for link in linked {
            links += u32::from(self.links.remove_auto_import_of(&link.space_id, &link.user_id).await?);
        }
        tracing::info!(connections, links, "Zoom app deauthorized: its connections and links forgotten");
        Ok((connections, links))
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
            if let Err(e) = self.importer.start(&job).await {
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
            return Err(ApiError::unauthenticated("the delivery is not signed by Zoom (or is too old)"));
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
            "app_deauthorized" => {
                let (connections, links) = self.app_deauthorized(&delivery.payload).await?;
                http::json(StatusCode::OK, &serde_json::json!({ "connections": connections, "links": links }))
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
    fn each_segment_imports_its_screen_with_the_speaker() {
        let f = |id: &str, t: &str, kind: &str, start: &str| WebhookFile {
            id: id.into(),
            file_type: t.into(),
            recording_type: kind.into(),
            file_size: 1,
            recording_start: start.into(),
            recording_end: String::new(),
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

    /// What a filter reads of Zoom's published `recording.completed` sample: the meeting's
    /// number (a JSON number), its topic, and the recorded time of the MP4 it imports
    /// (22:14:57 to 23:15:41); the meeting's minutes when a file's times are missing.
    #[test]
    fn the_published_sample_gives_the_filter_its_meeting_topic_and_recorded_time() {
        let sample: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/vendor/zoom/webhook-recording-completed.json"
        ))
        .expect("sample");
        let mut r = recording(&sample["payload"]).expect("a recording");
        let files = segments(&r.recording_files);
        assert_eq!(r.meeting_number().as_deref(), Some("1234567890"));
        assert_eq!(r.topic, "My Personal Recording");
        assert_eq!(r.recorded_secs(&files), 3644);
        r.recording_files.iter_mut().for_each(|f| f.recording_end.clear());
        let files = segments(&r.recording_files);
        assert_eq!(r.recorded_secs(&files), 60 * 60, "the meeting's 60 minutes");
        r.id = Value::String("857 4635 2910".into());
        assert_eq!(r.meeting_number().as_deref(), Some("85746352910"));
        r.duration = Value::Null;
        assert_eq!(r.recorded_secs(&files), 0, "no times, no minutes: nothing recorded");
    }
}
