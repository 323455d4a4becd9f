//! Uploads: a video created with its upload instructions (one presigned PUT, or a multipart
//! upload with a URL per part), resumed, completed or aborted.

use std::{sync::Arc, time::Duration};

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_config::{Config, ConfigError};
use vivid_domain::{
    access::require_manager,
    error::{Guard, StoreError},
    media::{Bucket, MediaStore, UploadedPart},
    quota::{Quotas, utc_day},
    spaces::SpaceStore,
    types::{Description, SpaceId, VideoId, now_rfc3339, rfc3339_at, unix_now},
    video::{
        FileName, MAX_PARTS, StatusChange, Title, TranscodeState, UploadPlan, UploadStore, Video, VideoCatalog,
        VideoContentType, VideoStatus, layout, part_length, upload_plan,
    },
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
};
use vivid_tokens::TokenVerifier;

use super::{VideoView, caller_video, manager_of};

/// Presigned upload URLs live this long.
const UPLOAD_URL_TTL: Duration = Duration::from_secs(3600);

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
    pub auth: Arc<TokenVerifier>,
    /// The caller's role in the space.
    pub spaces: Arc<dyn SpaceStore>,
    /// The video created, counted and charged.
    pub uploads: Arc<dyn UploadStore>,
    /// The raw bucket: the multipart upload and the presigned URLs.
    pub media: Arc<dyn MediaStore>,
    pub limits: UploadLimits,
}

#[async_trait]
impl Handler for CreateVideo {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: NewVideo = req.json(DEFAULT_MAX_BODY)?;
        if body.size_bytes == 0 {
            return Err(ApiError::unprocessable("invalid_size", "sizeBytes must be at least 1"));
        }
        if body.size_bytes > self.limits.max_upload_bytes() {
            return Err(ApiError::UploadTooLarge { limit: self.limits.max_upload_bytes() });
        }
        let manager = require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
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
            visibility: manager.space.new_video_visibility(),
            publish_at: None,
        };
        let (day, _) = utc_day(unix_now());
        if let Err(e) = self.uploads.create_video(&video, &self.limits.quotas, &day).await {
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

/// The detail of 409 `not_multipart`: what a single-PUT upload needs instead.
const NOT_MULTIPART: &str = "this upload is a single PUT, with no parts: PUT the file to the upload URL the video's creation gave; nothing else needs completing";

/// The detail of 409 `not_uploading`.
const NOT_UPLOADING: &str = "the video's upload is over (completed, aborted or failed): GET /videos/{videoId} shows its status; to upload again, create a new video";

/// The video of an upload route, for its space's host or a co-host, while it is still uploading.
async fn uploading(auth: &TokenVerifier, catalog: &dyn VideoCatalog, req: &ApiRequest) -> Result<Video, ApiError> {
    let (_, m) = caller_video(auth, catalog, req).await?;
    manager_of(&m)?;
    if m.video.status != VideoStatus::Uploading {
        return Err(ApiError::conflict("not_uploading", NOT_UPLOADING));
    }
    Ok(m.video)
}

/// `POST /videos/{videoId}/upload/complete` (host, co-host): completes the multipart upload.
pub struct CompleteUpload {
    pub auth: Arc<TokenVerifier>,
    /// The video and the caller's role in its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The raw bucket's multipart upload.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for CompleteUpload {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let body: CompleteBody = req.json(2 * 1024 * 1024)?;
        let video = uploading(&self.auth, self.catalog.as_ref(), req).await?;
        let upload_id = video.upload_id.clone().ok_or_else(|| ApiError::conflict("not_multipart", NOT_MULTIPART))?;
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
    pub auth: Arc<TokenVerifier>,
    /// The video and the caller's role in its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The raw bucket's multipart upload.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for UploadParts {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let body: PartsBody =
            if req.body_bytes().is_empty() { PartsBody { part_numbers: None } } else { req.json(64 * 1024)? };
        let video = uploading(&self.auth, self.catalog.as_ref(), req).await?;
        let upload_id = video.upload_id.clone().ok_or_else(|| ApiError::conflict("not_multipart", NOT_MULTIPART))?;
        let UploadPlan::Multipart { part_size, parts: part_count } = upload_plan(video.size_bytes, 0) else {
            return Err(ApiError::conflict("not_multipart", NOT_MULTIPART));
        };
        let key = layout::raw(&video.video_id);
        let uploaded = match self.media.uploaded_parts(&key, &upload_id).await {
            Err(StoreError::Condition(_)) => {
                return Err(ApiError::conflict(
                    "upload_gone",
                    "the multipart upload no longer exists (aborted or expired): create the video again (POST /spaces/{spaceId}/videos)",
                ));
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
    pub auth: Arc<TokenVerifier>,
    /// The video and the caller's role in its space.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The video's end (`FAILED`).
    pub states: Arc<dyn TranscodeState>,
    /// The raw bucket: the upload aborted, a landed object removed.
    pub media: Arc<dyn MediaStore>,
}

#[async_trait]
impl Handler for AbortUpload {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let video = uploading(&self.auth, self.catalog.as_ref(), req).await?;
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
        if !self.states.transition(&video.video_id, VideoStatus::Failed, &change, &now_rfc3339()).await? {
            return Err(ApiError::conflict("not_uploading", NOT_UPLOADING));
        }
        http::no_content()
    }
}
