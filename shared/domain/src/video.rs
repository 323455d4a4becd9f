//! Videos: the entity, its lifecycle, the upload plan, and the layout of its media objects.

use serde::{Deserialize, Serialize};

use async_trait::async_trait;

use crate::{
    error::StoreError,
    page::{Page, PageKey},
    quota::Quotas,
    spaces::{Membership, Space},
    types::{BookmarkId, Description, Invalid, Limit, Seconds, SnapshotId, SpaceId, UserId, VideoId},
};

/// Where a video is in its life. Transitions only move forward (see [`VideoStatus::rank`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VideoStatus {
    Uploading,
    Importing,
    Uploaded,
    Transcoding,
    Ready,
    Failed,
}

impl VideoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "UPLOADING",
            Self::Importing => "IMPORTING",
            Self::Uploaded => "UPLOADED",
            Self::Transcoding => "TRANSCODING",
            Self::Ready => "READY",
            Self::Failed => "FAILED",
        }
    }

    /// The statuses a video may move to `self` from.
    pub fn predecessors(self) -> &'static [VideoStatus] {
        use VideoStatus::*;
        match self {
            Uploading | Importing => &[],
            Uploaded => &[Uploading, Importing],
            Transcoding => &[Uploaded],
            // A job's end can be reported before we recorded its start.
            Ready => &[Uploaded, Transcoding],
            Failed => &[Uploading, Importing, Uploaded, Transcoding],
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Ready | Self::Failed)
    }

    /// Still waiting for its bytes (an upload or an import).
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Uploading | Self::Importing)
    }
}

macro_rules! text {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// From text of another system (a meeting's topic): control characters dropped, cut
            /// to the length allowed, `fallback` when nothing is left.
            pub fn lossy(s: &str, fallback: &str) -> Self {
                let kept: String = s.chars().filter(|&c| !crate::types::forbidden_char(c, false)).collect();
                let cut: String = kept.trim().chars().take($max).collect();
                let cut = cut.trim();
                Self(if cut.is_empty() { fallback.to_owned() } else { cut.to_owned() })
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                // The length as sent (what a client's `maxLength` counts), the content trimmed.
                let t = s.trim();
                if t.is_empty() || s.chars().count() > $max {
                    return Err(Invalid(format!(concat!($what, " must have 1 to {} characters, not all blank"), $max)));
                }
                if !crate::types::clean_text(t, false) {
                    return Err(Invalid(concat!($what, " must not contain control or bidirectional-override characters").to_owned()));
                }
                Ok(Self(t.to_owned()))
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

text!(
    /// A video's title.
    Title,
    "title",
    200
);
text!(
    /// A bookmark's label: what the moment is, in the member's words.
    BookmarkLabel,
    "label",
    200
);
text!(
    /// The name of the uploaded file, as the person chose it (kept for display and download).
    FileName,
    "fileName",
    255
);

/// A `video/*` media type, lower case, without parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VideoContentType(String);

impl VideoContentType {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VideoContentType {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        // As browsers give a file's type: `video/` and a lower-case subtype, nothing around it.
        let ok = s.strip_prefix("video/").is_some_and(|sub| {
            (1..=64).contains(&sub.len())
                && sub.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
        });
        if ok { Ok(Self(s)) } else { Err(Invalid("contentType must be video/ and a lower-case subtype".to_owned())) }
    }
}

impl From<VideoContentType> for String {
    fn from(v: VideoContentType) -> String {
        v.0
    }
}

/// An image media type for snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageContentType(String);

impl ImageContentType {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ImageContentType {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        let t = s.trim().to_ascii_lowercase();
        if ["image/png", "image/jpeg", "image/webp"].contains(&t.as_str()) {
            Ok(Self(t))
        } else {
            Err(Invalid("contentType must be image/png, image/jpeg or image/webp".to_owned()))
        }
    }
}

impl From<ImageContentType> for String {
    fn from(v: ImageContentType) -> String {
        v.0
    }
}

/// Where the media of a video landed, as `on-converted-output` and `on-transcode-event` record it
/// (keys in the media bucket). Thumbnails are numbered frames (`thumb.0000000.jpg`, one every
/// [`crate::transcode::THUMBNAIL_INTERVAL_SECS`]): the item keeps how many have landed, never
/// their keys, so a ten-hour video's item stays as small as a minute's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaOutputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hls_master: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mp4: Option<String>,
    /// One more than the highest thumbnail index that has landed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_count: Option<u32>,
    /// The WebVTT storyboard (seek previews in sprite sheets), written when the job completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storyboard: Option<String>,
    /// The caption tracks, by language.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub captions: std::collections::BTreeMap<crate::captions::Lang, crate::captions::CaptionTrack>,
    /// Raised by every change of the tracks: the captioned master of the latest change wins.
    #[serde(default)]
    pub captions_version: u32,
    /// The transcoder's master with the tracks as subtitles renditions (what players load when
    /// there are captions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captioned_master: Option<String>,
}

impl MediaOutputs {
    /// The first thumbnail, once it landed.
    pub fn poster(&self, video: &VideoId) -> Option<String> {
        self.thumbnail_count.filter(|n| *n > 0).map(|_| layout::thumbnail(video, 0))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Video {
    pub video_id: VideoId,
    pub space_id: SpaceId,
    pub title: Title,
    pub description: Description,
    pub status: VideoStatus,
    pub file_name: FileName,
    pub content_type: VideoContentType,
    pub size_bytes: u64,
    pub created_by: UserId,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Why it failed: a code of a closed set (see [`crate::failure`]), never a service's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<crate::failure::FailureReason>,
    /// The Webex recording this video is imported from (issue 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<String>,
    /// The host's chapters, by start time (see [`Chapter`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chapters: Vec<Chapter>,
    /// The video's place in the host's order of the space's lectures (0 first); `None` until
    /// placed, or after an order that leaves it out (see [`placements`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// The automatic transcript, once one was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<crate::transcripts::TranscriptState>,
    /// The source as the transcoder read it, once it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::transcode::SourceInfo>,
    /// Set when a delete has begun ([`VideoStore::tombstone_video`]): the video is gone for every
    /// reader and writer from then on, no longer counted in its space, and the deletion worker
    /// removes what is left of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleting: bool,
    #[serde(flatten)]
    pub outputs: MediaOutputs,
}

/// Why an order of lectures cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("video {0} is listed twice")]
    Duplicate(VideoId),
    #[error("video {0} is not a video of this space")]
    Unknown(VideoId),
}

/// What ordering a space's lectures as `order` changes: the videos of `all` (every video of the
/// space) whose place moves, with their new position — the listed ones take 0, 1, 2… in that
/// order, every other one goes back among the unplaced (`None`), which follow the placed ones,
/// newest first.
pub fn placements<'a>(all: &'a [Video], order: &[VideoId]) -> Result<Vec<(&'a Video, Option<u32>)>, OrderError> {
    let mut wanted = std::collections::HashMap::with_capacity(order.len());
    for (i, id) in order.iter().enumerate() {
        let position = u32::try_from(i).map_err(|_| OrderError::Unknown(id.clone()))?;
        if wanted.insert(id, position).is_some() {
            return Err(OrderError::Duplicate(id.clone()));
        }
    }
    if let Some(unknown) = order.iter().find(|id| !all.iter().any(|v| &v.video_id == *id)) {
        return Err(OrderError::Unknown(unknown.clone()));
    }
    Ok(all
        .iter()
        .filter_map(|v| {
            let position = wanted.get(&v.video_id).copied();
            (position != v.position).then_some((v, position))
        })
        .collect())
}

/// A space's videos in the order a member sees them: the placed ones by position, then the
/// others newest first.
pub fn in_order(mut videos: Vec<Video>) -> Vec<Video> {
    videos.sort_by(|a, b| match (a.position, b.position) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => (&b.created_at, &b.video_id).cmp(&(&a.created_at, &a.video_id)),
    });
    videos
}

/// A chapter of a video: where it starts and what it is called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Chapter {
    pub start_seconds: Seconds,
    pub title: Title,
}

/// The most chapters a video has.
pub const MAX_CHAPTERS: usize = 200;

/// A video's chapters as the host sends them: at most [`MAX_CHAPTERS`], each starting at its
/// own time, within the video when its duration is known. Sorted by start.
pub fn chapters(mut list: Vec<Chapter>, duration_seconds: Option<f64>) -> Result<Vec<Chapter>, Invalid> {
    if list.len() > MAX_CHAPTERS {
        return Err(Invalid(format!("at most {MAX_CHAPTERS} chapters")));
    }
    list.sort_by(|a, b| a.start_seconds.get().total_cmp(&b.start_seconds.get()));
    if list.windows(2).any(|w| w[0].start_seconds == w[1].start_seconds) {
        return Err(Invalid("two chapters start at the same time".to_owned()));
    }
    if let (Some(d), Some(last)) = (duration_seconds, list.last())
        && last.start_seconds.get() >= d
    {
        return Err(Invalid(format!("a chapter starts at or after the video's end ({d} s)")));
    }
    Ok(list)
}

/// The chapters as a WebVTT chapters track (`<track kind="chapters">`): each cue runs to the
/// next chapter's start, the last one to the video's end (or a day, when it is not known).
pub fn chapters_webvtt(list: &[Chapter], duration_seconds: Option<f64>) -> String {
    fn stamp(t: f64) -> String {
        let ms = (t * 1000.0).round() as u64;
        format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }
    let mut out = String::from("WEBVTT\n");
    for (i, c) in list.iter().enumerate() {
        let end = list.get(i + 1).map(|n| n.start_seconds.get()).or(duration_seconds).unwrap_or(Seconds::MAX);
        out.push_str(&format!(
            "\n{}\n{} --> {}\n{}\n",
            i + 1,
            stamp(c.start_seconds.get()),
            stamp(end),
            c.title.as_str()
        ));
    }
    out
}

/// One member's progress on one video. Its existence is also the member's grant for the cheap
/// progress write (see `docs/data-model.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub video_id: VideoId,
    pub user_id: UserId,
    pub space_id: SpaceId,
    pub progress_rate: u8,
    pub position_seconds: Seconds,
    pub last_access_at: String,
    /// When the member first reached [`COMPLETED_RATE`]: kept however far they rewind later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

/// The progress rate at which a video counts as completed (sticky: see [`Progress::completed_at`]).
pub const COMPLETED_RATE: u8 = 100;

/// A captured frame of a video, private to its author.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub snapshot_id: SnapshotId,
    pub video_id: VideoId,
    pub user_id: UserId,
    pub space_id: SpaceId,
    pub video_seconds: Seconds,
    pub content_type: ImageContentType,
    /// In the user-content bucket.
    pub object_key: String,
    pub created_at: String,
    /// The image's declared size (signed into its upload URL), charged to the author's storage;
    /// 0 for a snapshot taken before the storage quota (it was never charged).
    #[serde(default)]
    pub size_bytes: u64,
}

/// A named moment of a video, private to the member who set it. Removed with the member's
/// other per-video data (it carries their GSI2 keys) and with the video.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bookmark {
    pub bookmark_id: BookmarkId,
    pub video_id: VideoId,
    pub user_id: UserId,
    pub space_id: SpaceId,
    pub video_seconds: Seconds,
    pub label: BookmarkLabel,
    pub created_at: String,
}

/// Where a member's bookmarks are kept.
#[async_trait]
pub trait BookmarkStore: Send + Sync {
    /// Stores a bookmark and counts it: `Condition(Quota)` past `limit` of the member's on the
    /// video.
    async fn put_bookmark(&self, bookmark: &Bookmark, limit: u64) -> Result<(), StoreError>;
    /// The member's bookmarks of a video, oldest first.
    async fn bookmarks(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Bookmark>, StoreError>;
    /// Deletes a bookmark and its count; `false` when there was none.
    async fn delete_bookmark(&self, video: &VideoId, user: &UserId, id: &BookmarkId) -> Result<bool, StoreError>;
}

/// What a status change writes besides the status.
#[derive(Debug, Clone, Default)]
pub struct StatusChange {
    pub job_id: Option<String>,
    pub percent_complete: Option<u8>,
    pub duration_seconds: Option<f64>,
    pub failure_reason: Option<crate::failure::FailureReason>,
    pub hls_master: Option<String>,
    pub mp4: Option<String>,
    pub storyboard: Option<String>,
    /// How many thumbnails the job wrote (from its last frame capture's name).
    pub thumbnail_count: Option<u32>,
    /// Only apply when the video's job is this one (or none is recorded yet).
    pub only_for_job: Option<String>,
}

/// Object keys of a video's media.
pub mod layout {
    use crate::types::VideoId;

    pub const RAW_PREFIX: &str = "raw/";
    pub const MEDIA_PREFIX: &str = "media/";

    pub fn raw(video: &VideoId) -> String {
        format!("{RAW_PREFIX}{video}")
    }
    /// Every converted object of a video lies under this prefix (also the playback scope).
    pub fn media_prefix(video: &VideoId) -> String {
        format!("{MEDIA_PREFIX}{video}/")
    }
    /// The HLS master playlist MediaConvert writes (`index.m3u8` for destination `hls/index`).
    pub fn hls_destination(video: &VideoId) -> String {
        format!("{MEDIA_PREFIX}{video}/hls/index")
    }
    pub fn mp4_destination(video: &VideoId) -> String {
        format!("{MEDIA_PREFIX}{video}/mp4/video")
    }
    pub fn thumbnails_destination(video: &VideoId) -> String {
        format!("{MEDIA_PREFIX}{video}/thumbnails/thumb")
    }
    /// Where a video's transcription job writes its result (Transcribe's format).
    pub fn transcript_result(video: &VideoId) -> String {
        format!("{MEDIA_PREFIX}{video}/transcript/transcribe.json")
    }
    /// The video's word-timed transcript (what transcript searches read).
    pub fn transcript_words(video: &VideoId) -> String {
        format!("{MEDIA_PREFIX}{video}/transcript/words.json")
    }
    /// A caption track's WebVTT file.
    pub fn caption(video: &VideoId, lang: &crate::captions::Lang) -> String {
        format!("{MEDIA_PREFIX}{video}/captions/{lang}.vtt")
    }
    /// A caption track's HLS media playlist (beside its file).
    pub fn caption_playlist(video: &VideoId, lang: &crate::captions::Lang) -> String {
        format!("{MEDIA_PREFIX}{video}/captions/{lang}.m3u8")
    }
    /// The captioned master of one captions version, beside the transcoder's master.
    pub fn captioned_master(video: &VideoId, version: u32) -> String {
        format!("{MEDIA_PREFIX}{video}/hls/captioned-{version}.m3u8")
    }
    /// The key of the thumbnail numbered `index` (MediaConvert's frame-capture naming).
    pub fn thumbnail(video: &VideoId, index: u32) -> String {
        format!("{MEDIA_PREFIX}{video}/thumbnails/thumb.{index:07}.jpg")
    }
    /// A thumbnail key with `{index}` where the seven-digit number goes.
    pub fn thumbnail_template(video: &VideoId) -> String {
        format!("{MEDIA_PREFIX}{video}/thumbnails/thumb.{{index}}.jpg")
    }
    pub fn snapshots_prefix(video: &VideoId) -> String {
        format!("snapshots/{video}/")
    }
    pub fn snapshot(video: &VideoId, user: &crate::types::UserId, snapshot: &crate::types::SnapshotId) -> String {
        format!("snapshots/{video}/{user}/{snapshot}")
    }

    /// What a converted object is, from its key.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum MediaKind {
        HlsMaster,
        HlsOther,
        Mp4,
        /// A numbered thumbnail.
        Thumbnail(u32),
        Other,
    }

    /// The video and kind of a media-bucket key (`None` outside `media/{videoId}/`).
    pub fn classify(key: &str) -> Option<(VideoId, MediaKind)> {
        let rest = key.strip_prefix(MEDIA_PREFIX)?;
        let (id, path) = rest.split_once('/')?;
        let video: VideoId = id.parse().ok()?;
        let kind = match path.split_once('/') {
            Some(("hls", "index.m3u8")) => MediaKind::HlsMaster,
            Some(("hls", _)) => MediaKind::HlsOther,
            Some(("mp4", f)) if f.ends_with(".mp4") => MediaKind::Mp4,
            Some(("thumbnails", f)) => match f.strip_prefix("thumb.").and_then(|f| f.strip_suffix(".jpg")) {
                Some(n) if n.len() == 7 && n.bytes().all(|b| b.is_ascii_digit()) => {
                    n.parse().map_or(MediaKind::Other, MediaKind::Thumbnail)
                }
                _ => MediaKind::Other,
            },
            _ => MediaKind::Other,
        };
        Some((video, kind))
    }
}

/// How the browser uploads: one presigned PUT, or a multipart upload with a URL per part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadPlan {
    Single,
    Multipart { part_size: u64, parts: u32 },
}

pub const MIB: u64 = 1024 * 1024;
/// S3's smallest part (but the last) is 5 MiB; we use 8 MiB or more.
pub const MIN_PART: u64 = 8 * MIB;
/// S3's largest number of parts.
pub const MAX_PARTS: u64 = 10_000;

/// The upload plan for a file of `size` bytes: one PUT up to `threshold`, else parts of at least
/// 8 MiB (whole MiB), few enough for S3's 10 000-part limit.
pub fn upload_plan(size: u64, threshold: u64) -> UploadPlan {
    if size <= threshold {
        return UploadPlan::Single;
    }
    let by_count = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    let part_size = by_count.max(MIN_PART);
    let parts = u32::try_from(size.div_ceil(part_size)).unwrap_or(u32::MAX);
    UploadPlan::Multipart { part_size, parts }
}

/// The exact length of part `part` (from 1) of a `size`-byte upload in parts of `part_size`: the
/// part size, the last part what is left; `None` for a part the upload does not have. Signed into
/// each part's URL, so S3 refuses a part of any other length.
pub fn part_length(size: u64, part_size: u64, part: u32) -> Option<u64> {
    let start = u64::from(part).checked_sub(1)?.checked_mul(part_size)?;
    (part_size > 0 && start < size).then(|| part_size.min(size - start))
}

/// A video as one caller sees it.
#[derive(Debug, Clone)]
pub struct VideoAccess {
    pub video: Video,
    /// The video's space (`None` when it is gone).
    pub space: Option<Space>,
    pub membership: Option<Membership>,
    pub progress: Option<Progress>,
}

/// Changes to a video's descriptive fields.
#[derive(Debug, Clone, Default)]
pub struct VideoPatch {
    pub title: Option<Title>,
    pub description: Option<Description>,
    /// The whole list, replacing the previous one (empty: none).
    pub chapters: Option<Vec<Chapter>>,
}

#[async_trait]
pub trait VideoStore: Send + Sync {
    /// Puts the video, counts it in its space and charges its size to its creator's transcoding
    /// budget of the day, atomically: `Condition(Space)` when the space is gone,
    /// `Condition(Quota)` when the space is full or the budget would be passed.
    async fn create_video(&self, video: &Video, quotas: &Quotas, day: &str) -> Result<(), StoreError>;
    async fn get_video(&self, id: &VideoId) -> Result<Option<Video>, StoreError>;
    /// The videos of these ids that exist (eventually consistent; one batch a hundred).
    async fn videos_by_id(&self, ids: &[VideoId]) -> Result<Vec<Video>, StoreError>;
    /// The video, its space, the caller's membership of it and their progress: two round trips.
    async fn video_access(&self, id: &VideoId, user: &UserId) -> Result<Option<VideoAccess>, StoreError>;
    /// A space's videos, newest first.
    async fn list_videos(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Video>, StoreError>;
    /// Every video of a space (for deleting it).
    async fn all_videos(&self, space: &SpaceId) -> Result<Vec<Video>, StoreError>;
    /// A user's progress on some videos (missing ones are left out).
    async fn progress_on(&self, user: &UserId, videos: &[VideoId]) -> Result<Vec<Progress>, StoreError>;
    async fn update_video(&self, id: &VideoId, patch: &VideoPatch, now: &str) -> Result<Video, StoreError>;
    /// Moves the video to `to` if its status is one of `to`'s predecessors, with the change's
    /// fields; `Ok(false)` when the status did not allow it (a duplicate, late or foreign event).
    async fn transition(
        &self,
        id: &VideoId,
        to: VideoStatus,
        change: &StatusChange,
        now: &str,
    ) -> Result<bool, StoreError>;
    /// Raises `percentComplete` while the video transcodes; never lowers it.
    async fn raise_percent(&self, id: &VideoId, percent: u8) -> Result<bool, StoreError>;
    /// Records what the transcoder read of the source, while `job` is the video's job (or none is
    /// recorded yet); `Ok(false)` when the video is gone or has another job.
    async fn record_source(
        &self,
        id: &VideoId,
        job: &str,
        source: &crate::transcode::SourceInfo,
    ) -> Result<bool, StoreError>;
    /// Adds or replaces a caption track (at most [`crate::captions::MAX_TRACKS`] languages) and
    /// raises the captions version; the video as it now is. `Condition(Video)` when the video is
    /// gone, `Condition(Item)` when it has the most tracks already.
    async fn put_caption(&self, id: &VideoId, track: &crate::captions::CaptionTrack) -> Result<Video, StoreError>;
    /// Removes a caption track and raises the captions version; `None` when there was none.
    async fn remove_caption(&self, id: &VideoId, lang: &crate::captions::Lang) -> Result<Option<Video>, StoreError>;
    /// Records the captioned master (or none) made for the captions version `version`, only while
    /// that version is current; `Ok(false)` when a later change came first.
    async fn set_captioned_master(&self, id: &VideoId, version: u32, key: Option<&str>) -> Result<bool, StoreError>;
    /// Records the video's transcript state: with `first`, only when none is recorded yet
    /// (`Ok(false)` otherwise); `Ok(false)` also when the video is gone.
    async fn set_transcript(
        &self,
        id: &VideoId,
        state: &crate::transcripts::TranscriptState,
        first: bool,
    ) -> Result<bool, StoreError>;
    /// Records a converted object (a thumbnail raises the count of those landed); `Ok(false)`
    /// when the video is gone (the object is an orphan).
    async fn record_output(&self, id: &VideoId, kind: &layout::MediaKind, key: &str) -> Result<bool, StoreError>;
    /// Marks a video as deleting and takes it out of its space's count, atomically (a video
    /// already deleting is left as it is: `Ok(false)`); `Condition(Video)` when there is no video.
    /// From then on every read treats it as gone and every write to it is refused.
    async fn tombstone_video(&self, video: &Video) -> Result<bool, StoreError>;
    /// Deletes the video, everyone's per-video data and its count in the space (unless a
    /// tombstone took it out already); returns the user-content object keys those items pointed
    /// at. The video item goes last: a deletion that fails half-way leaves it, to be deleted again.
    async fn delete_video(&self, video: &Video) -> Result<Vec<String>, StoreError>;
    /// Undoes [`VideoStore::create_video`] for a video nothing happened to yet (its import could
    /// not be started): the item, its count in the space, its recording's lock and its charge to
    /// its creator's transcoding budget of `day` (the day it was created), atomically. Safe to
    /// repeat.
    async fn withdraw_video(&self, video: &Video, day: &str) -> Result<(), StoreError> {
        let _ = day;
        self.delete_video(video).await.map(|_| ())
    }
    /// Turns an upload that never finished into a deletion, atomically: the video marked as
    /// deleting (as [`VideoStore::tombstone_video`] marks it: gone for readers from then on), out
    /// of its space's count, and its charge refunded to its creator's transcoding budget of `day`
    /// (the day it was created) — only while it is still `UPLOADING` and unmarked; `Ok(false)`
    /// otherwise (an upload that completed meanwhile, a deletion begun, a video gone). The
    /// deletion worker removes the rest, as for any marked video.
    async fn abandon_upload(&self, video: &Video, day: &str) -> Result<bool, StoreError>;
    /// The cheap progress write: only when the caller's grant exists (`Ok(false)` otherwise).
    /// Progress writes keep the member's [`Standing`](crate::spaces::Standing) in step.
    async fn touch_progress(
        &self,
        video: &VideoId,
        user: &UserId,
        rate: u8,
        position: Seconds,
        now: &str,
    ) -> Result<bool, StoreError>;
    /// Writes the whole progress item (and so the grant).
    async fn put_progress(&self, progress: &Progress) -> Result<(), StoreError>;
    /// Moves videos of a space to new places in its order (see [`placements`]), in transactions
    /// of up to 100: `Condition(Video)` when one of them is gone or no longer in the space.
    async fn place_videos(&self, space: &SpaceId, moves: &[(&Video, Option<u32>)]) -> Result<(), StoreError>;
    /// The progress of each of `users` on one video (those who have none are left out).
    async fn progress_by(&self, video: &VideoId, users: &[UserId]) -> Result<Vec<Progress>, StoreError>;
    /// The user's progress items, most recently accessed first.
    async fn recent_progress(&self, user: &UserId, limit: Limit) -> Result<Vec<Progress>, StoreError>;
    /// How many videos the user completed (progress 100).
    async fn completed_count(&self, user: &UserId) -> Result<u32, StoreError>;
    /// Stores a snapshot, counts it and charges its size to the author's storage:
    /// `Condition(Quota)` past `limits.per_video` of the author's on the video or past their
    /// `limits.storage_bytes`.
    async fn put_snapshot(&self, snapshot: &Snapshot, limits: crate::quota::Limits) -> Result<(), StoreError>;
    async fn snapshots(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Snapshot>, StoreError>;
    /// Deletes a snapshot item with its count and the bytes charged for it; returns it (`None`
    /// when there was none).
    async fn delete_snapshot(
        &self,
        video: &VideoId,
        user: &UserId,
        id: &SnapshotId,
    ) -> Result<Option<Snapshot>, StoreError>;
    async fn videos(&self, ids: &[VideoId]) -> Result<Vec<Video>, StoreError>;
    /// Videos still uploading or importing that were created before `before` (RFC 3339), oldest
    /// first, at most `limit`.
    async fn pending_before(&self, before: &str, limit: Limit) -> Result<Vec<VideoId>, StoreError>;
    /// Claims an `IMPORTING` video for one import run (a claim older than 15 minutes, from a run
    /// that died, may be taken over); `false` when another run has it or the video moved on.
    async fn claim_import(&self, id: &VideoId, now: &str) -> Result<bool, StoreError>;
    /// Gives back the claim [`VideoStore::claim_import`] took at `claimed_at` (a run that stopped
    /// for a reason a retry may overcome), so that the retried invocation runs at once. Nothing
    /// happens when the claim is another run's or the video moved on.
    async fn release_import(&self, id: &VideoId, claimed_at: &str) -> Result<(), StoreError> {
        let _ = (id, claimed_at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_is_the_part_size_but_the_last_which_is_what_is_left() {
        let size = 20 * MIB + 5;
        let UploadPlan::Multipart { part_size, parts } = upload_plan(size, 16 * MIB) else { panic!("multipart") };
        let lengths: Vec<u64> = (1..=parts).filter_map(|p| part_length(size, part_size, p)).collect();
        assert_eq!(lengths, [8 * MIB, 8 * MIB, 4 * MIB + 5]);
        assert_eq!(lengths.iter().sum::<u64>(), size);
        assert_eq!(part_length(size, part_size, 0), None);
        assert_eq!(part_length(size, part_size, parts + 1), None);
        assert_eq!(part_length(16 * MIB, 8 * MIB, 2), Some(8 * MIB), "a last part may be whole");
        assert_eq!(part_length(16 * MIB, 0, 1), None);
        assert_eq!(part_length(u64::MAX, 8 * MIB, u32::MAX), Some(8 * MIB));
    }

    #[test]
    fn upload_plans_respect_s3_limits() {
        assert_eq!(upload_plan(10 * MIB, 64 * MIB), UploadPlan::Single);
        assert_eq!(upload_plan(20 * MIB, 16 * MIB), UploadPlan::Multipart { part_size: 8 * MIB, parts: 3 });
        match upload_plan(5 * 1024 * 1024 * MIB, 64 * MIB) {
            UploadPlan::Multipart { part_size, parts } => {
                assert!(u64::from(parts) <= MAX_PARTS && part_size >= MIN_PART && part_size % MIB == 0);
                assert!(part_size * u64::from(parts) >= 5 * 1024 * 1024 * MIB);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn transitions_only_move_forward() {
        use VideoStatus::*;
        assert!(Transcoding.predecessors().contains(&Uploaded));
        assert!(!Transcoding.predecessors().contains(&Ready));
        assert!(!Uploaded.predecessors().contains(&Transcoding));
        assert!(Ready.predecessors().iter().all(|s| !s.is_terminal()));
        assert!(Failed.predecessors().iter().all(|s| !s.is_terminal()));
    }

    #[test]
    fn media_keys_are_classified() {
        let id = VideoId::generate();
        let k = |p: &str| layout::classify(&format!("media/{id}/{p}")).map(|(_, k)| k);
        assert_eq!(k("hls/index.m3u8"), Some(layout::MediaKind::HlsMaster));
        assert_eq!(k("hls/index_720p.m3u8"), Some(layout::MediaKind::HlsOther));
        assert_eq!(k("mp4/video.mp4"), Some(layout::MediaKind::Mp4));
        assert_eq!(k("thumbnails/thumb.0000001.jpg"), Some(layout::MediaKind::Thumbnail(1)));
        assert_eq!(k("thumbnails/thumb.1.jpg"), Some(layout::MediaKind::Other));
        assert_eq!(k("thumbnails/x.jpg"), Some(layout::MediaKind::Other));
        let v = VideoId::generate();
        assert_eq!(layout::classify(&layout::thumbnail(&v, 42)), Some((v, layout::MediaKind::Thumbnail(42))));
        assert_eq!(layout::classify("media/nope/hls/index.m3u8"), None);
    }

    #[test]
    fn content_types_are_checked() {
        assert!(VideoContentType::try_from("video/mp4".to_owned()).is_ok());
        assert!(VideoContentType::try_from("video/x-matroska".to_owned()).is_ok());
        assert!(VideoContentType::try_from("Video/MP4".to_owned()).is_err(), "as browsers give it: lower case");
        assert!(VideoContentType::try_from(" video/mp4".to_owned()).is_err());
        assert!(VideoContentType::try_from("image/png".to_owned()).is_err());
        assert!(VideoContentType::try_from("video/".to_owned()).is_err());
        assert!(ImageContentType::try_from("image/png".to_owned()).is_ok());
        assert!(ImageContentType::try_from("image/svg+xml".to_owned()).is_err());
    }
}

#[cfg(test)]
mod chapter_tests {
    use super::*;

    fn chapter(t: f64, title: &str) -> Chapter {
        Chapter {
            start_seconds: Seconds::new(t).expect("seconds"),
            title: Title::try_from(title.to_owned()).expect("title"),
        }
    }

    #[test]
    fn chapters_are_sorted_distinct_and_within_the_video() {
        let sorted = chapters(vec![chapter(90.0, "Proof"), chapter(0.0, "Intro")], Some(600.0)).expect("valid");
        assert_eq!(sorted.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["Intro", "Proof"]);
        assert!(chapters(vec![chapter(5.0, "A"), chapter(5.0, "B")], None).is_err());
        assert!(chapters(vec![chapter(600.0, "After")], Some(600.0)).is_err());
        assert!(chapters((0..=MAX_CHAPTERS).map(|i| chapter(i as f64, "C")).collect(), None).is_err());
        let vtt = chapters_webvtt(&sorted, Some(3725.5));
        assert_eq!(
            vtt,
            "WEBVTT\n\n1\n00:00:00.000 --> 00:01:30.000\nIntro\n\n2\n00:01:30.000 --> 01:02:05.500\nProof\n"
        );
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;

    fn video(created_at: &str, position: Option<u32>) -> Video {
        let mut v: Video = serde_json::from_value(serde_json::json!({
            "videoId": VideoId::generate(), "spaceId": SpaceId::generate(), "title": "T", "description": "",
            "status": "READY", "fileName": "a.mp4", "contentType": "video/mp4", "sizeBytes": 1,
            "createdBy": UserId::generate(), "createdAt": created_at, "updatedAt": created_at,
        }))
        .expect("video");
        v.position = position;
        v
    }

    #[test]
    fn an_order_places_the_listed_videos_and_unplaces_the_others() {
        let all = vec![video("2026-01-01", None), video("2026-01-02", Some(0)), video("2026-01-03", Some(1))];
        let ids = |vs: &[&Video]| vs.iter().map(|v| v.video_id.clone()).collect::<Vec<_>>();
        // [2, 0]: video 2 moves to 0, video 0 is placed at 1, video 1 goes back among the unplaced.
        let moves = placements(&all, &ids(&[&all[2], &all[0]])).expect("valid");
        let got: Vec<(VideoId, Option<u32>)> = moves.iter().map(|(v, p)| (v.video_id.clone(), *p)).collect();
        assert_eq!(
            got,
            vec![
                (all[0].video_id.clone(), Some(1)),
                (all[1].video_id.clone(), None),
                (all[2].video_id.clone(), Some(0))
            ]
        );
        // The order as it stands changes nothing.
        assert!(placements(&all, &ids(&[&all[1], &all[2]])).expect("valid").is_empty());
        assert_eq!(
            placements(&all, &ids(&[&all[0], &all[0]])).err(),
            Some(OrderError::Duplicate(all[0].video_id.clone()))
        );
        let stranger = VideoId::generate();
        assert_eq!(placements(&all, std::slice::from_ref(&stranger)).err(), Some(OrderError::Unknown(stranger)));
    }

    #[test]
    fn members_see_the_placed_videos_first_then_the_newest() {
        let all = vec![
            video("2026-01-01", None),
            video("2026-01-02", Some(1)),
            video("2026-01-03", None),
            video("2026-01-04", Some(0)),
        ];
        let dates: Vec<String> = in_order(all).into_iter().map(|v| v.created_at).collect();
        assert_eq!(dates, ["2026-01-04", "2026-01-02", "2026-01-03", "2026-01-01"]);
    }
}
