//! Importing a platform's recording into a space (Webex, Zoom): the one import route's flow,
//! and starting the import worker — also used by Zoom's automatic import.

use std::sync::Arc;

use ::http::{HeaderValue, StatusCode, header};
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, de::DeserializeOwned};
use vivid_domain::{
    access::require_manager,
    connectors::{ConnectorError, Provider},
    error::{Guard, StoreError},
    imports::{ImportInvoker, ImportJob, JobKind},
    quota::{Quotas, utc_day},
    spaces::SpaceStore,
    types::{Description, SpaceId, UserId, VideoId, now_rfc3339, unix_now},
    video::{FileName, Title, UploadStore, Video, VideoContentType, VideoStatus, Visibility},
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::{connectors::Platform, videos::VideoView};

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

/// `{title, description?}` and the platform's names. Read by hand: serde's `flatten` would let
/// any unknown field through, where every other body refuses one.
struct ImportBody<N> {
    names: N,
    title: Title,
    description: Description,
}

impl<'de, N: DeserializeOwned> Deserialize<'de> for ImportBody<N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let title = fields.remove("title").ok_or_else(|| D::Error::missing_field("title"))?;
        let title = Title::deserialize(title).map_err(D::Error::custom)?;
        let description = match fields.remove("description") {
            Some(v) => Description::deserialize(v).map_err(D::Error::custom)?,
            None => Description::default(),
        };
        // The names refuse unknown fields (`deny_unknown_fields`): what is left must be theirs.
        let names = N::deserialize(serde_json::Value::Object(fields)).map_err(D::Error::custom)?;
        Ok(Self { names, title, description })
    }
}

/// `POST /spaces/{spaceId}/videos/{platform}` (host, co-host): the recording the body names, found with the
/// caller's connection, into the space — the video in `IMPORTING`, the one import worker started.
pub struct ImportFrom<L: Lookup> {
    pub auth: Arc<TokenVerifier>,
    pub lookup: L,
    /// The platform's client with the caller's stored connection.
    pub platform: Platform,
    pub spaces: Arc<dyn SpaceStore>,
    /// Creates the video in `IMPORTING`, counted and charged like an upload.
    pub uploads: Arc<dyn UploadStore>,
    pub importer: Arc<dyn ImportInvoker>,
    /// The import's size and the day's transcoding budget.
    pub quotas: Quotas,
}

#[async_trait]
impl<L: Lookup> Handler for ImportFrom<L> {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: ImportBody<L::Names> = req.json(DEFAULT_MAX_BODY)?;
        self.lookup.check(&body.names).map_err(|detail| ApiError::unprocessable("invalid_body", detail))?;
        let manager = require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
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
            visibility: manager.space.new_video_visibility(),
        };
        accepted(start_import(self.uploads.as_ref(), self.importer.as_ref(), import, &self.quotas).await?)
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
    /// How it starts: the space's default for new videos.
    pub visibility: Visibility,
}

/// Creates the video in `IMPORTING` (counted and charged like an upload; once per recording and
/// space) and starts the import worker without waiting. `NotFound` when the space is gone, 409
/// `already_imported` when the space has the recording, 413 when it is larger than an import
/// may be.
pub async fn start_import(
    uploads: &dyn UploadStore,
    invoker: &dyn ImportInvoker,
    import: NewImport,
    quotas: &Quotas,
) -> Result<Video, ApiError> {
    let most = quotas.import_bytes.min(quotas.daily_transcode_bytes);
    if import.size_bytes > most {
        return Err(ApiError::UploadTooLarge { limit: most });
    }
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
        chapters: Vec::new(),
        position: None,
        transcript: None,
        source: None,
        deleting: false,
        outputs: Default::default(),
        visibility: import.visibility,
        publish_at: None,
    };
    let day = utc_day(unix_now()).0;
    match uploads.create_video(&video, quotas, &day).await {
        Err(StoreError::Condition(Guard::Space)) => return Err(ApiError::NotFound("space")),
        Err(StoreError::Condition(Guard::Recording)) => {
            return Err(ApiError::conflict("already_imported", "the space already holds this recording"));
        }
        other => other?,
    }
    let job = ImportJob {
        video_id: video.video_id.clone(),
        user_id: import.user_id,
        provider: import.provider,
        recording_id: import.recording,
        kind: JobKind::Recording,
    };
    if let Err(e) = invoker.start(&job).await {
        // Nothing will import it: the video goes, uncounted and unlocked, its charge refunded, so
        // that the same import may be asked again.
        uploads.withdraw_video(&video, &day).await?;
        return Err(e.into());
    }
    Ok(video)
}

/// The 202 of an import route: the video in `IMPORTING`, where to follow it.
pub fn accepted(video: Video) -> Result<Response<Body>, ApiError> {
    let location = format!("/videos/{}", video.video_id);
    let mut resp = http::json(StatusCode::ACCEPTED, &VideoView::new(video, None, None))?;
    resp.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).map_err(ApiError::internal)?);
    Ok(resp)
}
