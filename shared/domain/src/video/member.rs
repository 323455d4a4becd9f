//! What a member keeps on a video, private to them: progress, snapshots, bookmarks.

use serde::{Deserialize, Serialize};

use crate::types::{BookmarkId, Seconds, SnapshotId, SpaceId, UserId, VideoId};

use super::{BookmarkLabel, ImageContentType};

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
    /// When the member's watched coverage first reached the completion threshold
    /// ([`crate::coverage`]): kept however far they rewind later. The progress rate a client
    /// reports never completes a video (it is the client's claim); an item from before completion
    /// was watched may carry one stamped by a rate of 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// The member's watched coverage of the video, 0–100 (`None`: never reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_percent: Option<u8>,
}

/// The highest completion (a percent), the score of a completed video.
pub const COMPLETED_RATE: u8 = 100;

/// What a watching report found and left: what [`crate::lti::grades::job_after`] needs to tell
/// whether the course's gradebook should hear of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    /// The space of the video (and of the membership the write's standing moved).
    pub space_id: SpaceId,
    /// The watched coverage after the write, 0–100.
    pub coverage_percent: u8,
    /// Whether the video counts as completed after the write (stamped now or before: sticky).
    pub completed: bool,
    /// The member's role in the space.
    pub role: crate::spaces::Role,
    /// The platform subject the membership came from an LTI course for (its `ltiSub`); `None`
    /// for a member who did not come from a course.
    pub lti_sub: Option<String>,
    /// The value the course's gradebook last took for this progress (`ltiPosted`) when the write
    /// came; `None` when none was ever posted.
    pub lti_posted: Option<u8>,
    /// The completion before this write (`None` when the member had none).
    pub previous: Option<u8>,
}

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
