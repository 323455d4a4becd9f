//! Where videos and a member's data on them are kept, one port per role: a handler names the
//! ones it calls (see `docs/data-model.md` for how the DynamoDB adapter keeps each).
//!
//! - [`VideoCatalog`]: what videos there are and what they say (the reads every route starts from).
//! - [`CatalogEdits`]: the host's edits of what a video says and of the space's order.
//! - [`UploadStore`]: videos on their way in (browser uploads and platform imports).
//! - [`TranscodeState`]: a video's status and what its transcoding job recorded.
//! - [`CaptionStore`]: caption tracks, the captioned master and the transcript's state.
//! - [`ProgressStore`]: members' progress on videos.
//! - [`SnapshotStore`]: members' captured frames.
//! - [`BookmarkStore`]: members' named moments.
//! - [`VideoRemoval`]: a video's deletion (the mark, then everything of it).

use async_trait::async_trait;

use super::{Bookmark, Progress, Snapshot, StatusChange, Video, VideoAccess, VideoPatch, VideoStatus, layout};
use crate::{
    error::StoreError,
    page::{Page, PageKey},
    quota::Quotas,
    types::{BookmarkId, Limit, Seconds, SnapshotId, SpaceId, UserId, VideoId},
};

/// What videos there are and what they say: the reads every route starts from (the caller's
/// access to a video among them).
#[async_trait]
pub trait VideoCatalog: Send + Sync {
    async fn get_video(&self, id: &VideoId) -> Result<Option<Video>, StoreError>;
    /// The videos of these ids that exist, each once however often it is asked for, in no
    /// particular order; videos being deleted included (marked `deleting`: the caller drops
    /// them). Eventually consistent, one batch a hundred.
    async fn videos(&self, ids: &[VideoId]) -> Result<Vec<Video>, StoreError>;
    /// The video, its space, the caller's membership of it and their progress: two round trips.
    async fn video_access(&self, id: &VideoId, user: &UserId) -> Result<Option<VideoAccess>, StoreError>;
    /// A space's videos, newest first.
    async fn list_videos(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Video>, StoreError>;
    /// Every video of a space (for ordering or deleting them).
    async fn all_videos(&self, space: &SpaceId) -> Result<Vec<Video>, StoreError>;
}

/// The host's edits of the catalog: what a video says and where it stands in its space's order.
/// Only the two routes that edit hold it; every other handler reads the [`VideoCatalog`].
#[async_trait]
pub trait CatalogEdits: Send + Sync {
    /// The host's changes of title, description or chapters; the video as it now is.
    /// `Condition(Video)` when it is gone or being deleted.
    async fn update_video(&self, id: &VideoId, patch: &VideoPatch, now: &str) -> Result<Video, StoreError>;
    /// Moves videos of a space to new places in its order (see [`super::placements`]), in
    /// transactions of up to 100: `Condition(Video)` when one of them is gone or no longer in the
    /// space.
    async fn place_videos(&self, space: &SpaceId, moves: &[(&Video, Option<u32>)]) -> Result<(), StoreError>;
}

/// Videos on their way in: a browser's upload or a platform's import, from the video's creation
/// to its bytes (or to its undoing when they never come).
#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Puts the video, counts it in its space and charges its size to its creator's transcoding
    /// budget of the day, atomically: `Condition(Space)` when the space is gone,
    /// `Condition(Quota)` when the space is full or the budget would be passed.
    async fn create_video(&self, video: &Video, quotas: &Quotas, day: &str) -> Result<(), StoreError>;
    /// Undoes [`UploadStore::create_video`] for a video nothing happened to yet (its import could
    /// not be started): the item, its count in the space, its recording's lock and its charge to
    /// its creator's transcoding budget of `day` (the day it was created), atomically. Safe to
    /// repeat.
    async fn withdraw_video(&self, video: &Video, day: &str) -> Result<(), StoreError>;
    /// Turns an upload that never finished into a deletion, atomically: the video marked as
    /// deleting (as [`VideoRemoval::tombstone_video`] marks it: gone for readers from then on),
    /// out of its space's count, and its charge refunded to its creator's transcoding budget of
    /// `day` (the day it was created) — only while it is still `UPLOADING` and unmarked;
    /// `Ok(false)` otherwise (an upload that completed meanwhile, a deletion begun, a video gone).
    /// The deletion worker removes the rest, as for any marked video.
    async fn abandon_upload(&self, video: &Video, day: &str) -> Result<bool, StoreError>;
    /// Videos still uploading or importing that were created before `before` (RFC 3339), oldest
    /// first, at most `limit`.
    async fn pending_before(&self, before: &str, limit: Limit) -> Result<Vec<VideoId>, StoreError>;
    /// Claims an `IMPORTING` video for one import run (a claim older than 15 minutes, from a run
    /// that died, may be taken over); `false` when another run has it or the video moved on.
    async fn claim_import(&self, id: &VideoId, now: &str) -> Result<bool, StoreError>;
    /// Gives back the claim [`UploadStore::claim_import`] took at `claimed_at` (a run that stopped
    /// for a reason a retry may overcome), so that the retried invocation runs at once. Nothing
    /// happens when the claim is another run's or the video moved on.
    async fn release_import(&self, id: &VideoId, claimed_at: &str) -> Result<(), StoreError> {
        let _ = (id, claimed_at);
        Ok(())
    }
}

/// Where a video is in its life and what its transcoding job recorded on it.
#[async_trait]
pub trait TranscodeState: Send + Sync {
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
    /// Records a converted object (a thumbnail raises the count of those landed); `Ok(false)`
    /// when the video is gone (the object is an orphan).
    async fn record_output(&self, id: &VideoId, kind: &layout::MediaKind, key: &str) -> Result<bool, StoreError>;
}

/// A video's caption tracks, the captioned master that lists them, and its transcript's state.
#[async_trait]
pub trait CaptionStore: Send + Sync {
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
}

/// Members' progress on videos. A member's progress item is also their grant for the cheap
/// progress write, and every write keeps the member's [`Standing`](crate::spaces::Standing) in
/// step.
#[async_trait]
pub trait ProgressStore: Send + Sync {
    /// A user's progress on some videos (missing ones are left out).
    async fn progress_on(&self, user: &UserId, videos: &[VideoId]) -> Result<Vec<Progress>, StoreError>;
    /// The cheap progress write: only when the caller's grant exists (`Ok(false)` otherwise, the
    /// first write's case). The rate is the client's own account of its progress: it moves the
    /// member's standing (`progressSum`), never their completion (watched coverage does).
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
    /// The progress of each of `users` on one video (those who have none are left out).
    async fn progress_by(&self, video: &VideoId, users: &[UserId]) -> Result<Vec<Progress>, StoreError>;
    /// The user's progress items, most recently accessed first.
    async fn recent_progress(&self, user: &UserId, limit: Limit) -> Result<Vec<Progress>, StoreError>;
    /// How many videos the user completed (watched past the completion threshold).
    async fn completed_count(&self, user: &UserId) -> Result<u32, StoreError>;
}

/// Members' snapshots (captured frames), private to their author.
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// Stores a snapshot, counts it and charges its size to the author's storage:
    /// `Condition(Quota)` past `limits.per_video` of the author's on the video or past their
    /// `limits.storage_bytes`.
    async fn put_snapshot(&self, snapshot: &Snapshot, limits: crate::storage::Limits) -> Result<(), StoreError>;
    /// The author's snapshots of a video, oldest first.
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

/// A video's deletion: the mark that makes it gone at once, then the removal of everything of it.
#[async_trait]
pub trait VideoRemoval: Send + Sync {
    /// Marks a video as deleting and takes it out of its space's count, atomically (a video
    /// already deleting is left as it is: `Ok(false)`); `Condition(Video)` when there is no video.
    /// From then on every read treats it as gone and every write to it is refused.
    async fn tombstone_video(&self, video: &Video) -> Result<bool, StoreError>;
    /// Deletes the video, everyone's per-video data and its count in the space (unless a
    /// tombstone took it out already); returns the user-content object keys those items pointed
    /// at. The video item goes last: a deletion that fails half-way leaves it, to be deleted again.
    async fn delete_video(&self, video: &Video) -> Result<Vec<String>, StoreError>;
}
