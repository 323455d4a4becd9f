//! Zoom's own routes: its cloud recordings (our cursor wraps Zoom's month windows and page
//! tokens), importing one into a space, linking a space for automatic import, and Zoom's webhook
//! (`zoom/webhook.rs`) that imports each new recording once. Connecting and disconnecting are the
//! shared connector routes (`connectors.rs`).

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, format_description::BorrowedFormatItem, macros::format_description};
use vivid_domain::{
    access::require_manager,
    connectors::{ConnectionStore, ConnectorError, Provider},
    page::PageKey,
    spaces::SpaceStore,
    types::{SpaceId, now_rfc3339},
    zoom::{
        AutoImport, AutoImportStore, FilterRequest, ImportFilter, MAX_RANGE_DAYS, WINDOW_DAYS, ZoomApi, ZoomMeeting,
        file_ref,
    },
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::{
    connectors::Platform,
    imports::{Found, ImportFrom, Lookup},
};

mod webhook;
pub use webhook::ZoomWebhook;

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

/// `GET /zoom/recordings?from=&to=` (also its deprecated alias `GET /users/me/recordings`) (user): the caller's Zoom cloud recordings that started
/// between the two dates (the last 30 days by default, a year at most), newest first, each with
/// its importable video files. Zoom answers a month per call and pages within it with tokens that
/// expire after 15 minutes; the cursor carries the window and Zoom's token.
pub struct ListZoomRecordings {
    pub auth: Arc<TokenVerifier>,
    pub api: Arc<dyn ZoomApi>,
    /// The same client as `api`, with the caller's stored connection.
    pub platform: Platform,
    pub cursors: Arc<Cursors>,
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
        let (limit, start) = self.cursors.page(req, &binding).await?;
        let invalid = ApiError::invalid_cursor;
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
        http::json(StatusCode::OK, &self.cursors.list(items, next.as_ref(), &binding).await?)
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
pub struct ZoomLookup {
    pub api: Arc<dyn ZoomApi>,
}

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
        let meeting = self.api.meeting(access_token, &names.meeting_id).await?;
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
    /// Which recordings to import (absent: every one); with `enabled: false`, checked and dropped.
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    filter: Option<FilterRequest>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AutoImportView {
    space_id: SpaceId,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<ImportFilter>,
}

/// `PUT /spaces/{spaceId}/zoom-auto-import {enabled, filter?}` (host, co-host): links the caller's
/// connected Zoom account to the space, so that each of their new cloud recordings that passes
/// the filter (meeting ids, a topic pattern, a minimum recorded duration; none: every one) is
/// imported into it. A new PUT replaces the link and its filter; 422 `invalid_body` for a bad rule.
pub struct ZoomAutoImport {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    /// The caller's Zoom connection, whose Zoom user the link names.
    pub connections: Arc<dyn ConnectionStore>,
    pub links: Arc<dyn AutoImportStore>,
}

#[async_trait]
impl Handler for ZoomAutoImport {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        // Fifty meeting ids and a pattern of 200 characters fit well within 8 KiB.
        let body: AutoImportBody = req.json(8 * 1024)?;
        // A bad rule is refused either way; unlinking drops the link with its filter.
        let filter = ImportFilter::parse(body.filter.unwrap_or_default())
            .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
        require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        if !body.enabled {
            self.links.delete_auto_import(&space_id).await?;
            return http::json(
                StatusCode::OK,
                &AutoImportView { space_id, enabled: false, enabled_at: None, filter: None },
            );
        }
        let zoom_user_id = self
            .connections
            .connection(&caller.user_id, Provider::Zoom)
            .await?
            .and_then(|c| c.external_id)
            .ok_or_else(|| {
                ApiError::conflict("zoom_not_connected", "Zoom is not connected: connect it first (GET /zoom/login)")
            })?;
        let link = AutoImport {
            space_id: space_id.clone(),
            user_id: caller.user_id,
            zoom_user_id,
            enabled_at: now_rfc3339(),
            filter,
        };
        self.links.put_auto_import(&link).await?;
        let view = AutoImportView {
            space_id,
            enabled: true,
            filter: (!link.filter.is_empty()).then(|| link.filter.clone()),
            enabled_at: Some(link.enabled_at),
        };
        http::json(StatusCode::OK, &view)
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
}
