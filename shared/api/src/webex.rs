//! Webex's own routes: its recordings, and importing one into a space. Connecting and
//! disconnecting are the shared connector routes (`connectors.rs`); the connection itself (sealed
//! tokens, refresh on expiry or refusal, concurrent refreshes) is `vivid_domain::connectors`.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Deserialize;
use vivid_domain::{connectors::ConnectorError, page::PageKey, webex::WebexApi};
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

fn rfc3339_param(req: &ApiRequest, name: &str) -> Result<Option<String>, ApiError> {
    let Some(v) = req.query(name) else { return Ok(None) };
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map(|_| Some(v.to_owned()))
        .map_err(|_| ApiError::bad_request("invalid_time", format!("{name} must be an RFC 3339 time")))
}

/// `GET /webex/recordings` (user): the caller's recordings; an expired access token is refreshed
/// (and stored) transparently.
pub struct ListRecordings {
    pub auth: Arc<TokenVerifier>,
    pub api: Arc<dyn WebexApi>,
    /// The same client as `api`, with the caller's stored connection.
    pub platform: Platform,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ListRecordings {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let from = rfc3339_param(req, "from")?;
        let to = rfc3339_param(req, "to")?;
        let binding = format!("webex-recordings|user={}|from={from:?}|to={to:?}", caller.user_id);
        let (limit, start) = self.cursors.page(req, &binding).await?;
        let link = start.as_ref().and_then(|k| k.get("next")).cloned();
        let api = &self.api;
        let page = self
            .platform
            .connection(&caller.user_id)
            .with_access(|token| {
                let (from, to, link) = (from.clone(), to.clone(), link.clone());
                async move { api.recordings(&token, from.as_deref(), to.as_deref(), limit.get(), link.as_deref()).await }
            })
            .await
            .map_err(|e| self.platform.problem(e))?;
        let next: Option<PageKey> = page.next.map(|n| [("next".to_owned(), n)].into());
        http::json(StatusCode::OK, &self.cursors.list(page.items, next.as_ref(), &binding).await?)
    }
}

/// What `POST /spaces/{spaceId}/videos/webex` names: `{recordingId}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebexNames {
    recording_id: String,
}

/// Finds a Webex recording for an import: an MP4 only (an ARF is a 422
/// `unsupported_recording_format`, before any video is created or anything downloaded).
pub struct WebexLookup {
    pub api: Arc<dyn WebexApi>,
}

#[async_trait]
impl Lookup for WebexLookup {
    type Names = WebexNames;

    fn check(&self, names: &WebexNames) -> Result<(), &'static str> {
        let id = &names.recording_id;
        let ok = (1..=256).contains(&id.chars().count()) && !id.chars().any(char::is_control);
        if ok { Ok(()) } else { Err("recordingId must be a Webex recording id") }
    }

    async fn find(&self, access_token: &str, names: &WebexNames) -> Result<Found, ConnectorError> {
        let r = self.api.recording(access_token, &names.recording_id).await?;
        r.importable()?;
        Ok(Found { recording: r.recording_id, topic: r.topic, size_bytes: r.size_bytes })
    }
}

/// `POST /spaces/{spaceId}/videos/webex` (host): `{recordingId, title, description}`.
pub type ImportRecording = ImportFrom<WebexLookup>;
