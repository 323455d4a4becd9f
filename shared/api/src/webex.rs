//! `/webex/*` and `POST /spaces/{spaceId}/videos/webex`: connect a Webex account, list its
//! recordings, import one into a space. The connection itself (sealed tokens, refresh on expiry
//! or refusal, concurrent refreshes) is the shared connector of `vivid_domain::connectors`.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};
use vivid_domain::{
    access::require_host,
    connectors::{Connection, ConnectionStore, ConnectorError, Provider, TokenCipher},
    error::StoreError,
    imports::{ImportInvoker, ImportJob},
    page::PageKey,
    sessions::random_token,
    spaces::SpaceStore,
    types::{Description, SpaceId, VideoId, now_rfc3339, unix_now},
    video::{FileName, Title, Video, VideoContentType, VideoStatus, VideoStore},
    webex::WebexApi,
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
    problem::connector_problem,
};
use vivid_tokens::TokenVerifier;

use crate::videos::VideoView;

const STATE_TTL_SECS: u64 = 600;
const PROVIDER: Provider = Provider::Webex;

fn problem(e: ConnectorError) -> ApiError {
    connector_problem(PROVIDER, e)
}

/// The caller's Webex connection: store, cipher and Webex client.
struct Ctx {
    auth: Arc<TokenVerifier>,
    api: Arc<dyn WebexApi>,
    store: Arc<dyn ConnectionStore>,
    cipher: Arc<dyn TokenCipher>,
}

impl Ctx {
    fn connection<'a>(&'a self, user: &'a vivid_domain::types::UserId) -> Connection<'a> {
        Connection { store: self.store.as_ref(), cipher: self.cipher.as_ref(), oauth: self.api.as_ref(), user }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeBody {
    authorize_url: String,
}

/// `GET /webex/login` (user): `{authorizeUrl}` — Webex's authorize URL with a state bound to the
/// caller (good once, ten minutes). A browser `fetch`es it with the access token and navigates
/// there; Webex returns to the front end, which posts `{code, state}` to `POST /webex/token`.
pub struct WebexLogin {
    auth: Arc<TokenVerifier>,
    api: Arc<dyn WebexApi>,
    store: Arc<dyn ConnectionStore>,
}

impl WebexLogin {
    pub fn new(auth: Arc<TokenVerifier>, api: Arc<dyn WebexApi>, store: Arc<dyn ConnectionStore>) -> Self {
        Self { auth, api, store }
    }
}

#[async_trait]
impl Handler for WebexLogin {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let state = random_token()?;
        self.store.put_connect_state(PROVIDER, &state, &caller.user_id, unix_now() + STATE_TTL_SECS).await?;
        let mut resp = http::json(StatusCode::OK, &AuthorizeBody { authorize_url: self.api.authorize_url(&state) })?;
        resp.headers_mut().insert(::http::header::CACHE_CONTROL, ::http::HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectBody {
    code: String,
    state: String,
}

/// `POST /webex/token` (user): exchanges the code of the caller's own login and stores the
/// tokens, sealed, with their expiries.
pub struct WebexConnect(Ctx);

impl WebexConnect {
    pub fn new(
        auth: Arc<TokenVerifier>,
        api: Arc<dyn WebexApi>,
        store: Arc<dyn ConnectionStore>,
        cipher: Arc<dyn TokenCipher>,
    ) -> Self {
        Self(Ctx { auth, api, store, cipher })
    }
}

#[async_trait]
impl Handler for WebexConnect {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.0.auth)?;
        let body: ConnectBody = req.json(8192)?;
        if body.code.is_empty() || body.code.len() > 2048 || body.state.len() > 128 {
            return Err(ApiError::unprocessable("invalid_body", "code and state must be the ones Webex returned"));
        }
        self.0.connection(&caller.user_id).connect(&body.state, &body.code).await.map_err(problem)?;
        http::no_content()
    }
}

/// `DELETE /webex/token` (user): forgets the Webex connection (Webex integrations have no
/// revocation endpoint; the user can remove the grant in their Webex settings).
pub struct WebexDisconnect {
    auth: Arc<TokenVerifier>,
    store: Arc<dyn ConnectionStore>,
}

impl WebexDisconnect {
    pub fn new(auth: Arc<TokenVerifier>, store: Arc<dyn ConnectionStore>) -> Self {
        Self { auth, store }
    }
}

#[async_trait]
impl Handler for WebexDisconnect {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        self.store.delete_connection(&caller.user_id, PROVIDER).await?;
        http::no_content()
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
        Self(Ctx { auth, api, store, cipher }, cursors)
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
            .connection(&caller.user_id)
            .with_access(|token| {
                let (from, to, link) = (from.clone(), to.clone(), link.clone());
                async move { api.recordings(&token, from.as_deref(), to.as_deref(), limit.get(), link.as_deref()).await }
            })
            .await
            .map_err(problem)?;
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
        Self { ctx: Ctx { auth, api, store, cipher }, spaces, videos, invoker }
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
            .connection(&caller.user_id)
            .with_access(|token| async move { api.recording(&token, id).await })
            .await
            .map_err(problem)?;
        let now = now_rfc3339();
        let file_name = FileName::try_from(format!("{}.mp4", recording.topic.chars().take(200).collect::<String>()))
            .or_else(|_| FileName::try_from("recording.mp4".to_owned()))
            .map_err(|e| ApiError::internal(e.0))?;
        let video = Video {
            video_id: VideoId::generate(),
            space_id: space_id.clone(),
            title: body.title,
            description: body.description,
            status: VideoStatus::Importing,
            file_name,
            content_type: VideoContentType::try_from("video/mp4".to_owned()).map_err(|e| ApiError::internal(e.0))?,
            size_bytes: recording.size_bytes,
            created_by: caller.user_id.clone(),
            created_at: now.clone(),
            updated_at: now,
            upload_id: None,
            job_id: None,
            percent_complete: None,
            duration_seconds: None,
            failure_reason: None,
            recording_id: Some(recording.recording_id.clone()),
            outputs: Default::default(),
        };
        match self.videos.create_video(&video).await {
            Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("space")),
            other => other?,
        }
        let job = ImportJob {
            video_id: video.video_id.clone(),
            user_id: caller.user_id,
            provider: PROVIDER,
            recording_id: recording.recording_id,
        };
        self.invoker.start(&job).await?;
        let mut resp = http::json(StatusCode::ACCEPTED, &VideoView::new(video, None, None))?;
        let location =
            ::http::HeaderValue::from_str(&format!("/videos/{}", job.video_id)).map_err(ApiError::internal)?;
        resp.headers_mut().insert(::http::header::LOCATION, location);
        Ok(resp)
    }
}
