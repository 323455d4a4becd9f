//! `/webex/*` and `POST /spaces/{spaceId}/videos/webex`: connect a Webex account, list its
//! recordings, import one into a space.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Deserialize;

use crate::{
    access::require_host,
    auth::{TokenVerifier, unix_now},
    cursor::{ListBody, PageKey},
    error::{ApiError, StoreError},
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
    import::{ImportInvoker, ImportJob},
    model::{SpaceStore, VideoStore},
    routes::videos::VideoView,
    runtime::{ConfigError, Deps},
    session::random_token,
    types::{Description, SpaceId, VideoId, now_rfc3339},
    video::{FileName, Title, Video, VideoContentType, VideoStatus},
    webex::{WebexApi, WebexError, WebexStore, fresh_tokens, refresh_and_store},
};

const STATE_TTL_SECS: u64 = 600;

struct Ctx {
    auth: Arc<TokenVerifier>,
    api: Arc<dyn WebexApi>,
    store: Arc<dyn WebexStore>,
}

impl Ctx {
    fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { auth: d.verifier(), api: d.webex()?, store: d.webex_store() })
    }
}

/// `GET /webex/login` (user): 302 to Webex with a state bound to the caller, good once, ten
/// minutes.
pub struct WebexLogin(Ctx);

impl WebexLogin {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self(Ctx::new(d)?))
    }
}

#[async_trait]
impl Handler for WebexLogin {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.0.auth)?;
        let state = random_token()?;
        self.0.store.put_webex_state(&state, &caller.user_id, unix_now() + STATE_TTL_SECS).await?;
        http::redirect(&self.0.api.authorize_url(&state))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectBody {
    code: String,
    state: String,
}

/// `POST /webex/token` (user): exchanges the code of the caller's own login and stores the
/// tokens with their expiries.
pub struct WebexConnect(Ctx);

impl WebexConnect {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self(Ctx::new(d)?))
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
        if !self.0.store.take_webex_state(&body.state, &caller.user_id, unix_now()).await? {
            return Err(ApiError::bad_request(
                "invalid_state",
                "the Webex state is unknown, expired, used or not yours",
            ));
        }
        let tokens = self.0.api.exchange_code(&body.code).await?;
        self.0.store.put_webex_tokens(&caller.user_id, &tokens).await?;
        http::no_content()
    }
}

/// `DELETE /webex/token` (user): forgets the Webex connection.
pub struct WebexDisconnect(Ctx);

impl WebexDisconnect {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self(Ctx::new(d)?))
    }
}

#[async_trait]
impl Handler for WebexDisconnect {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.0.auth)?;
        self.0.store.delete_webex_tokens(&caller.user_id).await?;
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
pub struct ListRecordings(Ctx);

impl ListRecordings {
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self(Ctx::new(d)?))
    }
}

#[async_trait]
impl Handler for ListRecordings {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.0.auth)?;
        let from = rfc3339_param(req, "from")?;
        let to = rfc3339_param(req, "to")?;
        let binding = format!("webex-recordings|user={}|from={from:?}|to={to:?}", caller.user_id);
        let (limit, start) = req.page(&binding)?;
        let link = start.as_ref().and_then(|k| k.get("next")).cloned();
        let tokens = fresh_tokens(self.0.api.as_ref(), self.0.store.as_ref(), &caller.user_id).await?;
        let list = |token: String| {
            let (api, from, to, link) = (Arc::clone(&self.0.api), from.clone(), to.clone(), link.clone());
            async move { api.recordings(&token, from.as_deref(), to.as_deref(), limit.get(), link.as_deref()).await }
        };
        let page = match list(tokens.access_token.clone()).await {
            // Revoked or expired earlier than it said: one refresh, one retry.
            Err(WebexError::Unauthorized) => {
                let fresh =
                    refresh_and_store(self.0.api.as_ref(), self.0.store.as_ref(), &caller.user_id, &tokens).await?;
                list(fresh.access_token).await?
            }
            other => other?,
        };
        let next: Option<PageKey> = page.next.map(|n| [("next".to_owned(), n)].into());
        http::json(StatusCode::OK, &ListBody::new(page.items, next.as_ref(), &binding))
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
    pub fn new(d: &Deps) -> Result<Self, ConfigError> {
        Ok(Self { ctx: Ctx::new(d)?, spaces: d.spaces(), videos: d.videos(), invoker: d.invoker()? })
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
        let tokens = fresh_tokens(self.ctx.api.as_ref(), self.ctx.store.as_ref(), &caller.user_id).await?;
        let (recording, _) = match self.ctx.api.recording(&tokens.access_token, &body.recording_id).await {
            Err(WebexError::Unauthorized) => {
                let fresh =
                    refresh_and_store(self.ctx.api.as_ref(), self.ctx.store.as_ref(), &caller.user_id, &tokens).await?;
                self.ctx.api.recording(&fresh.access_token, &body.recording_id).await?
            }
            other => other?,
        };
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
