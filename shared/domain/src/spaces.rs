//! Spaces and their members.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    error::StoreError,
    page::{Page, PageKey},
    types::{Description, Limit, SpaceId, SpaceName, UserId},
};

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
pub trait SpaceStore: Send + Sync {
    /// Creates the space and its host's membership, and counts it among the host's spaces, in
    /// one transaction: `Condition(Quota)` when they already host `hosted_limit` spaces,
    /// `Condition(Account)` when the host's account is gone (a deleted account's live token).
    async fn create_space(&self, space: &Space, host: &Membership, hosted_limit: u64) -> Result<(), StoreError>;
    /// The space and the caller's membership in one round trip; `None` when there is no space.
    async fn space_access(&self, space: &SpaceId, user: &UserId) -> Result<Option<SpaceAccess>, StoreError>;
    /// The user's memberships with their spaces, personal space first, then by joining time.
    async fn spaces_of(
        &self,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<(Membership, Space)>, StoreError>;
    /// Every membership of the user, also in spaces being deleted (for finishing that deletion):
    /// one query per page, no space reads.
    async fn memberships_of(
        &self,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Membership>, StoreError>;
    /// Applies a patch to a live space; `Condition(Space)` when it is gone.
    async fn update_space(&self, id: &SpaceId, patch: &SpacePatch, now: &str) -> Result<Space, StoreError>;
    /// Marks a space as deleting: from then on it is gone for every reader. Idempotent;
    /// `Condition(Space)` when there is no space.
    async fn tombstone_space(&self, id: &SpaceId) -> Result<(), StoreError>;
    /// Removes a tombstoned space's memberships and the space item (no longer counted among its
    /// host's spaces). Safe to call again.
    async fn sweep_space(&self, id: &SpaceId) -> Result<(), StoreError>;
    async fn members(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Membership>, StoreError>;
    /// Adds a membership and counts it, atomically. `Condition(Membership)` if it exists,
    /// `Condition(Space)` if the space is gone.
    async fn add_member(&self, membership: &Membership) -> Result<(), StoreError>;
    /// Removes a participant's membership and counts it, atomically; `Condition(Membership)`
    /// when there is no such participant.
    async fn remove_member(&self, space: &SpaceId, user: &UserId) -> Result<(), StoreError>;
    /// The user-content object keys a member's per-video data in a space points at (snapshots,
    /// large drawings), without deleting anything.
    async fn member_objects(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError>;
    /// Deletes a member's per-video data in a space (progress, snapshots, notes); returns the
    /// user-content object keys those items pointed at.
    async fn purge_member_data(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError>;
}
