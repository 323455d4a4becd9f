//! Deletions that span the table and the buckets: a video, a space, a member's data.

use std::sync::Arc;

use crate::{
    connectors::GrantRevoker,
    deletion::Deletion,
    error::{Guard, StoreError},
    media::{Bucket, MediaStore},
    notes::drawings_prefix,
    sessions::SessionStore,
    spaces::{Membership, Role, SpaceStore, successor},
    types::{Limit, SpaceId, UserId, VideoId},
    users::{User, UserStore},
    video::{Video, VideoCatalog, VideoRemoval, layout},
    zoom::AutoImportStore,
};

/// Deletes a video: first its objects (raw and converted media, its users' snapshots and large
/// drawings — all under the video's prefixes), then its items (everyone's per-video data, then
/// the video item with its count in the space, last). A failure half-way leaves the video item in
/// place, so deleting it again finishes the work; no object is ever left without the item that
/// leads to it. Safe to repeat.
pub async fn purge_video(removal: &dyn VideoRemoval, media: &dyn MediaStore, video: &Video) -> Result<(), StoreError> {
    remove_media(media, &video.video_id, video.upload_id.as_deref()).await?;
    // The space's engagement exports hold the class's watching of it.
    media.delete_prefix(Bucket::User, &crate::engagement::exports_prefix(&video.space_id)).await?;
    let prefixes = [layout::snapshots_prefix(&video.video_id), drawings_prefix(&video.video_id)];
    for prefix in &prefixes {
        media.delete_prefix(Bucket::User, prefix).await?;
    }
    let objects = removal.delete_video(video).await?;
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
    catalog: &dyn VideoCatalog,
    removal: &dyn VideoRemoval,
    media: &dyn MediaStore,
    space: &SpaceId,
) -> Result<(), StoreError> {
    spaces.tombstone_space(space).await?;
    for video in catalog.all_videos(space).await? {
        purge_video(removal, media, &video).await?;
    }
    // Its engagement exports, before the day the bucket keeps them.
    media.delete_prefix(Bucket::User, &crate::engagement::exports_prefix(space)).await?;
    spaces.sweep_space(space).await
}

/// Deletes a member's per-video data in a space, with the objects it points at. Called after the
/// membership went (revocation first: from then on no write of theirs creates anything, see
/// `docs/data-model.md`), once the index it reads has caught up with their last writes; safe to
/// repeat.
pub async fn purge_member(
    spaces: &dyn SpaceStore,
    media: &dyn MediaStore,
    space: &SpaceId,
    user: &UserId,
) -> Result<(), StoreError> {
    // The space's engagement exports hold the member's row.
    media.delete_prefix(Bucket::User, &crate::engagement::exports_prefix(space)).await?;
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

/// Hands a shared space the leaving user hosts to its longest-standing co-host (without their
/// hosted-spaces quota: the course outlives the host); false when it has none, or is personal or
/// already being deleted, and so goes with the account.
async fn hand_over(spaces: &dyn SpaceStore, m: &Membership) -> Result<bool, StoreError> {
    if m.personal {
        return Ok(false);
    }
    // A co-host who leaves meanwhile: the next one.
    for _ in 0..3 {
        let Some(to) = successor(spaces, &m.space_id, &m.user_id).await? else { return Ok(false) };
        match spaces.transfer_space(&m.space_id, &m.user_id, &to, u64::MAX).await {
            Ok(()) => {
                tracing::info!(space_id = %m.space_id, "space handed over to its longest-standing co-host");
                return Ok(true);
            }
            Err(StoreError::Condition(Guard::Membership)) => continue,
            // No longer this user's to hand over: another run of this deletion handed it over
            // already (the leaving user is now a co-host there), or it is gone. Never purged here.
            Err(StoreError::Condition(Guard::Space)) => {
                return Ok(spaces.get_space(&m.space_id).await?.is_some_and(|s| s.host_id != m.user_id));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// What a deletion touches: every store that holds something of an account, a space or a video.
#[derive(Clone)]
pub struct Stores {
    pub users: Arc<dyn UserStore>,
    pub spaces: Arc<dyn SpaceStore>,
    pub catalog: Arc<dyn VideoCatalog>,
    pub removal: Arc<dyn VideoRemoval>,
    pub media: Arc<dyn MediaStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub auto_imports: Arc<dyn AutoImportStore>,
    /// The account's grants at Zoom and Webex, revoked there.
    pub grants: Arc<dyn GrantRevoker>,
}

/// How a deletion job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// What was left of it is gone now.
    Deleted,
    /// Nothing was left (a retried or replayed job whose work an earlier run finished).
    AlreadyGone,
    /// It exists but no deletion was started (a stray or forged event): nothing is touched.
    NotMarked,
}

impl Stores {
    /// Runs a deletion a route started, to the end. Only an account, space or video marked as
    /// deleting is deleted; every step is safe to repeat, so a retry or a replay of the job
    /// redoes only what is left.
    pub async fn finish(&self, job: &Deletion) -> Result<Finished, StoreError> {
        match job {
            Deletion::Member { space_id, user_id } => {
                // Back in the space meanwhile (invited again): what they have there is theirs.
                let access = self.spaces.space_access(space_id, user_id).await?;
                if access.is_some_and(|a| a.membership.is_some()) {
                    return Ok(Finished::NotMarked);
                }
                purge_member(self.spaces.as_ref(), self.media.as_ref(), space_id, user_id).await?;
            }
            Deletion::Video { video_id } => {
                let Some(video) = self.catalog.get_video(video_id).await? else { return Ok(Finished::AlreadyGone) };
                if !video.deleting {
                    return Ok(Finished::NotMarked);
                }
                purge_video(self.removal.as_ref(), self.media.as_ref(), &video).await?;
            }
            Deletion::Space { space_id } => {
                let Some(space) = self.spaces.get_space(space_id).await? else { return Ok(Finished::AlreadyGone) };
                if !space.deleting {
                    return Ok(Finished::NotMarked);
                }
                match purge_space(
                    self.spaces.as_ref(),
                    self.catalog.as_ref(),
                    self.removal.as_ref(),
                    self.media.as_ref(),
                    space_id,
                )
                .await
                {
                    // Gone meanwhile (another run finished it).
                    Ok(()) | Err(StoreError::Condition(Guard::Space)) => {}
                    Err(e) => return Err(e),
                }
            }
            Deletion::Account { user_id } => {
                let Some(user) = self.users.get_user(user_id).await? else { return Ok(Finished::AlreadyGone) };
                if !user.deleting {
                    return Ok(Finished::NotMarked);
                }
                self.purge_account(&user).await?;
            }
        }
        Ok(Finished::Deleted)
    }

    /// Deletes an account: its grants at Zoom and Webex revoked there, each hosted space handed over to its longest-standing co-host or
    /// deleted, each membership with the member's per-video data, automatic imports, sessions,
    /// and the identity last (so that a run that fails half-way is found and finished again).
    /// The same Google account can sign up again afterwards.
    pub async fn purge_account(&self, user: &User) -> Result<(), StoreError> {
        // Their grants at Zoom and Webex first (best effort: a refusal is logged, never blocks).
        self.grants.revoke_grants(&user.user_id).await;
        let (spaces, media) = (self.spaces.as_ref(), self.media.as_ref());
        let mut memberships = Vec::new();
        let mut start = None;
        loop {
            // Also the spaces an earlier, interrupted deletion left tombstoned: this one finishes them.
            let page = spaces.memberships_of(&user.user_id, Limit::clamped(100), start).await?;
            memberships.extend(page.items);
            start = page.next;
            if start.is_none() {
                break;
            }
        }
        // Nothing of theirs is created from the mark on (every write of a member's own data
        // checks the account in its transaction), and the worker waited for the indexes before
        // it started: each membership's data first, then the membership, so that a run that
        // fails half-way still finds the spaces it has yet to purge.
        for m in memberships {
            if m.role == Role::Host && !hand_over(spaces, &m).await? {
                match purge_space(spaces, self.catalog.as_ref(), self.removal.as_ref(), media, &m.space_id).await {
                    // Gone meanwhile (another deletion finished it).
                    Ok(()) | Err(StoreError::Condition(Guard::Space)) => {}
                    Err(e) => return Err(e),
                }
            } else {
                // A member, or a host who handed the space over and is now its co-host.
                purge_member(spaces, media, &m.space_id, &user.user_id).await?;
                match spaces.remove_member(&m.space_id, &user.user_id, false).await {
                    Ok(()) | Err(StoreError::Condition(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        for link in self.auto_imports.auto_imports_by(&user.user_id).await? {
            // Only while it is theirs: another manager may have linked the space since.
            self.auto_imports.remove_auto_import_of(&link.space_id, &user.user_id).await?;
        }
        self.sessions.end_sessions_of(&user.user_id).await?;
        self.users.delete_user(user).await?;
        tracing::info!(user_id = %user.user_id, "account deleted");
        Ok(())
    }
}
