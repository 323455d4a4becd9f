//! Roster sync: a course's members at the platform (NRPS) against the members of the space linked
//! to that course.
//!
//! - joiners (active at the platform, not in the space) are added, their user found or created by
//!   the platform's subject per issuer — never matched to an account by e-mail;
//! - leavers (absent, inactive or deleted at the platform) are removed, but only memberships that
//!   came from this course: the space's host and anyone added by hand stay;
//! - roles follow the platform's ([`role_for`]) on memberships that came from this course.
//!
//! Each change is one conditional write of its own ([`RosterStore`]): a run that stops half way,
//! or two runs at once, leave every member consistent, and a second run changes nothing.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use serde::Serialize;

use super::{
    model::{ContextLink, Registration},
    services::{LtiServices, MemberStatus, PlatformMember, RosterBounds, ServiceClient, ServiceError},
};
use crate::{
    error::StoreError,
    spaces::Role,
    types::{SpaceId, UserId},
};

/// The LIS role names that manage a course (`.../membership#Instructor`,
/// `.../membership/Instructor#TeachingAssistant`, `.../institution/person#Administrator`, or the
/// short `Instructor` LTI 1.3 allows). Matched on the name after the last `#` or `/`.
const MANAGING: [&str; 4] = ["Instructor", "Administrator", "TeachingAssistant", "ContentDeveloper"];

/// The space role of a platform member: co-host when any of their roles manages the course
/// (Instructor, TeachingAssistant, Administrator, ContentDeveloper), participant otherwise.
/// Never host: a space has one host, its owner, and a sync does not hand it over.
pub fn role_for(roles: &[String]) -> Role {
    let manages = roles.iter().any(|uri| {
        let name = uri.rsplit(['#', '/']).next().unwrap_or(uri);
        MANAGING.contains(&name)
    });
    if manages { Role::CoHost } else { Role::Participant }
}

/// A member of the linked space, as a sync sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceMember {
    pub user_id: UserId,
    pub role: Role,
    /// The platform subject, when the membership came from this course (a sync or a launch);
    /// `None` for the host and for members added by hand.
    pub from_context: Option<String>,
}

/// One change a sync makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Add { member: PlatformMember, role: Role },
    Remove { user_id: UserId, sub: String },
    SetRole { user_id: UserId, sub: String, role: Role },
}

/// What a sync changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncCounts {
    pub added: u32,
    pub removed: u32,
    pub updated: u32,
}

/// The changes that bring the space in line with the platform's roster, joiners first (by
/// subject), then leavers and role changes. `host` is the space's owner: never changed.
pub fn plan(platform: &[PlatformMember], space: &[SpaceMember], host: &UserId) -> Vec<Change> {
    // One entry per subject: a platform listing a subject twice counts it active if any is.
    let mut active: BTreeMap<&str, &PlatformMember> = BTreeMap::new();
    for m in platform.iter().filter(|m| m.status == MemberStatus::Active && !m.user_id.is_empty()) {
        active.entry(m.user_id.as_str()).or_insert(m);
    }
    let present: HashSet<&str> = space.iter().filter_map(|m| m.from_context.as_deref()).collect();
    let mut changes: Vec<Change> = active
        .values()
        .filter(|m| !present.contains(m.user_id.as_str()))
        .map(|m| Change::Add { member: (*m).clone(), role: role_for(&m.roles) })
        .collect();
    for m in space.iter().filter(|m| m.user_id != *host && m.role != Role::Host) {
        let Some(sub) = &m.from_context else { continue };
        match active.get(sub.as_str()) {
            None => changes.push(Change::Remove { user_id: m.user_id.clone(), sub: sub.clone() }),
            Some(p) => {
                let role = role_for(&p.roles);
                if role != m.role {
                    changes.push(Change::SetRole { user_id: m.user_id.clone(), sub: sub.clone(), role });
                }
            }
        }
    }
    changes
}

/// The space's side of a sync. Each write is conditional and atomic on its own.
#[async_trait]
pub trait RosterStore: Send + Sync {
    /// Every member of the space, each with the course subject it came from, if any.
    async fn roster_members(&self, space: &SpaceId) -> Result<Vec<SpaceMember>, StoreError>;
    /// Finds the user of (`issuer`, the member's `user_id`) or creates one (never matched by
    /// e-mail), and adds them to the space with `role`, marked as from the course, in one
    /// transaction. `Ok(false)` when they are a member already (by hand, or by a sync that ran
    /// at the same time).
    async fn add_from_context(
        &self,
        space: &SpaceId,
        issuer: &str,
        member: &PlatformMember,
        role: Role,
        now: &str,
    ) -> Result<bool, StoreError>;
    /// Removes the membership if it still came from the course as `sub`; `Ok(false)` otherwise.
    async fn remove_from_context(&self, space: &SpaceId, user: &UserId, sub: &str) -> Result<bool, StoreError>;
    /// Sets the role if the membership still came from the course as `sub` and is not the host;
    /// `Ok(false)` otherwise.
    async fn set_context_role(&self, space: &SpaceId, user: &UserId, sub: &str, role: Role)
    -> Result<bool, StoreError>;
}

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Platform(#[from] ServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a linked space's roster comes from: the link's platform, client and NRPS URL.
#[derive(Debug, Clone)]
pub struct RosterSource {
    pub issuer: String,
    pub client: ServiceClient,
    /// The launch's `context_memberships_url`.
    pub memberships_url: String,
}

impl RosterSource {
    /// The roster of a linked course, through its registration; `None` when the course's launches
    /// offered no NRPS.
    pub fn of(link: &ContextLink, registration: &Registration) -> Option<Self> {
        let nrps = link.nrps.as_ref()?;
        Some(Self {
            issuer: link.context.issuer.clone(),
            client: ServiceClient::of(registration),
            memberships_url: nrps.context_memberships_url.clone(),
        })
    }
}

/// Reads the course's roster and applies it to `space` (hosted by `host`): what the launch calls
/// after an instructor's launch and `POST /spaces/{spaceId}/lti/roster-sync` calls on demand.
pub async fn sync_roster(
    services: &dyn LtiServices,
    store: &dyn RosterStore,
    source: &RosterSource,
    space: &SpaceId,
    host: &UserId,
    bounds: RosterBounds,
    now: &str,
) -> Result<SyncCounts, SyncError> {
    let platform = services.members(&source.client, &source.memberships_url, bounds).await?;
    let members = store.roster_members(space).await?;
    let mut counts = SyncCounts::default();
    for change in plan(&platform, &members, host) {
        match change {
            Change::Add { member, role } => {
                if store.add_from_context(space, &source.issuer, &member, role, now).await? {
                    counts.added += 1;
                }
            }
            Change::Remove { user_id, sub } => {
                if store.remove_from_context(space, &user_id, &sub).await? {
                    counts.removed += 1;
                }
            }
            Change::SetRole { user_id, sub, role } => {
                if store.set_context_role(space, &user_id, &sub, role).await? {
                    counts.updated += 1;
                }
            }
        }
    }
    tracing::info!(%space, added = counts.added, removed = counts.removed, updated = counts.updated, "roster synced");
    Ok(counts)
}

#[cfg(test)]
#[path = "roster_tests.rs"]
mod tests;
