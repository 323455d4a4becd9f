//! What members keep on videos: progress (with their standing), snapshots and bookmarks, counted
//! per member and video and charged to their storage (`progress.rs`, `snapshots.rs`,
//! `bookmarks.rs`, `usage.rs`, `storage.rs` and `live.rs` of the DynamoDB adapter).

use async_trait::async_trait;
use vivid_domain::{
    error::{Guard, StoreError},
    page::{Page, PageKey},
    quota::{Exceeded, Quota},
    spaces::Role,
    storage::{Limits, Stored},
    types::{BookmarkId, Limit, Seconds, SnapshotId, SpaceId, UserId, VideoId},
    video::{Bookmark, BookmarkStore, Progress, ProgressStore, Snapshot, SnapshotStore, VideoStatus},
};

use super::{Memory, World, failed, page};

/// A counted kind of note.
#[derive(Clone, Copy)]
enum Counted {
    Snapshots,
    Bookmarks,
}

impl World {
    /// The account, space and video checks of a member's own write: the account live (`Account`),
    /// the space live and the video of that space, live and ready (`Grant`).
    fn place_checks(&self, space: &SpaceId, video: &VideoId, user: &UserId) -> Result<(), StoreError> {
        if !self.account_live(user) {
            return failed(Guard::Account);
        }
        let video_ok = self
            .videos
            .get(video)
            .is_some_and(|r| !r.video.deleting && r.video.space_id == *space && r.video.status == VideoStatus::Ready);
        if !self.space_live(space) || !video_ok {
            return failed(Guard::Grant);
        }
        Ok(())
    }

    /// Everything a new note needs when it is written, in the adapter's order: the count within
    /// `per_video` (and, with `bytes`, the storage within `storage_limit`), the membership, then
    /// [`World::place_checks`].
    #[allow(clippy::too_many_arguments)]
    fn count_checks(
        &self,
        what: Counted,
        space: &SpaceId,
        video: &VideoId,
        user: &UserId,
        per_video: u64,
        charge: Option<(u64, u64)>,
    ) -> Result<(), StoreError> {
        let usage = self.usage.get(&(video.clone(), user.clone()));
        let (count, quota) = match what {
            Counted::Snapshots => (usage.map_or(0, |u| u.snapshots), Quota::SnapshotsPerVideo),
            Counted::Bookmarks => (usage.map_or(0, |u| u.bookmarks), Quota::BookmarksPerVideo),
        };
        if count.saturating_add(1) > i64::try_from(per_video).unwrap_or(i64::MAX) {
            return failed(Guard::Quota(Exceeded { quota, limit: per_video }));
        }
        if let Some((bytes, limit)) = charge.filter(|(bytes, _)| *bytes > 0) {
            let total = self.storage.get(user).copied().unwrap_or(0);
            let (bytes, max) = (i64::try_from(bytes).unwrap_or(i64::MAX), i64::try_from(limit).unwrap_or(i64::MAX));
            if total.saturating_add(bytes) > max {
                return failed(Guard::Quota(Exceeded { quota: Quota::StorageBytes, limit }));
            }
        }
        if !self.members.contains_key(&(space.clone(), user.clone())) {
            return failed(Guard::Grant);
        }
        self.place_checks(space, video, user)
    }

    /// Changes a member's count of `what` on a video (and their bytes there and in total).
    fn count(&mut self, what: Counted, space: &SpaceId, video: &VideoId, user: &UserId, delta: i64, bytes: i64) {
        let usage = self.usage.entry((video.clone(), user.clone())).or_default();
        usage.space = Some(space.clone());
        match what {
            Counted::Snapshots => usage.snapshots += delta,
            Counted::Bookmarks => usage.bookmarks += delta,
        }
        if bytes != 0 {
            usage.bytes += bytes;
            *self.storage.entry(user.clone()).or_default() += bytes;
        }
    }

    /// Moves a member's standing by one progress write; `Condition(Grant)` without a membership.
    /// Answers the member's role (the adapter reads it back with the standing, `ALL_NEW`).
    fn stand(
        &mut self,
        space: &SpaceId,
        user: &UserId,
        delta: i64,
        completed: bool,
        now: &str,
    ) -> Result<Role, StoreError> {
        let Some((membership, standing)) = self.members.get_mut(&(space.clone(), user.clone())) else {
            return failed(Guard::Grant);
        };
        standing.progress_sum = standing.progress_sum.saturating_add_signed(delta);
        standing.completed_videos += u32::from(completed);
        standing.last_access_at = Some(now.to_owned());
        Ok(membership.role)
    }

    fn touch(
        &mut self,
        video: &VideoId,
        user: &UserId,
        rate: u8,
        position: Seconds,
        now: &str,
    ) -> Result<bool, StoreError> {
        let key = (video.clone(), user.clone());
        let Some(p) = self.progress.get_mut(&key) else { return Ok(false) };
        let old_rate = p.progress_rate;
        p.progress_rate = rate;
        p.position_seconds = position;
        p.last_access_at = now.to_owned();
        // The rate is the client's claim: it never completes the video (watched coverage does).
        let space = p.space_id.clone();
        self.stand(&space, user, i64::from(rate) - i64::from(old_rate), false, now)?;
        Ok(true)
    }
}

#[async_trait]
impl ProgressStore for Memory {
    async fn progress_on(&self, user: &UserId, videos: &[VideoId]) -> Result<Vec<Progress>, StoreError> {
        let w = self.world();
        Ok(videos.iter().filter_map(|v| w.progress.get(&(v.clone(), user.clone())).cloned()).collect())
    }

    async fn touch_progress(
        &self,
        video: &VideoId,
        user: &UserId,
        rate: u8,
        position: Seconds,
        now: &str,
    ) -> Result<bool, StoreError> {
        self.world().touch(video, user, rate, position, now)
    }

    async fn put_progress(&self, progress: &Progress) -> Result<(), StoreError> {
        let mut w = self.world();
        let (space, user, video) = (&progress.space_id, &progress.user_id, &progress.video_id);
        if w.progress.contains_key(&(video.clone(), user.clone())) {
            // Another first write came first: this one is an update of it.
            let (rate, position, at) = (progress.progress_rate, progress.position_seconds, &progress.last_access_at);
            return if w.touch(video, user, rate, position, at)? { Ok(()) } else { failed(Guard::Grant) };
        }
        if !w.members.contains_key(&(space.clone(), user.clone())) {
            return failed(Guard::Grant);
        }
        w.place_checks(space, video, user)?;
        w.progress.insert((video.clone(), user.clone()), progress.clone());
        let completed = progress.completed_at.is_some();
        w.stand(space, user, i64::from(progress.progress_rate), completed, &progress.last_access_at).map(|_| ())
    }

    async fn progress_by(&self, video: &VideoId, users: &[UserId]) -> Result<Vec<Progress>, StoreError> {
        let w = self.world();
        Ok(users.iter().filter_map(|u| w.progress.get(&(video.clone(), u.clone())).cloned()).collect())
    }

    async fn recent_progress(&self, user: &UserId, limit: Limit) -> Result<Vec<Progress>, StoreError> {
        let w = self.world();
        let mut mine: Vec<(String, Progress)> = w
            .progress
            .values()
            .filter(|p| p.user_id == *user)
            .map(|p| (format!("{}#{}", p.last_access_at, p.video_id), p.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(mine.into_iter().take(usize::from(limit.get())).map(|(_, p)| p).collect())
    }

    async fn completed_count(&self, user: &UserId) -> Result<u32, StoreError> {
        let w = self.world();
        let done = w.progress.values().filter(|p| p.user_id == *user).filter(|p| p.completed_at.is_some());
        Ok(u32::try_from(done.count()).unwrap_or(u32::MAX))
    }
}

#[async_trait]
impl SnapshotStore for Memory {
    async fn put_snapshot(&self, snap: &Snapshot, limits: Limits) -> Result<(), StoreError> {
        // A note larger than the whole quota, refused before anything is looked at.
        limits.check_size(snap.stored_bytes()).map_err(|e| StoreError::Condition(Guard::Quota(e)))?;
        let mut w = self.world();
        let key = (snap.video_id.clone(), snap.user_id.clone(), snap.snapshot_id.clone());
        if w.snapshots.contains_key(&key) {
            return failed(Guard::Item);
        }
        let charge = Some((snap.stored_bytes(), limits.storage_bytes));
        let (space, video, user) = (&snap.space_id, &snap.video_id, &snap.user_id);
        w.count_checks(Counted::Snapshots, space, video, user, limits.per_video, charge)?;
        w.snapshots.insert(key, snap.clone());
        let bytes = i64::try_from(snap.stored_bytes()).unwrap_or(i64::MAX);
        w.count(Counted::Snapshots, space, video, user, 1, bytes);
        Ok(())
    }

    async fn snapshots(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Snapshot>, StoreError> {
        let w = self.world();
        let rows = w
            .snapshots
            .iter()
            .filter(|((v, u, _), _)| v == video && u == user)
            .map(|((_, _, id), s)| (id.to_string(), s.clone()));
        page(&format!("VIDEO#{video}#SNAP#{user}"), rows.collect(), limit, start, true)
    }

    async fn delete_snapshot(
        &self,
        video: &VideoId,
        user: &UserId,
        id: &SnapshotId,
    ) -> Result<Option<Snapshot>, StoreError> {
        let mut w = self.world();
        let Some(snap) = w.snapshots.remove(&(video.clone(), user.clone(), id.clone())) else { return Ok(None) };
        let bytes = i64::try_from(snap.stored_bytes()).unwrap_or(i64::MAX);
        w.count(Counted::Snapshots, &snap.space_id, video, user, -1, -bytes);
        Ok(Some(snap))
    }
}

#[async_trait]
impl BookmarkStore for Memory {
    async fn put_bookmark(&self, b: &Bookmark, limit: u64) -> Result<(), StoreError> {
        let mut w = self.world();
        let key = (b.video_id.clone(), b.user_id.clone(), b.bookmark_id.clone());
        if w.bookmarks.contains_key(&key) {
            return failed(Guard::Item);
        }
        w.count_checks(Counted::Bookmarks, &b.space_id, &b.video_id, &b.user_id, limit, None)?;
        w.bookmarks.insert(key, b.clone());
        w.count(Counted::Bookmarks, &b.space_id, &b.video_id, &b.user_id, 1, 0);
        Ok(())
    }

    async fn bookmarks(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Bookmark>, StoreError> {
        let w = self.world();
        let rows = w
            .bookmarks
            .iter()
            .filter(|((v, u, _), _)| v == video && u == user)
            .map(|((_, _, id), b)| (id.to_string(), b.clone()));
        page(&format!("VIDEO#{video}#BOOKMARK#{user}"), rows.collect(), limit, start, true)
    }

    async fn delete_bookmark(&self, video: &VideoId, user: &UserId, id: &BookmarkId) -> Result<bool, StoreError> {
        let mut w = self.world();
        let Some(b) = w.bookmarks.remove(&(video.clone(), user.clone(), id.clone())) else { return Ok(false) };
        w.count(Counted::Bookmarks, &b.space_id, video, user, -1, 0);
        Ok(true)
    }
}
