//! Videos: upload (presigned PUT or multipart), list, details with signed playback, edit,
//! delete. What every video route shares is here: the views, and who may see a video. The routes
//! are in [`upload`], [`catalog`] and [`playback`]; a member's progress write is
//! [`crate::progress::PutProgress`].

mod catalog;
mod hls;
mod playback;
mod upload;

pub use catalog::{DeleteVideo, ListVideos, OrderVideos, UpdateVideo};
pub use hls::GetHlsPlaylist;
pub use playback::{GetPlayback, GetVideo, PlaybackCookies};
pub use upload::{AbortUpload, CompleteUpload, CreateVideo, UploadLimits, UploadParts};

use serde::Serialize;

use vivid_domain::{
    access::{Denied, Member, require_member},
    playback::Playback,
    spaces::SpaceAccess,
    types::{Description, SpaceId, VideoId},
    video::{
        Chapter, FileName, Progress, Title, Video, VideoAccess, VideoCatalog, VideoContentType, VideoStatus,
        chapters_webvtt,
    },
};
use vivid_edge::{ApiError, http::ApiRequest};
use vivid_tokens::{Caller, TokenVerifier};

/// A member's progress, as clients see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressView {
    pub progress_rate: u8,
    pub position_seconds: f64,
    /// Watched coverage, 0–100 (absent before the player first reported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_percent: Option<u8>,
    pub last_access_at: String,
    /// When the member first completed the video (watched coverage); kept when they rewind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        Self {
            progress_rate: p.progress_rate,
            position_seconds: p.position_seconds.get(),
            coverage_percent: p.coverage_percent,
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
    /// Who of the space sees it: `published` (everyone), `draft` and `hidden` (its host and
    /// co-hosts), `scheduled` (everyone from `publishAt`).
    pub visibility: vivid_domain::video::Visibility,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_at: Option<String>,
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
            visibility: v.visibility,
            publish_at: v.publish_at.and_then(|at| u64::try_from(at).ok()).map(vivid_domain::types::rfc3339_at),
        }
    }
}

/// The caller's access to a video: the video and their membership of its space.
pub struct VideoMember {
    pub video: Video,
    pub member: Member,
    /// The platform subject the membership came from an LTI course for (its `ltiSub`).
    pub lti_sub: Option<String>,
    pub progress: Option<Progress>,
}

impl VideoMember {
    /// The member may take notes on (and study) the video only once it is ready to play: 409
    /// `not_ready` before. The write's own transaction checks it again.
    pub fn ready(self) -> Result<Self, ApiError> {
        if self.video.status == VideoStatus::Ready {
            Ok(self)
        } else {
            Err(ApiError::conflict(
                "not_ready",
                "the video is not ready yet: notes are taken on ready videos; poll GET /videos/{videoId} until its status is READY",
            ))
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
pub(crate) async fn any_video_member(
    catalog: &dyn VideoCatalog,
    id: &VideoId,
    user: &vivid_domain::types::UserId,
) -> Result<VideoMember, ApiError> {
    let VideoAccess { video, space, membership, lti_sub, progress } =
        catalog.video_access(id, user).await?.ok_or(ApiError::NotFound("video"))?;
    let member = require_member(space.map(|space| SpaceAccess { space, membership }))
        .map_err(|_| ApiError::NotFound("video"))?;
    // A video the students do not see yet (a draft, hidden, or scheduled later) is not there for
    // them, on every route that reaches a video.
    if !member.manages() && !video.shown_to_students() {
        return Err(ApiError::NotFound("video"));
    }
    Ok(VideoMember { video, member, lti_sub, progress })
}

/// The caller must host or co-host the video's space.
pub(crate) fn manager_of(m: &VideoMember) -> Result<(), ApiError> {
    if m.member.manages() { Ok(()) } else { Err(Denied::ManagersOnly.into()) }
}

/// The caller (401 before anything else is looked at) and the video of the path's `videoId`, if
/// they may see it (see [`video_member`]).
pub(crate) async fn caller_video(
    auth: &TokenVerifier,
    catalog: &dyn VideoCatalog,
    req: &ApiRequest,
) -> Result<(Caller, VideoMember), ApiError> {
    let caller = req.caller(auth)?;
    let id: VideoId = req.path("videoId")?;
    let m = video_member(catalog, &id, &caller.user_id).await?;
    Ok((caller, m))
}
