//! Videos: upload (presigned PUT or multipart), list, details with signed playback, edit,
//! delete, progress.

use std::{sync::Arc, time::Duration};

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_config::{Config, ConfigError};
use vivid_domain::{
    access::{Denied, Member, require_manager, require_member},
    deletion::{Deletion, DeletionInvoker},
    error::{Guard, StoreError},
    media::{Bucket, MediaStore, UploadedPart},
    playback::{Playback, PlaybackSigner, grant_lifetime},
    quota::{Quotas, utc_day},
    spaces::{SpaceAccess, SpaceStore},
    types::{Description, SpaceId, VideoId, now_rfc3339, rfc3339_at, unix_now},
    video::{
        COMPLETED_RATE, Chapter, FileName, MAX_PARTS, OrderError, Progress, StatusChange, Title, UploadPlan, Video,
        VideoAccess, VideoCatalog, VideoContentType, VideoPatch, VideoStatus, VideoStore, chapters_webvtt, in_order,
        layout, part_length, placements, upload_plan,
    },
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
};
use vivid_tokens::{Caller, TokenVerifier};

/// Presigned upload URLs live this long.
const UPLOAD_URL_TTL: Duration = Duration::from_secs(3600);

/// A member's progress, as clients see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressView {
    pub progress_rate: u8,
    pub position_seconds: f64,
    pub last_access_at: String,
    /// When the member first completed the video; kept when they rewind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        Self {
            progress_rate: p.progress_rate,
            position_seconds: p.position_seconds.get(),
            last_access_at: p.last_access_at,
            completed_at: p.completed_at,
        }
    }
}

/// A video as members see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoView {
    pub video_id: VideoId,
    pub space_id: SpaceId,
    pub title: Title,
    pub description: Description,
    pub status: VideoStatus,
    pub file_name: FileName,
    pub content_type: VideoContentType,
    pub size_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Why it failed: `failureCode` (stable) and `failureReason` (its fixed text), never a
    /// service's own message.
    #[serde(flatten)]
    pub failure: Option<vivid_domain::failure::FailureView>,
    pub created_at: String,
    pub updated_at: String,
    /// The caller's own progress; `null` before they start.
    pub progress: Option<ProgressView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playback: Option<Playback>,
    /// The host's chapters, by start time; also as a WebVTT chapters track (`chaptersVtt`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chapters: Vec<Chapter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chapters_vtt: Option<String>,
    /// The video's place in the host's order (0 first); absent until placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// The automatic transcript's state (spaces with transcription on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<vivid_domain::transcripts::TranscriptView>,
    /// The caption tracks by language (their files are in `playback.captions`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub captions: Vec<vivid_domain::captions::CaptionTrack>,
    /// The source as the transcoder read it (picture size, frame rate, codec), once it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<vivid_domain::transcode::SourceInfo>,
}

impl VideoView {
    pub fn new(v: Video, progress: Option<Progress>, playback: Option<Playback>) -> Self {
        let percent_complete = match v.status {
            VideoStatus::Ready => Some(100),
            _ => v.percent_complete,
        };
        Self {
            video_id: v.video_id,
            space_id: v.space_id,
            title: v.title,
            description: v.description,
            status: v.status,
            file_name: v.file_name,
            content_type: v.content_type,
            size_bytes: v.size_bytes,
            percent_complete,
            duration_seconds: v.duration_seconds,
            failure: v.failure_reason.map(Into::into),
            created_at: v.created_at,
            updated_at: v.updated_at,
            progress: progress.map(ProgressView::from),
            playback,
            chapters_vtt: (!v.chapters.is_empty()).then(|| chapters_webvtt(&v.chapters, v.duration_seconds)),
            chapters: v.chapters,
            position: v.position,
            captions: v.outputs.captions.into_values().collect(),
            transcript: v.transcript.map(Into::into),
            source: v.source,
        }
    }
}

/// The caller's access to a video: the video and their membership of its space.
pub struct VideoMember {
    pub video: Video,
    pub member: Member,
    pub progress: Option<Progress>,
}

impl VideoMember {
    /// The member may take notes on (and study) the video only once it is ready to play: 409
    /// `not_ready` before. The write's own transaction checks it again.
    pub fn ready(self) -> Result<Self, ApiError> {
        if self.video.status == VideoStatus::Ready {
            Ok(self)
        } else {
            Err(ApiError::conflict("not_ready", "the video is not ready yet: notes are taken on ready videos"))
        }
    }
}

/// A video the caller may see: 404 unless they are a member of its space, and for a video
/// being deleted (it is gone for every reader and writer from its deletion on).
pub async fn video_member(
    catalog: &dyn VideoCatalog,
    id: &VideoId,
    user: &vivid_domain::types::UserId,
) -> Result<VideoMember, ApiError> {
    let m = any_video_member(catalog, id, user).await?;
    if m.video.deleting {
        return Err(ApiError::NotFound("video"));
    }
    Ok(m)
}

/// [`video_member`], a video being deleted included (for deleting it again).
async fn any_video_member(
    catalog: &dyn VideoCatalog,
    id: &VideoId,
    user: &vivid_domain::types::UserId,
) -> Result<VideoMember, ApiError> {
    let VideoAccess { video, space, membership, progress } =
        catalog.video_access(id, user).await?.ok_or(ApiError::NotFound("video"))?;
    let member = require_member(space.map(|space| SpaceAccess { space, membership }))
        .map_err(|_| ApiError::NotFound("video"))?;
    Ok(VideoMember { video, member, progress })
}

/// The caller must host or co-host the video's space.
pub(crate) fn manager_of(m: &VideoMember) -> Result<(), ApiError> {
    if m.member.manages() { Ok(()) } else { Err(Denied::ManagersOnly.into()) }
}

pub(crate) struct Ctx {
    auth: Arc<TokenVerifier>,
    spaces: Arc<dyn SpaceStore>,
    pub(crate) videos: Arc<dyn VideoStore>,
}

impl Ctx {
    pub(crate) fn new(auth: Arc<TokenVerifier>, spaces: Arc<dyn SpaceStore>, videos: Arc<dyn VideoStore>) -> Self {
        Self { auth, spaces, videos }
    }

    /// The caller (401 before anything else is looked at).
    pub(crate) fn authenticate(&self, req: &ApiRequest) -> Result<Caller, ApiError> {
        req.caller(&self.auth)
    }

    pub(crate) async fn member(&self, req: &ApiRequest) -> Result<(Caller, VideoMember), ApiError> {
        let caller = req.caller(&self.auth)?;
        let id: VideoId = req.path("videoId")?;
        let m = video_member(self.videos.as_ref(), &id, &caller.user_id).await?;
        Ok((caller, m))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewVideo {
    title: Title,
    #[serde(default)]
    description: Description,
    file_name: FileName,
    content_type: VideoContentType,
    #[serde(deserialize_with = "vivid_domain::types::body::whole")]
    size_bytes: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PartUrl {
    part_number: u32,
    url: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
enum UploadInstructions {
    /// One `PUT` of the whole file to `url`, with these headers.
    #[serde(rename = "single", rename_all = "camelCase")]
    Single { method: &'static str, url: String, headers: serde_json::Value, expires_at: String },
    /// `PUT` each part to its URL, keep each response's `ETag`, then `POST completeUrl`.
    #[serde(rename = "multipart", rename_all = "camelCase")]
    Multipart {
        upload_id: String,
        part_size: u64,
        parts: Vec<PartUrl>,
        complete_url: String,
        /// Lists the parts S3 has and issues fresh URLs (resuming after a reload or past `expiresAt`).
        parts_url: String,
        expires_at: String,
    },
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedVideo {
    #[serde(flatten)]
    video: VideoView,
    upload: UploadInstructions,
}

/// The quotas an upload is counted against, and from which size it is multipart.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub quotas: Quotas,
    pub multipart_threshold: u64,
}

impl UploadLimits {
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            quotas: crate::quotas(cfg)?,
            multipart_threshold: cfg.number("VIVID_MULTIPART_THRESHOLD_BYTES", 100 * 1024 * 1024)?,
        })
    }

    /// The largest video one upload may carry: the upload quota, and never more than a whole
    /// day's transcoding budget.
    pub fn max_upload_bytes(&self) -> u64 {
        self.quotas.upload_bytes.min(self.quotas.daily_transcode_bytes)
    }
}

/// `POST /spaces/{spaceId}/videos` (host, co-host): the video in `UPLOADING` and how to upload it.
pub struct CreateVideo {
    ctx: Ctx,
    media: Arc<dyn MediaStore>,
    limits: UploadLimits,
}

impl CreateVideo {
    pub fn new(
        auth: Arc<TokenVerifier>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        media: Arc<dyn MediaStore>,
        limits: UploadLimits,
    ) -> Self {
        Self { ctx: Ctx::new(auth, spaces, videos), media, limits }
    }
}

#[async_trait]
impl Handler for CreateVideo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.ctx.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: NewVideo = req.json(DEFAULT_MAX_BODY)?;
        if body.size_bytes == 0 {
            return Err(ApiError::unprocessable("invalid_size", "sizeBytes must be at least 1"));
        }
        if body.size_bytes > self.limits.max_upload_bytes() {
            return Err(ApiError::UploadTooLarge { limit: self.limits.max_upload_bytes() });
        }
        require_manager(self.ctx.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let now = now_rfc3339();
        let video_id = VideoId::generate();
        let key = layout::raw(&video_id);
        let plan = upload_plan(body.size_bytes, self.limits.multipart_threshold);
        let upload_id = match plan {
            UploadPlan::Single => None,
            UploadPlan::Multipart { .. } => Some(self.media.create_multipart(&key, body.content_type.as_str()).await?),
        };
        let video = Video {
            video_id: video_id.clone(),
            space_id: space_id.clone(),
            title: body.title,
            description: body.description,
            status: VideoStatus::Uploading,
            file_name: body.file_name,
            content_type: body.content_type,
            size_bytes: body.size_bytes,
            created_by: caller.user_id,
            created_at: now.clone(),
            updated_at: now,
            upload_id: upload_id.clone(),
            job_id: None,
            percent_complete: None,
            duration_seconds: None,
            failure_reason: None,
            recording_id: None,
            chapters: Vec::new(),
            position: None,
            transcript: None,
            source: None,
            deleting: false,
            outputs: Default::default(),
        };
        let (day, _) = utc_day(unix_now());
        if let Err(e) = self.ctx.videos.create_video(&video, &self.limits.quotas, &day).await {
            if let Some(id) = &upload_id {
                self.media.abort_multipart(&key, id).await?;
            }
            return Err(match e {
                StoreError::Condition(Guard::Space) => ApiError::NotFound("space"),
                other => other.into(),
            });
        }
        let expires_at = rfc3339_at(unix_now() + UPLOAD_URL_TTL.as_secs());
        let upload = match (plan, upload_id) {
            (UploadPlan::Multipart { part_size, parts }, Some(upload_id)) => {
                let mut urls = Vec::with_capacity(parts as usize);
                for part in 1..=parts {
                    urls.push(part_url(self.media.as_ref(), &key, &upload_id, body.size_bytes, part_size, part).await?);
                }
                UploadInstructions::Multipart {
                    upload_id,
                    part_size,
                    parts: urls,
                    complete_url: format!("/videos/{video_id}/upload/complete"),
                    parts_url: format!("/videos/{video_id}/upload/parts"),
                    expires_at,
                }
            }
            _ => UploadInstructions::Single {
                method: "PUT",
                url: self
                    .media
                    .presign_put(Bucket::Raw, &key, video.content_type.as_str(), video.size_bytes, UPLOAD_URL_TTL)
                    .await?,
                headers: crate::put_headers(video.content_type.as_str()),
                expires_at,
            },
        };
        http::created(
            &format!("/videos/{video_id}"),
            &CreatedVideo { video: VideoView::new(video, None, None), upload },
        )
    }
}

/// The presigned URL of one part, for exactly that part's length (signed: S3 refuses another).
async fn part_url(
    media: &dyn MediaStore,
    key: &str,
    upload_id: &str,
    size: u64,
    part_size: u64,
    part: u32,
) -> Result<PartUrl, ApiError> {
    let length =
        part_length(size, part_size, part).ok_or_else(|| ApiError::internal("a part past the upload's end"))?;
    Ok(PartUrl { part_number: part, url: media.presign_part(key, upload_id, part, length, UPLOAD_URL_TTL).await? })
}

/// An S3 part ETag as S3 gives it: 1 to 128 visible ASCII characters, optionally quoted.
fn etag_like(e: &str) -> bool {
    let inner = e.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(e);
    !inner.is_empty() && inner.len() <= 128 && inner.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CompletedPartBody {
    #[serde(deserialize_with = "vivid_domain::types::body::whole")]
    part_number: u32,
    etag: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CompleteBody {
    parts: Vec<CompletedPartBody>,
}

/// The video of an upload route, for its space's host or a co-host, while it is still uploading.
async fn uploading(ctx: &Ctx, req: &ApiRequest) -> Result<Video, ApiError> {
    let (_, m) = ctx.member(req).await?;
    manager_of(&m)?;
    if m.video.status != VideoStatus::Uploading {
        return Err(ApiError::conflict("not_uploading", "the video's upload is over"));
    }
    Ok(m.video)
}

/// `POST /videos/{videoId}/upload/complete` (host, co-host): completes the multipart upload.
pub struct CompleteUpload {
    ctx: Ctx,
    media: Arc<dyn MediaStore>,
}

impl CompleteUpload {
    pub fn new(
        auth: Arc<TokenVerifier>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        media: Arc<dyn MediaStore>,
    ) -> Self {
        Self { ctx: Ctx::new(auth, spaces, videos), media }
    }
}

#[async_trait]
impl Handler for CompleteUpload {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let body: CompleteBody = req.json(2 * 1024 * 1024)?;
        let video = uploading(&self.ctx, req).await?;
        let upload_id = video
            .upload_id
            .clone()
            .ok_or_else(|| ApiError::conflict("not_multipart", "this upload is a single PUT"))?;
        // In any order (S3 wants them ascending: sorted here); a part given twice is one part.
        let mut parts: Vec<(u32, String)> = body.parts.into_iter().map(|p| (p.part_number, p.etag)).collect();
        parts.sort();
        parts.dedup();
        let distinct = parts.windows(2).all(|w| w[0].0 < w[1].0);
        if parts.is_empty()
            || !distinct
            || parts.iter().any(|(n, e)| *n == 0 || u64::from(*n) > MAX_PARTS || !etag_like(e))
        {
            return Err(ApiError::unprocessable(
                "invalid_parts",
                "parts must be part numbers from 1 to 10000, each once, with the ETag S3 gave it",
            ));
        }
        match self.media.complete_multipart(&layout::raw(&video.video_id), &upload_id, &parts).await {
            Err(StoreError::Condition(_)) => Err(ApiError::unprocessable(
                "upload_rejected",
                "S3 refused the parts: check part numbers, ETags and sizes",
            )),
            other => {
                other?;
                http::json(StatusCode::OK, &VideoView::new(video, None, None))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PartsBody {
    /// The parts to issue fresh URLs for; absent: every part S3 does not have yet.
    #[serde(default, deserialize_with = "vivid_domain::types::body::some_whole_list")]
    part_numbers: Option<Vec<u32>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UploadedPartView {
    part_number: u32,
    etag: String,
    size: u64,
}

impl From<UploadedPart> for UploadedPartView {
    fn from(p: UploadedPart) -> Self {
        Self { part_number: p.part_number, etag: p.etag, size: p.size }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResumeView {
    upload_id: String,
    part_size: u64,
    part_count: u32,
    uploaded_parts: Vec<UploadedPartView>,
    parts: Vec<PartUrl>,
    complete_url: String,
    expires_at: String,
}

/// The most part URLs one call issues (a page of them; the client asks again for more).
const MAX_PART_URLS: usize = 1000;

/// `POST /videos/{videoId}/upload/parts` (host or co-host, while uploading): the parts S3 already has (with
/// their ETags, for the completion) and fresh URLs for the ones asked for — or for every missing
/// one — so an upload resumes after a reload or after its URLs expired.
pub struct UploadParts {
    ctx: Ctx,
    media: Arc<dyn MediaStore>,
}

impl UploadParts {
    pub fn new(
        auth: Arc<TokenVerifier>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        media: Arc<dyn MediaStore>,
    ) -> Self {
        Self { ctx: Ctx::new(auth, spaces, videos), media }
    }
}

#[async_trait]
impl Handler for UploadParts {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let body: PartsBody =
            if req.body_bytes().is_empty() { PartsBody { part_numbers: None } } else { req.json(64 * 1024)? };
        let video = uploading(&self.ctx, req).await?;
        let upload_id = video
            .upload_id
            .clone()
            .ok_or_else(|| ApiError::conflict("not_multipart", "this upload is a single PUT"))?;
        let UploadPlan::Multipart { part_size, parts: part_count } = upload_plan(video.size_bytes, 0) else {
            return Err(ApiError::conflict("not_multipart", "this upload is a single PUT"));
        };
        let key = layout::raw(&video.video_id);
        let uploaded = match self.media.uploaded_parts(&key, &upload_id).await {
            Err(StoreError::Condition(_)) => {
                return Err(ApiError::conflict("upload_gone", "the multipart upload no longer exists"));
            }
            other => other?,
        };
        let wanted: Vec<u32> = match body.part_numbers {
            Some(numbers) => {
                if numbers.is_empty()
                    || numbers.len() > MAX_PART_URLS
                    || numbers.iter().any(|n| *n == 0 || *n > part_count)
                {
                    return Err(ApiError::unprocessable(
                        "invalid_parts",
                        format!("partNumbers must be 1 to {MAX_PART_URLS} numbers from 1 to {part_count}"),
                    ));
                }
                let mut numbers = numbers;
                numbers.sort_unstable();
                numbers.dedup();
                numbers
            }
            None => {
                (1..=part_count).filter(|n| !uploaded.iter().any(|p| p.part_number == *n)).take(MAX_PART_URLS).collect()
            }
        };
        let mut urls = Vec::with_capacity(wanted.len());
        for part in wanted {
            urls.push(part_url(self.media.as_ref(), &key, &upload_id, video.size_bytes, part_size, part).await?);
        }
        let view = ResumeView {
            upload_id,
            part_size,
            part_count,
            uploaded_parts: uploaded.into_iter().map(UploadedPartView::from).collect(),
            parts: urls,
            complete_url: format!("/videos/{}/upload/complete", video.video_id),
            expires_at: rfc3339_at(unix_now() + UPLOAD_URL_TTL.as_secs()),
        };
        let mut resp = http::json(StatusCode::OK, &view)?;
        resp.headers_mut().insert(::http::header::CACHE_CONTROL, ::http::HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

/// `DELETE /videos/{videoId}/upload` (host, co-host): aborts an unfinished upload; the video is `FAILED`.
pub struct AbortUpload {
    ctx: Ctx,
    media: Arc<dyn MediaStore>,
}

impl AbortUpload {
    pub fn new(
        auth: Arc<TokenVerifier>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        media: Arc<dyn MediaStore>,
    ) -> Self {
        Self { ctx: Ctx::new(auth, spaces, videos), media }
    }
}

#[async_trait]
impl Handler for AbortUpload {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let video = uploading(&self.ctx, req).await?;
        // What the upload left first (the status change forgets the upload id): an abort that
        // fails half-way leaves the video uploading, and aborting again finishes it. A PUT that
        // lands after this is removed by `on-raw-upload` once the video is FAILED.
        if let Some(upload_id) = &video.upload_id {
            self.media.abort_multipart(&layout::raw(&video.video_id), upload_id).await?;
        }
        self.media.delete(Bucket::Raw, &layout::raw(&video.video_id)).await?;
        let change = StatusChange {
            failure_reason: Some(vivid_domain::failure::FailureReason::UploadAborted),
            ..Default::default()
        };
        if !self.ctx.videos.transition(&video.video_id, VideoStatus::Failed, &change, &now_rfc3339()).await? {
            return Err(ApiError::conflict("not_uploading", "the video's upload is over"));
        }
        http::no_content()
    }
}

/// The most videos one order lists.
const MAX_ORDERED: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Order {
    video_ids: Vec<VideoId>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderView {
    /// Every video of the space, in the order members now see them.
    video_ids: Vec<VideoId>,
}

/// `PUT /spaces/{spaceId}/videos/order {videoIds}` (host, co-host): the listed videos come first,
/// in that order; the others follow, newest first.
pub struct OrderVideos(Ctx);

impl OrderVideos {
    pub fn new(auth: Arc<TokenVerifier>, spaces: Arc<dyn SpaceStore>, videos: Arc<dyn VideoStore>) -> Self {
        Self(Ctx::new(auth, spaces, videos))
    }
}

#[async_trait]
impl Handler for OrderVideos {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.0.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: Order = req.json(64 * 1024)?;
        if body.video_ids.len() > MAX_ORDERED {
            let detail = format!("an order lists at most {MAX_ORDERED} videos");
            return Err(ApiError::unprocessable("invalid_order", detail));
        }
        require_manager(self.0.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let mut all = self.0.videos.all_videos(&space_id).await?;
        // A video being deleted is no longer in the space's order.
        all.retain(|v| !v.deleting);
        let moves = placements(&all, &body.video_ids).map_err(|e| match e {
            OrderError::Duplicate(_) => ApiError::unprocessable("invalid_order", e.to_string()),
            // The client's list and the space disagree (a video deleted, or from elsewhere).
            OrderError::Unknown(_) => ApiError::conflict("unknown_video", e.to_string()),
        })?;
        match self.0.videos.place_videos(&space_id, &moves).await {
            // A listed video was deleted meanwhile: nothing of this chunk was applied.
            Err(StoreError::Condition(Guard::Video)) => {
                return Err(ApiError::conflict(
                    "order_changed",
                    "a video of the order is gone: read the list and try again",
                ));
            }
            other => other?,
        }
        let placed: std::collections::HashMap<VideoId, Option<u32>> =
            moves.into_iter().map(|(v, p)| (v.video_id.clone(), p)).collect();
        for v in &mut all {
            if let Some(p) = placed.get(&v.video_id) {
                v.position = *p;
            }
        }
        let video_ids = in_order(all).into_iter().map(|v| v.video_id).collect();
        http::json(StatusCode::OK, &OrderView { video_ids })
    }
}

/// `GET /spaces/{spaceId}/videos` (member): in the host's order (the placed videos first, then
/// the others newest first), with the caller's progress.
pub struct ListVideos(Ctx, Arc<Cursors>);

impl ListVideos {
    pub fn new(
        auth: Arc<TokenVerifier>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        cursors: Arc<Cursors>,
    ) -> Self {
        Self(Ctx::new(auth, spaces, videos), cursors)
    }
}

#[async_trait]
impl Handler for ListVideos {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.0.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let binding = format!("videos|space={space_id}");
        let (limit, start) = self.1.page(req, &binding).await?;
        require_member(self.0.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let page = self.0.videos.list_videos(&space_id, limit, start).await?;
        let ids: Vec<VideoId> = page.items.iter().map(|v| v.video_id.clone()).collect();
        let mut progress: std::collections::HashMap<VideoId, Progress> = self
            .0
            .videos
            .progress_on(&caller.user_id, &ids)
            .await?
            .into_iter()
            .map(|p| (p.video_id.clone(), p))
            .collect();
        let items = page
            .items
            .into_iter()
            .map(|v| {
                let p = progress.remove(&v.video_id);
                VideoView::new(v, p, None)
            })
            .collect();
        http::json(StatusCode::OK, &self.1.list(items, page.next.as_ref(), &binding).await?)
    }
}

/// Where playback grants go besides the body: as HttpOnly cookies for the parent domain of the
/// front end and the media CDN (`VIVID_COOKIE_DOMAIN`, e.g. `example.com` for `app.` and
/// `media.example.com`), so native HLS players fetch segments without a query string. Without a
/// shared parent domain no cookie can reach the CDN and only the signed query works.
#[derive(Debug, Clone, Default)]
pub struct PlaybackCookies {
    pub domain: Option<String>,
}

impl PlaybackCookies {
    pub fn from_config(cfg: &Config) -> Self {
        Self { domain: cfg.optional("VIVID_COOKIE_DOMAIN").map(|d| d.trim().trim_start_matches('.').to_owned()) }
    }

    fn set(&self, resp: Response<Body>, playback: &Playback) -> Result<Response<Body>, ApiError> {
        let Some(domain) = &self.domain else { return Ok(resp) };
        let cookies: Vec<String> = playback
            .cookies
            .iter()
            .map(|(name, value)| {
                http::cookie(
                    name,
                    value,
                    &playback.cookie_path,
                    playback.lifetime_secs,
                    http::SameSite::Lax,
                    Some(domain.as_str()),
                )
            })
            .collect();
        http::with_cookies(resp, &cookies)
    }
}

/// A grant for a ready video, lasting its duration plus a margin.
async fn grant(signer: &dyn PlaybackSigner, video: &Video) -> Result<Playback, ApiError> {
    Ok(signer.sign(&video.video_id, &video.outputs, unix_now(), grant_lifetime(video.duration_seconds)).await?)
}

/// Signed answers are personal and short-lived: no cache keeps them.
fn private(mut resp: Response<Body>) -> Response<Body> {
    resp.headers_mut().insert(::http::header::CACHE_CONTROL, ::http::HeaderValue::from_static("private, no-store"));
    resp
}

/// `GET /videos/{videoId}` (member): details, status, the caller's progress and, once ready,
/// playback URLs signed for this video only.
pub struct GetVideo {
    ctx: Ctx,
    signer: Arc<dyn PlaybackSigner>,
    cookies: PlaybackCookies,
}

impl GetVideo {
    pub fn new(
        auth: Arc<TokenVerifier>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        signer: Arc<dyn PlaybackSigner>,
        cookies: PlaybackCookies,
    ) -> Self {
        Self { ctx: Ctx::new(auth, spaces, videos), signer, cookies }
    }
}

#[async_trait]
impl Handler for GetVideo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let (_, m) = self.ctx.member(req).await?;
        let playback = if m.video.status == VideoStatus::Ready {
            Some(grant(self.signer.as_ref(), &m.video).await?)
        } else {
            None
        };
        let resp = http::json(StatusCode::OK, &VideoView::new(m.video, m.progress, playback.clone()))?;
        let resp = match &playback {
            Some(p) => self.cookies.set(resp, p)?,
            None => resp,
        };
        Ok(private(resp))
    }
}

/// What `GET /videos/{videoId}/playback` answers: the grant alone.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PlaybackView {
    video_id: VideoId,
    #[serde(flatten)]
    playback: Playback,
}

/// `GET /videos/{videoId}/playback` (member): a fresh grant for a ready video, for players to
/// renew before `expiresAt`, after the full membership check (two round trips); nothing else is
/// read or re-signed.
pub struct GetPlayback {
    auth: Arc<TokenVerifier>,
    videos: Arc<dyn VideoStore>,
    signer: Arc<dyn PlaybackSigner>,
    cookies: PlaybackCookies,
}

impl GetPlayback {
    pub fn new(
        auth: Arc<TokenVerifier>,
        videos: Arc<dyn VideoStore>,
        signer: Arc<dyn PlaybackSigner>,
        cookies: PlaybackCookies,
    ) -> Self {
        Self { auth, videos, signer, cookies }
    }
}

#[async_trait]
impl Handler for GetPlayback {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let id: VideoId = req.path("videoId")?;
        // The membership read consistently at every renewal: a removed member gets no grant,
        // whatever of their data the purge has yet to reach.
        let video = video_member(self.videos.as_ref(), &id, &caller.user_id).await?.video;
        if video.status != VideoStatus::Ready {
            return Err(ApiError::conflict("not_ready", "the video is not ready to play yet"));
        }
        let mut playback = grant(self.signer.as_ref(), &video).await?;
        // Renewal is for players: the thumbnails stay with `GET /videos/{videoId}`.
        playback.thumbnails = None;
        let resp = http::json(StatusCode::OK, &PlaybackView { video_id: video.video_id, playback: playback.clone() })?;
        Ok(private(self.cookies.set(resp, &playback)?))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VideoChanges {
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    title: Option<Title>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    description: Option<Description>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    chapters: Option<Vec<Chapter>>,
}

/// `PATCH /videos/{videoId}` (host, co-host): title, description and chapters.
pub struct UpdateVideo(Ctx, Arc<dyn vivid_domain::search::SearchIndex>);

impl UpdateVideo {
    pub fn new(
        auth: Arc<TokenVerifier>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        index: Arc<dyn vivid_domain::search::SearchIndex>,
    ) -> Self {
        Self(Ctx::new(auth, spaces, videos), index)
    }
}

#[async_trait]
impl Handler for UpdateVideo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let changes: VideoChanges = req.json(DEFAULT_MAX_BODY)?;
        if changes.title.is_none() && changes.description.is_none() && changes.chapters.is_none() {
            return Err(ApiError::unprocessable("empty_patch", "give a title, a description, chapters or several"));
        }
        let (_, m) = self.0.member(req).await?;
        manager_of(&m)?;
        let chapters = changes
            .chapters
            .map(|list| vivid_domain::video::chapters(list, m.video.duration_seconds))
            .transpose()
            .map_err(|e| ApiError::unprocessable("invalid_chapters", e.0))?;
        let patch = VideoPatch { title: changes.title, description: changes.description, chapters };
        let video = match self.0.videos.update_video(&m.video.video_id, &patch, &now_rfc3339()).await {
            Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("video")),
            other => other?,
        };
        if video.status == VideoStatus::Ready {
            // The space's search follows the new words (a video not yet READY is indexed then).
            use vivid_domain::search;
            let postings = search::word_postings(
                &video.video_id,
                video.title.as_str(),
                video.description.as_str(),
                &video.chapters,
            );
            self.1.index_video(&video.space_id, &video.video_id, search::Source::Words, &postings).await?;
        }
        http::json(StatusCode::OK, &VideoView::new(video, m.progress, None))
    }
}

/// `DELETE /videos/{videoId}` (host, co-host): marks the video as deleting — gone for every
/// reader and writer from then on, its place in the space freed — and starts the deletion worker,
/// which removes its raw and converted objects and everyone's per-video data; 202. Asked again
/// while the work runs, the same 202 and the worker started again (every step is safe to repeat).
pub struct DeleteVideo {
    ctx: Ctx,
    invoker: Arc<dyn DeletionInvoker>,
}

impl DeleteVideo {
    pub fn new(
        auth: Arc<TokenVerifier>,
        spaces: Arc<dyn SpaceStore>,
        videos: Arc<dyn VideoStore>,
        invoker: Arc<dyn DeletionInvoker>,
    ) -> Self {
        Self { ctx: Ctx::new(auth, spaces, videos), invoker }
    }
}

#[async_trait]
impl Handler for DeleteVideo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = self.ctx.authenticate(req)?;
        let id: VideoId = req.path("videoId")?;
        let m = any_video_member(self.ctx.videos.as_ref(), &id, &caller.user_id).await?;
        manager_of(&m)?;
        match self.ctx.videos.tombstone_video(&m.video).await {
            // Gone since it was read: another deletion finished.
            Err(StoreError::Condition(Guard::Video)) => return Err(ApiError::NotFound("video")),
            other => other?,
        };
        self.invoker.start(&Deletion::Video { video_id: id.clone() }).await?;
        tracing::info!(video_id = %id, "video deletion started");
        crate::deleting("videoId", id.as_str())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProgressBody {
    #[serde(deserialize_with = "vivid_domain::types::body::whole")]
    progress_rate: u8,
    position_seconds: f64,
}

/// `PUT /videos/{videoId}/progress` (member): one conditional write once the member's progress
/// item exists; the first write checks membership and creates it.
pub struct PutProgress(Ctx);

impl PutProgress {
    pub fn new(auth: Arc<TokenVerifier>, spaces: Arc<dyn SpaceStore>, videos: Arc<dyn VideoStore>) -> Self {
        Self(Ctx::new(auth, spaces, videos))
    }
}

#[async_trait]
impl Handler for PutProgress {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.0.auth)?;
        let video_id: VideoId = req.path("videoId")?;
        let body: ProgressBody = req.json(4096)?;
        if body.progress_rate > 100 {
            return Err(ApiError::unprocessable("invalid_progress", "progressRate must be from 0 to 100"));
        }
        let position = crate::seconds("positionSeconds", body.position_seconds)?;
        let now = now_rfc3339();
        let fast = self.0.videos.touch_progress(&video_id, &caller.user_id, body.progress_rate, position, &now).await?;
        if !fast {
            let m = video_member(self.0.videos.as_ref(), &video_id, &caller.user_id).await?.ready()?;
            let progress = Progress {
                video_id,
                user_id: caller.user_id,
                space_id: m.video.space_id,
                progress_rate: body.progress_rate,
                position_seconds: position,
                completed_at: (body.progress_rate >= COMPLETED_RATE).then(|| now.clone()),
                last_access_at: now,
            };
            self.0.videos.put_progress(&progress).await?;
        }
        http::no_content()
    }
}
