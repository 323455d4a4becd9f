//! What every platform connector route shares (Webex, Zoom): the connect flow usable from a
//! browser, disconnecting, and starting an import. The platform-particular routes (listing its
//! recordings, naming a recording to import) are in `webex.rs` and `zoom.rs`.

use std::sync::Arc;

use ::http::{HeaderValue, StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use vivid_domain::{
    access::require_host,
    connectors::{Connection, ConnectionStore, ConnectorError, OAuthClient, Provider, TokenCipher},
    error::StoreError,
    imports::{ImportInvoker, ImportJob},
    sessions::random_token,
    spaces::SpaceStore,
    types::{Description, SpaceId, UserId, VideoId, now_rfc3339, unix_now},
    video::{FileName, Title, Video, VideoContentType, VideoStatus, VideoStore},
    zoom::AutoImportStore,
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
    problem::connector_problem,
};
use vivid_tokens::TokenVerifier;

use crate::videos::VideoView;

const STATE_TTL_SECS: u64 = 600;

/// A platform's OAuth side with the caller's stored connection.
pub struct Platform {
    pub oauth: Arc<dyn OAuthClient>,
    pub store: Arc<dyn ConnectionStore>,
    pub cipher: Arc<dyn TokenCipher>,
}

impl Platform {
    pub fn provider(&self) -> Provider {
        self.oauth.provider()
    }

    pub fn connection<'a>(&'a self, user: &'a UserId) -> Connection<'a> {
        Connection { store: self.store.as_ref(), cipher: self.cipher.as_ref(), oauth: self.oauth.as_ref(), user }
    }

    pub fn problem(&self, e: ConnectorError) -> ApiError {
        connector_problem(self.provider(), e)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeBody {
    authorize_url: String,
}

/// `GET /{platform}/login` (user): `{authorizeUrl}` — the platform's authorize URL with a state
/// bound to the caller (good once, ten minutes). A browser `fetch`es it with the access token and
/// navigates there; the platform returns to the front end, which posts `{code, state}` to
/// `POST /{platform}/token`.
pub struct ConnectLogin {
    auth: Arc<TokenVerifier>,
    oauth: Arc<dyn OAuthClient>,
    store: Arc<dyn ConnectionStore>,
}

impl ConnectLogin {
    pub fn new(auth: Arc<TokenVerifier>, oauth: Arc<dyn OAuthClient>, store: Arc<dyn ConnectionStore>) -> Self {
        Self { auth, oauth, store }
    }
}

#[async_trait]
impl Handler for ConnectLogin {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let state = random_token()?;
        let provider = self.oauth.provider();
        self.store.put_connect_state(provider, &state, &caller.user_id, unix_now() + STATE_TTL_SECS).await?;
        let mut resp = http::json(StatusCode::OK, &AuthorizeBody { authorize_url: self.oauth.authorize_url(&state) })?;
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectBody {
    code: String,
    state: String,
}

/// `POST /{platform}/token` (user): exchanges the code of the caller's own connect and stores the
/// tokens, sealed, with their expiries.
pub struct Connect {
    auth: Arc<TokenVerifier>,
    platform: Platform,
}

impl Connect {
    pub fn new(auth: Arc<TokenVerifier>, platform: Platform) -> Self {
        Self { auth, platform }
    }
}

#[async_trait]
impl Handler for Connect {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let body: ConnectBody = req.json(8192)?;
        if body.code.is_empty() || body.code.len() > 2048 || body.state.len() > 128 {
            let name = self.platform.provider().title();
            return Err(ApiError::unprocessable(
                "invalid_body",
                format!("code and state must be the ones {name} returned"),
            ));
        }
        self.platform
            .connection(&caller.user_id)
            .connect(&body.state, &body.code)
            .await
            .map_err(|e| self.platform.problem(e))?;
        http::no_content()
    }
}

/// `DELETE /{platform}/token` (user): revokes the tokens where the platform can (best effort) and
/// forgets the connection, with the automatic imports it fed.
pub struct Disconnect {
    auth: Arc<TokenVerifier>,
    provider: Provider,
    store: Arc<dyn ConnectionStore>,
    revoke: Option<Platform>,
    auto_imports: Option<Arc<dyn AutoImportStore>>,
}

impl Disconnect {
    /// Forgets the connection only (Webex has no revocation endpoint).
    pub fn new(auth: Arc<TokenVerifier>, provider: Provider, store: Arc<dyn ConnectionStore>) -> Self {
        Self { auth, provider, store, revoke: None, auto_imports: None }
    }

    /// Revokes the tokens at the platform first, and removes the caller's automatic imports.
    pub fn revoking(mut self, platform: Platform, auto_imports: Arc<dyn AutoImportStore>) -> Self {
        self.revoke = Some(platform);
        self.auto_imports = Some(auto_imports);
        self
    }
}

#[async_trait]
impl Handler for Disconnect {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        if let Some(links) = &self.auto_imports {
            for link in links.auto_imports_by(&caller.user_id).await? {
                links.delete_auto_import(&link.space_id).await?;
            }
        }
        match &self.revoke {
            Some(platform) => {
                platform.connection(&caller.user_id).disconnect().await.map_err(|e| platform.problem(e))?
            }
            None => self.store.delete_connection(&caller.user_id, self.provider).await?,
        }
        http::no_content()
    }
}

/// What an import route learns from the platform about the recording it names.
pub struct Found {
    /// The platform's reference of the recording file (the import worker's `recordingId`).
    pub recording: String,
    pub topic: String,
    pub size_bytes: u64,
}

/// The platform-particular half of an import route: what the body names and how to find it.
#[async_trait]
pub trait Lookup: Send + Sync {
    /// The body's fields besides `title` and `description`.
    type Names: DeserializeOwned + Send + Sync;
    /// A 422 detail when the names cannot be the platform's.
    fn check(&self, names: &Self::Names) -> Result<(), &'static str>;
    /// Finds the recording with the caller's access token.
    async fn find(&self, access_token: &str, names: &Self::Names) -> Result<Found, ConnectorError>;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportBody<N> {
    #[serde(flatten)]
    names: N,
    title: Title,
    #[serde(default)]
    description: Description,
}

/// `POST /spaces/{spaceId}/videos/{platform}` (host): the recording the body names, found with the
/// caller's connection, into the space — the video in `IMPORTING`, the one import worker started.
pub struct ImportFrom<L: Lookup> {
    auth: Arc<TokenVerifier>,
    lookup: L,
    platform: Platform,
    spaces: Arc<dyn SpaceStore>,
    videos: Arc<dyn VideoStore>,
    invoker: Arc<dyn ImportInvoker>,
}

impl<L: Lookup> ImportFrom<L> {
    pub fn new(
        auth: Arc<TokenVerifier>,
        lookup: L,
        platform: Platform,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        invoker: Arc<dyn ImportInvoker>,
    ) -> Self {
        Self { auth, lookup, platform, spaces, videos, invoker }
    }
}

#[async_trait]
impl<L: Lookup> Handler for ImportFrom<L> {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: ImportBody<L::Names> = req.json(DEFAULT_MAX_BODY)?;
        self.lookup.check(&body.names).map_err(|detail| ApiError::unprocessable("invalid_body", detail))?;
        require_host(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let (lookup, names) = (&self.lookup, &body.names);
        let found = self
            .platform
            .connection(&caller.user_id)
            .with_access(|token| async move { lookup.find(&token, names).await })
            .await
            .map_err(|e| self.platform.problem(e))?;
        let import = NewImport {
            space_id,
            user_id: caller.user_id,
            provider: self.platform.provider(),
            recording: found.recording,
            title: body.title,
            description: body.description,
            topic: found.topic,
            size_bytes: found.size_bytes,
        };
        accepted(start_import(self.videos.as_ref(), self.invoker.as_ref(), import).await?)
    }
}

/// A recording to import into a space.
pub struct NewImport {
    pub space_id: SpaceId,
    pub user_id: UserId,
    pub provider: Provider,
    /// The platform's reference of the recording file (the import worker's `recordingId`).
    pub recording: String,
    pub title: Title,
    pub description: Description,
    /// Used for the video's file name.
    pub topic: String,
    pub size_bytes: u64,
}

/// Creates the video in `IMPORTING` and starts the import worker without waiting. `NotFound`
/// when the space is gone.
pub async fn start_import(
    videos: &dyn VideoStore,
    invoker: &dyn ImportInvoker,
    import: NewImport,
) -> Result<Video, ApiError> {
    let now = now_rfc3339();
    let topic: String = import.topic.chars().take(200).collect();
    let file_name = FileName::lossy(&format!("{}.mp4", topic.trim()), "recording.mp4");
    let video = Video {
        video_id: VideoId::generate(),
        space_id: import.space_id,
        title: import.title,
        description: import.description,
        status: VideoStatus::Importing,
        file_name,
        content_type: VideoContentType::try_from("video/mp4".to_owned()).map_err(|e| ApiError::internal(e.0))?,
        size_bytes: import.size_bytes,
        created_by: import.user_id.clone(),
        created_at: now.clone(),
        updated_at: now,
        upload_id: None,
        job_id: None,
        percent_complete: None,
        duration_seconds: None,
        failure_reason: None,
        recording_id: Some(import.recording.clone()),
        outputs: Default::default(),
    };
    match videos.create_video(&video).await {
        Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("space")),
        other => other?,
    }
    let job = ImportJob {
        video_id: video.video_id.clone(),
        user_id: import.user_id,
        provider: import.provider,
        recording_id: import.recording,
    };
    invoker.start(&job).await?;
    Ok(video)
}

/// The 202 of an import route: the video in `IMPORTING`, where to follow it.
pub fn accepted(video: Video) -> Result<Response<Body>, ApiError> {
    let location = format!("/videos/{}", video.video_id);
    let mut resp = http::json(StatusCode::ACCEPTED, &VideoView::new(video, None, None))?;
    resp.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).map_err(ApiError::internal)?);
    Ok(resp)
}
