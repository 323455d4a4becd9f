//! The catalog of videos, a video's removal and the search index (`videos.rs` and `search.rs` of
//! the DynamoDB adapter).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use vivid_domain::{
    error::{Guard, StoreError},
    page::{Page, PageKey},
    search::{Posting, SearchIndex, Source, note_posting},
    types::{Limit, SpaceId, UserId, VideoId},
    video::{CatalogEdits, Video, VideoAccess, VideoCatalog, VideoPatch, VideoRemoval},
};

use super::{Asked, Memory, World, failed, page};

/// The highest position a placed video's sort key holds.
const MAX_POSITION: u32 = 999_999;

/// A video's place among its space's (`GSI1SK`, read in descending order): the placed ones first,
/// lowest position first, then the others newest first.
fn place(v: &Video) -> String {
    match v.position {
        Some(p) => format!("~{:06}#{}", MAX_POSITION - p.min(MAX_POSITION), v.video_id),
        None => format!("{}#{}", v.created_at, v.video_id),
    }
}

impl World {
    /// Removes the video item with its count in its space (unless its tombstone took it out) and
    /// its recording's lock, and with `refund_day` gives its size back to its creator's budget of
    /// that day (while that day's budget lasts). A video already gone is fine.
    pub(crate) fn remove_video_item(&mut self, video: &Video, refund_day: Option<&str>) {
        if self.videos.remove(&video.video_id).is_none() {
            return;
        }
        if !video.deleting
            && let Some(space) = self.spaces.get_mut(&video.space_id)
        {
            space.video_count = space.video_count.saturating_sub(1);
        }
        if let Some(recording) = &video.recording_id {
            self.recordings.remove(&(video.space_id.clone(), recording.clone()));
        }
        if let Some(day) = refund_day
            && let Some(budget) = self.budgets.get_mut(&(video.created_by.clone(), day.to_owned()))
        {
            budget.bytes -= i64::try_from(video.size_bytes).unwrap_or(i64::MAX);
        }
    }

    /// Removes every posting of a video: its words', its transcript's and members' notes'.
    fn unindex_video(&mut self, video: &VideoId) {
        for postings in self.postings.values_mut() {
            postings.retain(|(v, _), _| v != video);
        }
        self.postings.retain(|_, p| !p.is_empty());
        for postings in self.note_postings.values_mut() {
            postings.remove(video);
        }
        self.note_postings.retain(|_, p| !p.is_empty());
    }
}

#[async_trait]
impl VideoCatalog for Memory {
    async fn get_video(&self, id: &VideoId) -> Result<Option<Video>, StoreError> {
        self.note(Asked::GetVideo(id.clone()));
        Ok(self.world().videos.get(id).map(|r| r.video.clone()))
    }

    async fn videos(&self, ids: &[VideoId]) -> Result<Vec<Video>, StoreError> {
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        let w = self.world();
        Ok(unique.iter().filter_map(|id| w.videos.get(id)).map(|r| r.video.clone()).collect())
    }

    async fn video_access(&self, id: &VideoId, user: &UserId) -> Result<Option<VideoAccess>, StoreError> {
        let w = self.world();
        let Some(video) = w.videos.get(id).map(|r| r.video.clone()) else { return Ok(None) };
        let space = w.spaces.get(&video.space_id).cloned();
        let member = (video.space_id.clone(), user.clone());
        let membership = w.members.get(&member).map(|(m, _)| m.clone());
        let lti_sub = w.lti_subs.get(&member).filter(|_| membership.is_some()).cloned();
        let progress = w.progress.get(&(id.clone(), user.clone())).cloned();
        Ok(Some(VideoAccess { video, space, membership, lti_sub, progress }))
    }

    /// A video being deleted is left out after the page is cut (a page may hold fewer).
    async fn list_videos(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Video>, StoreError> {
        let w = self.world();
        let rows = w.videos.values().filter(|r| r.video.space_id == *space).map(|r| (place(&r.video), r.video.clone()));
        let Page { items, next } = page(&format!("SPACE#{space}#VIDEOS"), rows.collect(), limit, start, false)?;
        Ok(Page { items: items.into_iter().filter(|v| !v.deleting).collect(), next })
    }

    async fn all_videos(&self, space: &SpaceId) -> Result<Vec<Video>, StoreError> {
        let w = self.world();
        let mut rows: Vec<(String, Video)> = w
            .videos
            .values()
            .filter(|r| r.video.space_id == *space)
            .map(|r| (place(&r.video), r.video.clone()))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(rows.into_iter().map(|(_, v)| v).collect())
    }
}

#[async_trait]
impl CatalogEdits for Memory {
    async fn update_video(&self, id: &VideoId, patch: &VideoPatch, now: &str) -> Result<Video, StoreError> {
        let mut w = self.world();
        let Some(row) = w.videos.get_mut(id).filter(|r| !r.video.deleting) else { return failed(Guard::Video) };
        let v = &mut row.video;
        v.updated_at = now.to_owned();
        if let Some(title) = &patch.title {
            v.title = title.clone();
        }
        if let Some(description) = &patch.description {
            v.description = description.clone();
        }
        if let Some(chapters) = &patch.chapters {
            v.chapters = chapters.clone();
        }
        if let Some(shown) = patch.shown {
            v.visibility = shown.visibility;
            v.publish_at = shown.publish_at;
        }
        Ok(v.clone())
    }

    async fn place_videos(&self, space: &SpaceId, moves: &[(&Video, Option<u32>)]) -> Result<(), StoreError> {
        let mut w = self.world();
        for chunk in moves.chunks(100) {
            let all_there =
                chunk.iter().all(|(v, _)| w.videos.get(&v.video_id).is_some_and(|r| r.video.space_id == *space));
            if !all_there {
                return failed(Guard::Video);
            }
            for (video, position) in chunk {
                if let Some(row) = w.videos.get_mut(&video.video_id) {
                    row.video.position = *position;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl VideoRemoval for Memory {
    async fn tombstone_video(&self, video: &Video) -> Result<bool, StoreError> {
        let mut w = self.world();
        let Some(row) = w.videos.get_mut(&video.video_id) else { return failed(Guard::Video) };
        if row.video.deleting {
            return Ok(false);
        }
        row.video.deleting = true;
        // The place it frees in its space (a space gone already: the mark alone).
        if let Some(space) = w.spaces.get_mut(&video.space_id) {
            space.video_count = space.video_count.saturating_sub(1);
        }
        Ok(true)
    }

    async fn delete_video(&self, video: &Video) -> Result<Vec<String>, StoreError> {
        let mut w = self.world();
        let id = &video.video_id;
        w.unindex_video(id);
        let objects = w.snapshots.iter().filter(|((v, _, _), _)| v == id).map(|(_, s)| s.object_key.clone()).collect();
        // Each member's usage gives its bytes back, each progress its share of the standing.
        let usages: Vec<(UserId, i64)> =
            w.usage.iter().filter(|((v, _), _)| v == id).map(|((_, u), r)| (u.clone(), r.bytes)).collect();
        for (user, bytes) in usages {
            if let Some(total) = w.storage.get_mut(&user) {
                *total -= bytes;
            }
        }
        let progress: Vec<_> = w.progress.iter().filter(|((v, _), _)| v == id).map(|(_, p)| p.clone()).collect();
        for p in progress {
            if let Some((_, standing)) = w.members.get_mut(&(p.space_id.clone(), p.user_id.clone())) {
                standing.progress_sum = standing.progress_sum.saturating_sub(u64::from(p.progress_rate));
                standing.completed_videos =
                    standing.completed_videos.saturating_sub(u32::from(p.completed_at.is_some()));
            }
        }
        w.usage.retain(|(v, _), _| v != id);
        w.progress.retain(|(v, _), _| v != id);
        w.lti_posted.retain(|(v, _), _| v != id);
        w.snapshots.retain(|(v, _, _), _| v != id);
        w.bookmarks.retain(|(v, _, _), _| v != id);
        // The item last, with its count (unless its tombstone took it out).
        w.remove_video_item(video, None);
        Ok(objects)
    }
}

#[async_trait]
impl SearchIndex for Memory {
    async fn index_video(
        &self,
        space: &SpaceId,
        video: &VideoId,
        source: Source,
        postings: &BTreeMap<String, Posting>,
    ) -> Result<(), StoreError> {
        let mut w = self.world();
        let slot = (video.clone(), source.as_str());
        for p in w.postings.values_mut() {
            p.remove(&slot);
        }
        for (term, posting) in postings {
            w.postings.entry((space.clone(), term.clone())).or_default().insert(slot.clone(), posting.clone());
        }
        w.postings.retain(|_, p| !p.is_empty());
        Ok(())
    }

    async fn postings(&self, space: &SpaceId, term: &str) -> Result<Vec<Posting>, StoreError> {
        let w = self.world();
        Ok(w.postings.get(&(space.clone(), term.to_owned())).map(|p| p.values().cloned().collect()).unwrap_or_default())
    }

    async fn index_notes(
        &self,
        space: &SpaceId,
        video: &VideoId,
        user: &UserId,
        before: &BTreeSet<String>,
        after: &BTreeSet<String>,
    ) -> Result<(), StoreError> {
        let mut w = self.world();
        for term in after.difference(before) {
            let key = (space.clone(), user.clone(), term.clone());
            w.note_postings.entry(key).or_default().insert(video.clone(), note_posting(video));
        }
        for term in before.difference(after) {
            if let Some(p) = w.note_postings.get_mut(&(space.clone(), user.clone(), term.clone())) {
                p.remove(video);
            }
        }
        w.note_postings.retain(|_, p| !p.is_empty());
        Ok(())
    }

    async fn note_postings(&self, space: &SpaceId, user: &UserId, term: &str) -> Result<Vec<Posting>, StoreError> {
        let w = self.world();
        let key = (space.clone(), user.clone(), term.to_owned());
        Ok(w.note_postings.get(&key).map(|p| p.values().cloned().collect()).unwrap_or_default())
    }
}
