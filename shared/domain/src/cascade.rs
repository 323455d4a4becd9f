//! Deletions that span the table and the buckets: a video, a space, a member's data.

use crate::{
    error::StoreError,
    media::{Bucket, MediaStore},
    notes::drawings_prefix,
    spaces::SpaceStore,
    types::{SpaceId, UserId, VideoId},
    video::{Video, VideoStore, layout},
};

/// Deletes a video: first its objects (raw and converted media, its users' snapshots and large
/// drawings — all under the video's prefixes), then its items (everyone's per-video data, then
/// the video item with its count in the space, last). A failure half-way leaves the video item in
/// place, so deleting it again finishes the work; no object is ever left without the item that
/// leads to it. Safe to repeat.
pub async fn purge_video(videos: &dyn VideoStore, media: &dyn MediaStore, video: &Video) -> Result<(), StoreError> {
    remove_media(media, &video.video_id, video.upload_id.as_deref()).await?;
    let prefixes = [layout::snapshots_prefix(&video.video_id), drawings_prefix(&video.video_id)];
    for prefix in &prefixes {
        media.delete_prefix(Bucket::User, prefix).await?;
    }
    let objects = videos.delete_video(video).await?;
    // Objects the items pointed at outside those prefixes (none are written today).
    for key in objects.iter().filter(|k| !prefixes.iter().any(|p| k.starts_with(p.as_str()))) {
        media.delete(Bucket::User, key).await?;
    }
    Ok(())
}

/// Removes what a video's upload and transcoding left in the buckets: its raw object (and
/// unfinished multipart upload) and everything under its media prefix. Safe to repeat; used when
/// the video is deleted, fails, or its job turns out to belong to a video that is gone.
pub async fn remove_media(media: &dyn MediaStore, video: &VideoId, upload_id: Option<&str>) -> Result<(), StoreError> {
    if let Some(upload_id) = upload_id {
        media.abort_multipart(&layout::raw(video), upload_id).await?;
    }
    media.delete(Bucket::Raw, &layout::raw(video)).await?;
    media.delete_prefix(Bucket::Media, &layout::media_prefix(video)).await
}

/// Deletes a space: tombstone first (it is gone for readers from then on), then its videos,
/// then its memberships and itself. A failure half-way is finished by calling it again.
pub async fn purge_space(
    spaces: &dyn SpaceStore,
    videos: &dyn VideoStore,
    media: &dyn MediaStore,
    space: &SpaceId,
) -> Result<(), StoreError> {
    spaces.tombstone_space(space).await?;
    for video in videos.all_videos(space).await? {
        purge_video(videos, media, &video).await?;
    }
    spaces.sweep_space(space).await
}

/// Deletes a member's per-video data in a space, with the objects it points at. Called before the
/// membership goes: a failure half-way leaves the member in the space, so removing them again
/// finishes the work.
pub async fn purge_member(
    spaces: &dyn SpaceStore,
    media: &dyn MediaStore,
    space: &SpaceId,
    user: &UserId,
) -> Result<(), StoreError> {
    // The objects first, while the items that lead to them are still there to find them again.
    let objects = spaces.member_objects(space, user).await?;
    for key in &objects {
        media.delete(Bucket::User, key).await?;
    }
    for key in spaces.purge_member_data(space, user).await? {
        // Written meanwhile.
        if !objects.contains(&key) {
            media.delete(Bucket::User, &key).await?;
        }
    }
    Ok(())
}
