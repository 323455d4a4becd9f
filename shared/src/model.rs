//! Entities and the ports (traits) the rules depend on. No AWS types here.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    cursor::{Page, PageKey},
    error::StoreError,
    types::{Description, Email, Limit, SnapshotId, SpaceId, SpaceName, UserId, VideoId},
    video::{Progress, Snapshot, StatusChange, Title, Video, VideoStatus, layout::MediaKind},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    pub personal_space_id: SpaceId,
    pub created_at: String,
    /// The Google account's subject, when the user signed up with Google.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Host,
    Participant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Space {
    pub space_id: SpaceId,
    pub name: SpaceName,
    pub description: Description,
    pub host_id: UserId,
    pub personal: bool,
    pub member_count: u32,
    pub video_count: u32,
    pub created_at: String,
    pub updated_at: String,
    /// Set when a delete has begun: the space is gone for every reader from then on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleting: bool,
}

impl Space {
    /// A new space hosted by `host`.
    pub fn new(name: SpaceName, description: Description, host: UserId, personal: bool, now: &str) -> Self {
        Self {
            space_id: SpaceId::generate(),
            name,
            description,
            host_id: host,
            personal,
            member_count: 1,
            video_count: 0,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            deleting: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub space_id: SpaceId,
    pub user_id: UserId,
    pub role: Role,
    /// Whether the space is the member's personal space (orders it first in their list).
    #[serde(default)]
    pub personal: bool,
    pub joined_at: String,
}

/// A space as one caller sees it: the space and the caller's membership, if any.
#[derive(Debug, Clone)]
pub struct SpaceAccess {
    pub space: Space,
    pub membership: Option<Membership>,
}

/// Changes to a space's descriptive fields.
#[derive(Debug, Clone, Default)]
pub struct SpacePatch {
    pub name: Option<SpaceName>,
    pub description: Option<Description>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user with their personal space and its host membership, and the link to their
    /// Google account when given, atomically. The e-mail address and the Google subject are
    /// unique (`Condition("email")`, `Condition("google")` when taken).
    async fn create_user(&self, user: &User, personal: &Space, google_sub: Option<&str>) -> Result<(), StoreError>;
    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// The user and whether a Webex account is connected, in one round trip.
    async fn get_profile(&self, id: &UserId) -> Result<Option<(User, bool)>, StoreError>;
    /// Users by id, in no particular order; missing ones are left out.
    async fn get_users(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError>;
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;
    /// Deletes the user's identity, atomically: profile, e-mail lock, Google link, Webex
    /// connection. The same e-mail and Google account can sign up again afterwards.
    async fn delete_user(&self, user: &User) -> Result<(), StoreError>;
}

#[async_trait]
pub trait SpaceStore: Send + Sync {
    /// Creates the space and its host's membership in one transaction.
    async fn create_space(&self, space: &Space, host: &Membership) -> Result<(), StoreError>;
    /// The space and the caller's membership in one round trip; `None` when there is no space.
    async fn space_access(&self, space: &SpaceId, user: &UserId) -> Result<Option<SpaceAccess>, StoreError>;
    /// The user's memberships with their spaces, personal space first, then by joining time.
    async fn spaces_of(
        &self,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<(Membership, Space)>, StoreError>;
    /// Applies a patch to a live space; `Condition("space")` when it is gone.
    async fn update_space(&self, id: &SpaceId, patch: &SpacePatch, now: &str) -> Result<Space, StoreError>;
    /// Marks a space as deleting: from then on it is gone for every reader. Idempotent;
    /// `Condition("space")` when there is no space.
    async fn tombstone_space(&self, id: &SpaceId) -> Result<(), StoreError>;
    /// Removes a tombstoned space's memberships and the space item. Safe to call again.
    async fn sweep_space(&self, id: &SpaceId) -> Result<(), StoreError>;
    async fn members(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Membership>, StoreError>;
    /// Adds a membership and counts it, atomically. `Condition("membership")` if it exists,
    /// `Condition("space")` if the space is gone.
    async fn add_member(&self, membership: &Membership) -> Result<(), StoreError>;
    /// Removes a participant's membership and counts it, atomically; `Condition("membership")`
    /// when there is no such participant.
    async fn remove_member(&self, space: &SpaceId, user: &UserId) -> Result<(), StoreError>;
    /// Deletes a member's per-video data in a space (progress, snapshots, notes); returns the
    /// user-content object keys those items pointed at.
    async fn purge_member_data(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError>;
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
}

#[async_trait]
pub trait VideoStore: Send + Sync {
    /// Puts the video and counts it in its space, atomically; `Condition("space")` when the
    /// space is gone.
    async fn create_video(&self, video: &Video) -> Result<(), StoreError>;
    async fn get_video(&self, id: &VideoId) -> Result<Option<Video>, StoreError>;
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
    /// Records a converted object (first thumbnail becomes the poster).
    async fn record_output(&self, id: &VideoId, kind: &MediaKind, key: &str) -> Result<(), StoreError>;
    /// Deletes the video, everyone's per-video data and its count in the space; returns the
    /// user-content object keys those items pointed at.
    async fn delete_video(&self, video: &Video) -> Result<Vec<String>, StoreError>;
    /// The cheap progress write: only when the caller's grant exists (`Ok(false)` otherwise).
    async fn touch_progress(
        &self,
        video: &VideoId,
        user: &UserId,
        rate: u8,
        position: f64,
        now: &str,
    ) -> Result<bool, StoreError>;
    /// Writes the whole progress item (and so the grant).
    async fn put_progress(&self, progress: &Progress) -> Result<(), StoreError>;
    /// The user's progress items, most recently accessed first.
    async fn recent_progress(&self, user: &UserId, limit: Limit) -> Result<Vec<Progress>, StoreError>;
    /// How many videos the user completed (progress 100).
    async fn completed_count(&self, user: &UserId) -> Result<u32, StoreError>;
    async fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError>;
    async fn snapshots(
        &self,
        video: &VideoId,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Snapshot>, StoreError>;
    /// Deletes a snapshot item; returns it (`None` when there was none).
    async fn delete_snapshot(
        &self,
        video: &VideoId,
        user: &UserId,
        id: &SnapshotId,
    ) -> Result<Option<Snapshot>, StoreError>;
    async fn videos(&self, ids: &[VideoId]) -> Result<Vec<Video>, StoreError>;
    /// Claims an `IMPORTING` video for one import run (a claim older than 15 minutes, from a run
    /// that died, may be taken over); `false` when another run has it or the video moved on.
    async fn claim_import(&self, id: &VideoId, now: &str) -> Result<bool, StoreError>;
}

impl User {
    /// A new user and their personal space ("Personal", hosted by them, not deletable).
    pub fn sign_up(email: Email, name: String, picture: Option<String>, now: &str) -> (User, Space) {
        let user_id = UserId::generate();
        let personal = Space::new(SpaceName::personal(), Description::default(), user_id.clone(), true, now);
        let user = User {
            user_id,
            email,
            name,
            picture,
            personal_space_id: personal.space_id.clone(),
            created_at: now.to_owned(),
            google_sub: None,
        };
        (user, personal)
    }
}
