//! Webex's own routes: its recordings, and importing one into a space. Connecting and
//! disconnecting are the shared connector routes (`connectors.rs`); the connection itself (sealed
//! tokens, refresh on expiry or refusal, concurrent refreshes) is `vivid_domain::connectors`.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Deserialize;
use vivid_domain::{
    access::require_host,
    connectors::{ConnectionStore, TokenCipher},
    imports::ImportInvoker,
    page::PageKey,
    spaces::SpaceStore,
    types::{Description, SpaceId},
    video::{Title, VideoStore},
    webex::WebexApi,
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::connectors::{NewImport, Platform, accepted, start_import};

/// Webex's API with the caller's connection.
struct Ctx {
    auth: Arc<TokenVerifier>,
    api: Arc<dyn WebexApi>,
    platform: Platform,
}

impl Ctx {
    fn new(
        auth: Arc<TokenVerifier>,
        api: Arc<dyn WebexApi>,
        store: Arc<dyn ConnectionStore>,
        cipher: Arc<dyn TokenCipher>,
    ) -> Self {
        let platform = Platform { oauth: api.clone(), store, cipher };
        Self { auth, api, platform }
    }
}

fn rfc3339_param(req: &ApiRequest, name: &str) -> Result<Option<String>, ApiError> {
    let Some(v) = req.query(name) else { return Ok(None) };
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map(|_| Some(v.to_owned()))
        .map_err(|_| ApiError::bad_request("invalid_time", format!("{name} must be an RFC 3339 time")))
}

/// `GET /webex/recordings` (user): the caller's recordings; an expired access token is refreshed
/// (and stored) transparently.
pub struct ListRecordings(Ctx, Arc<Cursors>);

impl ListRecordings {
    pub fn new(
        auth: Arc<TokenVerifier>,
        api: Arc<dyn WebexApi>,
        store: Arc<dyn ConnectionStore>,
        cipher: Arc<dyn TokenCipher>,
        cursors: Arc<Cursors>,
    ) -> Self {
        Self(Ctx::new(auth, api, store, cipher), cursors)
    }
}

#[async_trait]
impl Handler for ListRecordings {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.0.auth)?;
        let from = rfc3339_param(req, "from")?;
        let to = rfc3339_param(req, "to")?;
        let binding = format!("webex-recordings|user={}|from={from:?}|to={to:?}", caller.user_id);
        let (limit, start) = self.1.page(req, &binding)?;
        let link = start.as_ref().and_then(|k| k.get("next")).cloned();
        let api = &self.0.api;
        let page = self
            .0
            .platform
            .connection(&caller.user_id)
            .with_access(|token| {
                let (from, to, link) = (from.clone(), to.clone(), link.clone());
                async move { api.recordings(&token, from.as_deref(), to.as_deref(), limit.get(), link.as_deref()).await }
            })
            .await
            .map_err(|e| self.0.platform.problem(e))?;
        let next: Option<PageKey> = page.next.map(|n| [("next".to_owned(), n)].into());
        http::json(StatusCode::OK, &self.1.list(page.items, next.as_ref(), &binding))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ImportBody {
    recording_id: String,
    title: Title,
    #[serde(default)]
    description: Description,
}

/// `POST /spaces/{spaceId}/videos/webex` (host): the video in `IMPORTING`, the import started.
pub struct ImportRecording {
    ctx: Ctx,
    spaces: Arc<dyn SpaceStore>,
    videos: Arc<dyn VideoStore>,
    invoker: Arc<dyn ImportInvoker>,
}

impl ImportRecording {
    pub fn new(
        auth: Arc<TokenVerifier>,
        api: Arc<dyn WebexApi>,
        store: Arc<dyn ConnectionStore>,
        cipher: Arc<dyn TokenCipher>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        invoker: Arc<dyn ImportInvoker>,
    ) -> Self {
        Self { ctx: Ctx::new(auth, api, store, cipher), spaces, videos, invoker }
    }
}

#[async_trait]
impl Handler for ImportRecording {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.ctx.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: ImportBody = req.json(DEFAULT_MAX_BODY)?;
        if body.recording_id.is_empty() || body.recording_id.len() > 256 {
            return Err(ApiError::unprocessable("invalid_body", "recordingId must be a Webex recording id"));
        }
        require_host(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let api = &self.ctx.api;
        let id = body.recording_id.as_str();
        let recording = self
            .ctx
            .platform
            .connection(&caller.user_id)
            .with_access(|token| async move { api.recording(&token, id).await })
            .await
            .map_err(|e| self.ctx.platform.problem(e))?;
        let import = NewImport {
            space_id,
            user_id: caller.user_id,
            provider: self.ctx.platform.provider(),
            recording: recording.recording_id,
            title: body.title,
            description: body.description,
            topic: recording.topic,
            size_bytes: recording.size_bytes,
        };
        accepted(start_import(self.videos.as_ref(), self.invoker.as_ref(), import).await?)
    }
}
