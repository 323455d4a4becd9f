//! Spaces and their members.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    coverage::{CompletionThreshold, KAnonymity},
    error::StoreError,
    page::{Page, PageKey},
    types::{Description, Limit, SpaceId, SpaceName, UserId},
    video::Visibility,
};

/// A member's role in a space. The host owns it (deletes it, changes roles, transfers it);
/// co-hosts manage its videos, invitations and participants and see class progress;
/// participants study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    #[serde(rename = "host")]
    Host,
    #[serde(rename = "co-host")]
    CoHost,
    #[serde(rename = "participant")]
    Participant,
}

impl Role {
    /// Whether the role manages the space's videos, invitations and participants.
    pub fn manages(self) -> bool {
        matches!(self, Role::Host | Role::CoHost)
    }

    /// The role's name on the wire and in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Host => "host",
            Role::CoHost => "co-host",
            Role::Participant => "participant",
        }
    }
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
    /// Whether its lectures are transcribed automatically (off unless the host turns it on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcription: Option<crate::transcripts::Transcription>,
    /// The watched share that completes a video here (absent: 90 %; a host's setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_threshold: Option<CompletionThreshold>,
    /// The fewest distinct students the class study map shows a count for (absent: 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_map_k: Option<KAnonymity>,
    /// How new videos and imports start (absent: published; a host's setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_visibility: Option<Visibility>,
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
            transcription: None,
            completion_threshold: None,
            study_map_k: None,
            default_visibility: None,
        }
    }

    /// How a new video or import of this space starts: published, or a draft.
    pub fn new_video_visibility(&self) -> Visibility {
        self.default_visibility.unwrap_or_default()
    }

    /// The watched share that completes a video in this space.
    pub fn completion(&self) -> CompletionThreshold {
        self.completion_threshold.unwrap_or_default()
    }

    /// The fewest distinct students a count of this space's study map may stand for.
    pub fn study_k(&self) -> KAnonymity {
        self.study_map_k.unwrap_or_default()
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

/// A member's standing in the class: kept on their membership by every progress write and
/// video deletion (docs/data-model.md), so reading a class costs no scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Standing {
    /// Videos of the space the member has completed (completion is sticky).
    #[serde(default)]
    pub completed_videos: u32,
    /// The sum of the member's progress rates over the space's videos.
    #[serde(default)]
    pub progress_sum: u64,
    /// The member's last progress write in the space.
    #[serde(default)]
    pub last_access_at: Option<String>,
}

impl Standing {
    /// The member's progress through the space's `videos` videos, in percent (one decimal).
    pub fn percent(&self, videos: u32) -> f64 {
        if videos == 0 {
            return 0.0;
        }
        let percent = self.progress_sum as f64 / f64::from(videos);
        (percent.clamp(0.0, 100.0) * 10.0).round() / 10.0
    }
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
    pub transcription: Option<crate::transcripts::Transcription>,
    pub completion_threshold: Option<CompletionThreshold>,
    pub study_map_k: Option<KAnonymity>,
    pub default_visibility: Option<Visibility>,
}

#[async_trait]
pub trait SpaceStore: Send + Sync {
    /// Creates the space and its host's membership, and counts it among the host's spaces, in
    /// one transaction: `Condition(Quota)` when they already host `hosted_limit` spaces,
    /// `Condition(Account)` when the host's account is gone (a deleted account's live token).
    async fn create_space(&self, space: &Space, host: &Membership, hosted_limit: u64) -> Result<(), StoreError>;
    /// The space alone (a tombstoned one too); `None` when there is no space.
    async fn get_space(&self, space: &SpaceId) -> Result<Option<Space>, StoreError>;
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
    /// Adds a membership and counts it, atomically (a manager's addition: it also lifts a
    /// removal recorded by [`SpaceStore::remove_member`]). `Condition(Membership)` if it exists,
    /// `Condition(Space)` if the space is gone.
    async fn add_member(&self, membership: &Membership) -> Result<(), StoreError>;
    /// Removes a participant's or co-host's membership and counts it, atomically;
    /// `Condition(Membership)` when there is no such member or it is the host. A removal by a
    /// manager (`removed_by_manager`; not a member leaving) also records, in the same
    /// transaction, that the user was removed: they cannot rejoin with a shareable code until a
    /// manager adds them or an e-mail invitation made after the removal admits them.
    async fn remove_member(&self, space: &SpaceId, user: &UserId, removed_by_manager: bool) -> Result<(), StoreError>;
    /// Withdraws (`revokedAt` = `now`) every invitation of the space that `creator` made and
    /// that is still open: called once they no longer manage the space (demoted, removed, left).
    /// Returns how many were withdrawn; safe to call again.
    async fn withdraw_invitations_of(&self, space: &SpaceId, creator: &UserId, now: &str) -> Result<usize, StoreError>;
    /// Gives a member who is not the host another role that is not host;
    /// `Condition(Membership)` when there is no such member or it is the host.
    async fn set_role(&self, space: &SpaceId, user: &UserId, role: Role) -> Result<Membership, StoreError>;
    /// Hands a live, shared space from its host `from` to the member `to`, atomically: the space
    /// names `to` as host, `to` becomes host, `from` co-host, and the space is counted among
    /// `to`'s hosted spaces (at most `hosted_limit`) instead of `from`'s.
    /// `Condition(Space)` when the space is gone or `from` no longer hosts it,
    /// `Condition(Membership)` when `to` is not a member, `Condition(Quota)` when `to` already
    /// hosts `hosted_limit` spaces.
    async fn transfer_space(
        &self,
        space: &SpaceId,
        from: &UserId,
        to: &UserId,
        hosted_limit: u64,
    ) -> Result<(), StoreError>;
    /// A page of the space's members with their standing in the class.
    async fn standings(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<(Membership, Standing)>, StoreError>;
    /// The user-content object keys a member's per-video data in a space points at (snapshots,
    /// large drawings), without deleting anything.
    async fn member_objects(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError>;
    /// Deletes a member's per-video data in a space (progress, snapshots, notes); returns the
    /// user-content object keys those items pointed at.
    async fn purge_member_data(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError>;
}

/// Who a shared space passes to when its host's account is deleted: the longest-standing
/// co-host (the earliest `joinedAt`, then the smaller id) other than the one `leaving`, if it has
/// one. Reads every member.
pub async fn successor(
    spaces: &dyn SpaceStore,
    space: &SpaceId,
    leaving: &UserId,
) -> Result<Option<UserId>, StoreError> {
    let mut best: Option<Membership> = None;
    let mut start = None;
    loop {
        let page = spaces.members(space, Limit::clamped(100), start).await?;
        for m in page.items.into_iter().filter(|m| m.role == Role::CoHost && m.user_id != *leaving) {
            let earlier = best.as_ref().is_none_or(|b| (&m.joined_at, &m.user_id) < (&b.joined_at, &b.user_id));
            if earlier {
                best = Some(m);
            }
        }
        start = page.next;
        if start.is_none() {
            return Ok(best.map(|m| m.user_id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Standing;

    #[test]
    fn a_standing_averages_over_the_space_s_videos() {
        let s = Standing { completed_videos: 1, progress_sum: 150, last_access_at: None };
        assert_eq!(s.percent(2), 75.0);
        assert_eq!(s.percent(3), 50.0);
        assert_eq!(s.percent(7), 21.4);
        assert_eq!(s.percent(0), 0.0, "no video, nothing to progress through");
        assert_eq!(s.percent(1), 100.0, "a deleted video's progress never shows above 100");
    }
}
