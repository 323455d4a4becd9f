//! Deletions that span the table and the buckets: a video, a space, a member's data.

use crate::{
    error::StoreError,
    media::{Bucket, MediaStore},
    spaces::SpaceStore,
    types::{SpaceId, UserId, VideoId},
    video::{Video, VideoStore, layout},
};

/// Deletes a video: its items (everyone's per-video data included), then its raw and converted
/// objects and its users' snapshots. Safe to repeat.
pub async fn purge_video(videos: &dyn VideoStore, media: &dyn MediaStore, video: &Video) -> Result<(), StoreError> {
    let objects = videos.delete_video(video).await?;
    remove_media(media, &video.video_id, video.upload_id.as_deref()).await?;
    for key in objects {
        media.delete(Bucket::User, &key).await?;
    }
    media.delete_prefix(Bucket::User, &layout::snapshots_prefix(&video.video_id)).await?;
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

/// Deletes a member's per-video data in a space, with the objects it points at.
pub async fn purge_member(
    spaces: &dyn SpaceStore,
    media: &dyn MediaStore,
    space: &SpaceId,
    user: &UserId,
) -> Result<(), StoreError> {
    for key in spaces.purge_member_data(space, user).await? {
        media.delete(Bucket::User, &key).await?;
    }
    Ok(())
}
