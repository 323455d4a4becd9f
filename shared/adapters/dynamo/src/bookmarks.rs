//! Bookmarks: under the video's partition, `BOOKMARK#{user}#{bookmarkId}` (ULID: creation
//! order), on GSI2 with the member's other per-video data; counted like snapshots.

use async_trait::async_trait;
use vivid_domain::{
    error::{Guard, StoreError},
    page::{Page, PageKey},
    types::{BookmarkId, Limit, UserId, VideoId},
    video::{Bookmark, BookmarkStore},
};

use crate::{
    attrs,
    keys::{self, MemberItem},
    table::{GSI2PK, GSI2SK, PK, SK, Table, key, to_item},
    usage::Counted,
};

#[async_trait]
impl BookmarkStore for Table {
    async fn put_bookmark(&self, b: &Bookmark, limit: u64) -> Result<(), StoreError> {
        let item = to_item(
            b,
            &[
                (PK, keys::video(&b.video_id)),
                (SK, keys::bookmark(&b.user_id, &b.bookmark_id)),
                (GSI2PK, keys::member_data(&b.space_id, &b.user_id)),
                (GSI2SK, keys::member_item(&b.video_id, MemberItem::Bookmark, Some(b.bookmark_id.as_str()))),
                (attrs::TYPE, "Bookmark".into()),
            ],
        )?;
        self.put_counted(item, Counted::Bookmarks, &b.video_id, &b.space_id, &b.user_id, limit, None).await
    }

    async fn bookmarks(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Bookmark>, StoreError> {
        self.own_on_video(video, keys::bookmark_prefix(user), limit, start).await
    }

    async fn delete_bookmark(&self, video: &VideoId, user: &UserId, id: &BookmarkId) -> Result<bool, StoreError> {
        let sk = keys::bookmark(user, id);
        let Some(b) = self.get::<Bookmark>(keys::video(video), sk.clone()).await? else { return Ok(false) };
        match self.uncount(Counted::Bookmarks, key(keys::video(video), sk), &b.video_id, &b.space_id, user).await {
            // Deleted meanwhile by a concurrent request: the same answer.
            Ok(()) | Err(StoreError::Condition(Guard::Item)) => Ok(true),
            Err(e) => Err(e),
        }
    }
}
