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
//!
//! A sync runs on demand (`POST /spaces/{spaceId}/lti/roster-sync`, the host) and after a launch
//! by someone who manages the course ([`start_after_launch`]: the `lti-roster-worker` function,
//! started without waiting, at most once per course in [`LAUNCH_SYNC_EVERY_SECS`]); the route
//! finds the space's roster through [`RosterSource::of_space`], the worker through
//! [`RosterSource::of_course`] (the course its event names, read by the link's own key: the link
//! a first launch has just written is found), and both apply it with [`sync_roster`].

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    model::{ContextKey, ContextLink, LinkStore, Registration, RegistrationStore},
    services::{LtiServices, MemberStatus, PlatformMember, RosterBounds, ServiceClient, ServiceError},
};
use crate::{
    error::StoreError,
    imports::InvokeError,
    spaces::Role,
    types::{SpaceId, UserId, rfc3339_at},
};

/// The LIS vocabulary's root (LTI 1.3 appendix A.2).
const LIS: &str = "http://purl.imsglobal.org/vocab/lis/v2/";
/// The context roles that manage a course: these, and their sub-roles
/// (`membership/Instructor#TeachingAssistant`, `membership/Administrator#...`).
const MANAGING: [&str; 3] = ["Instructor", "Administrator", "ContentDeveloper"];

/// Whether one of the LTI roles makes a person a manager of the course's space (co-host; the
/// space's creator is its host). Read strictly, per LTI 1.3 appendix A.2:
///
/// - context roles `http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor`,
///   `#Administrator`, `#ContentDeveloper`, and their sub-roles
///   `.../membership/Instructor#TeachingAssistant` (any sub-role of those three);
/// - the short context role names LTI 1.3 still allows (`Instructor`, `Administrator`,
///   `ContentDeveloper`; `TeachingAssistant` too, as platforms send it for the sub-role);
/// - the system (`.../system/person#Administrator`, `#SysAdmin`) and institution
///   (`.../institution/person#Administrator`) administrators: they administer the LMS itself and
///   can enrol themselves as the course's instructor at will, so co-host gives them nothing they
///   could not take; an institution's `Instructor` is not this course's and is a participant.
///
/// Anything else — another vocabulary, a Learner's sub-role named `#Instructor`, a URI that only
/// ends in `Instructor` — manages nothing. The launch (`launch::joining_role`) and the roster sync
/// ([`role_for`]) both read roles through this one function.
pub fn manages(roles: &[String]) -> bool {
    roles.iter().map(|r| r.trim()).any(|r| {
        let Some(rest) = r.strip_prefix(LIS) else {
            return MANAGING.contains(&r) || r == "TeachingAssistant";
        };
        if let Some(name) = rest.strip_prefix("membership#") {
            return MANAGING.contains(&name);
        }
        if let Some(sub) = rest.strip_prefix("membership/") {
            return sub.split_once('#').is_some_and(|(parent, child)| MANAGING.contains(&parent) && !child.is_empty());
        }
        if let Some(name) = rest.strip_prefix("system/person#") {
            return matches!(name, "Administrator" | "SysAdmin");
        }
        rest.strip_prefix("institution/person#") == Some("Administrator")
    })
}

/// The space role of a platform member: co-host when they manage the course ([`manages`]),
/// participant otherwise. Never host: a space has one host, its owner, and a sync does not hand
/// it over.
pub fn role_for(roles: &[String]) -> Role {
    if manages(roles) { Role::CoHost } else { Role::Participant }
}

/// A member of the linked space, as a sync sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceMember {
    pub user_id: UserId,
    pub role: Role,
    /// The platform subject, when the membership came from THIS course (a sync or a launch of
    /// the same context); `None` for the host, members added by hand and members that came from
    /// another course (another context, another platform).
    pub from_context: Option<String>,
}

/// One change a sync makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Add { member: PlatformMember, role: Role },
    Remove { user_id: UserId, sub: String },
    SetRole { user_id: UserId, sub: String, role: Role },
}

impl Change {
    /// The platform subject the change is for.
    fn subject(&self) -> &str {
        match self {
            Self::Add { member, .. } => &member.user_id,
            Self::Remove { sub, .. } | Self::SetRole { sub, .. } => sub,
        }
    }
}

/// A change that failed; the sync went on with the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedChange {
    /// The platform's `user_id` of the member.
    pub subject: String,
    pub reason: String,
}

/// What a sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncCounts {
    pub added: u32,
    pub removed: u32,
    pub updated: u32,
    /// Joiners the space's host removed by hand (`REMOVED#`): a sync does not bring them back.
    /// Left out of the JSON when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped: u32,
    /// Changes that failed (the others were applied); a later sync tries them again. Left out of
    /// the JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<FailedChange>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How a joiner's addition went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    Added,
    /// A member already (by hand, a launch, or a sync running at the same time).
    AlreadyMember,
    /// The space's host removed them: the removal sticks.
    RemovedByHost,
}

/// The most removals a sync makes without question: more than this AND more than half of the
/// course's members in the space is refused (`ServiceError::Unreadable`; docs/quotas.md), so a
/// platform answering an empty or truncated roster does not empty the space.
pub const REMOVALS_UNQUESTIONED: usize = 5;

/// The changes that bring the space in line with the platform's roster: leavers first (a
/// member's seat is freed before anyone joins), then role changes, then joiners (by subject).
/// `host` is the space's owner: never changed. `space` lists only this course's members with a
/// subject ([`SpaceMember::from_context`]).
pub fn plan(platform: &[PlatformMember], space: &[SpaceMember], host: &UserId) -> Vec<Change> {
    // One entry per subject: a platform listing a subject twice counts it active if any is.
    let mut active: BTreeMap<&str, &PlatformMember> = BTreeMap::new();
    for m in platform.iter().filter(|m| m.status == MemberStatus::Active && !m.user_id.is_empty()) {
        active.entry(m.user_id.as_str()).or_insert(m);
    }
    let present: HashSet<&str> = space.iter().filter_map(|m| m.from_context.as_deref()).collect();
    let mut removals = Vec::new();
    let mut roles = Vec::new();
    for m in space.iter().filter(|m| m.user_id != *host && m.role != Role::Host) {
        let Some(sub) = &m.from_context else { continue };
        match active.get(sub.as_str()) {
            None => removals.push(Change::Remove { user_id: m.user_id.clone(), sub: sub.clone() }),
            Some(p) => {
                let role = role_for(&p.roles);
                if role != m.role {
                    roles.push(Change::SetRole { user_id: m.user_id.clone(), sub: sub.clone(), role });
                }
            }
        }
    }
    let joiners = active
        .values()
        .filter(|m| !present.contains(m.user_id.as_str()))
        .map(|m| Change::Add { member: (*m).clone(), role: role_for(&m.roles) });
    removals.into_iter().chain(roles).chain(joiners).collect()
}

/// Whether a plan removes too many of the course's members to be trusted (see
/// [`REMOVALS_UNQUESTIONED`]): `Some((removals, members))` when it does.
pub fn too_many_removals(changes: &[Change], space: &[SpaceMember]) -> Option<(usize, usize)> {
    let removals = changes.iter().filter(|c| matches!(c, Change::Remove { .. })).count();
    let members = space.iter().filter(|m| m.from_context.is_some()).count();
    (removals > REMOVALS_UNQUESTIONED && removals * 2 > members).then_some((removals, members))
}

/// The space's side of a sync. Each write is conditional and atomic on its own. `context` is the
/// course's key ([`super::model::ContextKey::hash`]): a membership is the course's when it
/// carries both that context and a subject.
#[async_trait]
pub trait RosterStore: Send + Sync {
    /// Every member of the space; `from_context` set only on memberships from `context`.
    async fn roster_members(&self, space: &SpaceId, context: &str) -> Result<Vec<SpaceMember>, StoreError>;
    /// Finds the user of (`issuer`, the member's `user_id`) or creates one (never matched by
    /// e-mail), and adds them to the space with `role`, marked as from the course (`context`
    /// and subject), in one transaction — unless they are a member already or the host removed
    /// them (`REMOVED#`).
    async fn add_from_context(
        &self,
        space: &SpaceId,
        issuer: &str,
        context: &str,
        member: &PlatformMember,
        role: Role,
        now: &str,
    ) -> Result<Joined, StoreError>;
    /// Removes the membership if it still came from the course (`context`, `sub`); `Ok(false)`
    /// otherwise.
    async fn remove_from_context(
        &self,
        space: &SpaceId,
        user: &UserId,
        context: &str,
        sub: &str,
    ) -> Result<bool, StoreError>;
    /// Sets the role if the membership still came from the course (`context`, `sub`) and is not
    /// the host; `Ok(false)` otherwise.
    async fn set_context_role(
        &self,
        space: &SpaceId,
        user: &UserId,
        context: &str,
        sub: &str,
        role: Role,
    ) -> Result<bool, StoreError>;
}

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Platform(#[from] ServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a linked space's roster comes from: the link's platform, course, client and NRPS URL.
#[derive(Debug, Clone)]
pub struct RosterSource {
    pub issuer: String,
    /// The course's key ([`super::model::ContextKey::hash`]), kept on its memberships.
    pub context: String,
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
            context: link.context.hash(),
            client: ServiceClient::of(registration),
            memberships_url: nrps.context_memberships_url.clone(),
        })
    }

    /// The roster of the course `space` is linked to: its link (GSI1, eventually consistent: a
    /// link written a moment ago may not be found yet), the link's registration, and the NRPS
    /// URL its launches offered. The host's route starts here, and the worker on an event that
    /// names no course ([`RosterJob::context`]).
    pub async fn of_space(
        links: &dyn LinkStore,
        registrations: &dyn RegistrationStore,
        space: &SpaceId,
    ) -> Result<Self, NoRoster> {
        let link = links.context_of_space(space).await?.ok_or(NoRoster::NotLinked)?;
        Self::of_link(registrations, &link).await
    }

    /// The roster of the course `context` while its link names `space`: the link read by its own
    /// key (`LTICTX#{contextHash}`, strongly consistent: the link a launch has just written is
    /// found), then as [`Self::of_space`]. A course linked to another space since (the event's
    /// space was replaced) is [`NoRoster::NotLinked`] for `space`. The roster worker starts here.
    pub async fn of_course(
        links: &dyn LinkStore,
        registrations: &dyn RegistrationStore,
        context: &ContextKey,
        space: &SpaceId,
    ) -> Result<Self, NoRoster> {
        let link = links.context_link(context).await?.filter(|l| l.space_id == *space).ok_or(NoRoster::NotLinked)?;
        Self::of_link(registrations, &link).await
    }

    async fn of_link(registrations: &dyn RegistrationStore, link: &ContextLink) -> Result<Self, NoRoster> {
        let ctx = &link.context;
        let registration =
            registrations.registration(&ctx.issuer, &ctx.client_id).await?.ok_or(NoRoster::NotRegistered)?;
        Self::of(link, &registration).ok_or(NoRoster::NoService)
    }
}

/// How long after a space was made a course link not found through the space (GSI1, eventually
/// consistent) may still be on its way to the index: the roster worker, on an event that names
/// no course (one sent before [`RosterJob::context`] existed), fails a run that finds no link for
/// a space this young, so that Lambda tries again (a minute on, then two more), rather than
/// ending it as `not_linked` while the launch's record holds the course's next sync off for ten
/// minutes. Lambda's last retry comes after this, so a space truly linked to nothing still ends.
pub const LINK_INDEX_GRACE_SECS: u64 = 120;

/// Whether a space made at `created_at` (RFC 3339, as the store keeps it) is young enough at
/// `now` (epoch seconds) that its course link may not be in the index yet
/// ([`LINK_INDEX_GRACE_SECS`]; a made-at time at the cutoff or later is).
pub fn link_may_be_unindexed(created_at: &str, now: u64) -> bool {
    created_at >= rfc3339_at(now.saturating_sub(LINK_INDEX_GRACE_SECS)).as_str()
}

/// Why a space has no roster to sync from ([`RosterSource::of_space`]).
#[derive(Debug, thiserror::Error)]
pub enum NoRoster {
    /// The space is linked to no course.
    #[error("the space is linked to no LMS course")]
    NotLinked,
    /// The course's platform is no longer registered.
    #[error("the course's LMS is no longer registered")]
    NotRegistered,
    /// The course's launches offered no roster service (NRPS).
    #[error("the course's launches offered no roster service (NRPS)")]
    NoService,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// After a launch by someone who manages the course, a course's roster is synced at most once in
/// this many seconds (however many instructors launch): the first such launch starts the worker,
/// the others within the window start nothing. The host's `POST …/roster-sync` is not held off.
pub const LAUNCH_SYNC_EVERY_SECS: u64 = 600;

/// The epoch second a course's last launch-started sync must have started before for a launch
/// at `now` to start another: one that started at the cutoff or later holds it off.
pub fn launch_sync_cutoff(now: u64) -> u64 {
    now.saturating_sub(LAUNCH_SYNC_EVERY_SECS)
}

/// Whether a launch at `now` starts a sync of a course whose last launch-started sync began at
/// `last` (`None`: never, or so long ago that its record expired): more than
/// [`LAUNCH_SYNC_EVERY_SECS`] ago. [`LaunchSyncs::claim_launch_sync`] applies this rule
/// atomically.
pub fn launch_sync_due(last: Option<u64>, now: u64) -> bool {
    last.is_none_or(|started| started < launch_sync_cutoff(now))
}

/// The record of a course's launch-started syncs: when the last one started.
#[async_trait]
pub trait LaunchSyncs: Send + Sync {
    /// Records that a sync of the course `context` (its context key hash) starts at `now` when
    /// [`launch_sync_due`] says so, in one conditional write: `true` when this call recorded it.
    /// Of launches at the same moment, one gets `true`.
    async fn claim_launch_sync(&self, context: &str, now: u64) -> Result<bool, StoreError>;
    /// Takes back the record of a start at `started` (the worker could not be started), so that
    /// the course's next managing launch tries again; a later record is left as it is.
    async fn release_launch_sync(&self, context: &str, started: u64) -> Result<(), StoreError>;
}

/// The roster worker's event (`lti-roster-worker`): the space whose course roster to apply, and
/// the course it is linked to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterJob {
    pub space_id: SpaceId,
    /// The launch's course: the worker reads its link by the link's own key, consistently
    /// ([`RosterSource::of_course`]), so that a course's first launch, which has just written the
    /// link, is synced. `None` in an event sent before it was added: the worker then finds the
    /// link through the space ([`RosterSource::of_space`], GSI1) and retries a young space's
    /// missing link ([`link_may_be_unindexed`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextKey>,
}

/// Starts the roster worker without waiting for it: a Lambda `Event` invocation in AWS (the
/// launch never waits for the LMS's roster).
#[async_trait]
pub trait RosterInvoker: Send + Sync {
    async fn start(&self, job: &RosterJob) -> Result<(), InvokeError>;
}

/// What a managing launch did about its course's roster ([`start_after_launch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchSync {
    /// The worker was started.
    Started,
    /// A sync of the course started less than [`LAUNCH_SYNC_EVERY_SECS`] ago: none started.
    Recent,
    /// The record or the worker failed (logged): none started, and the launch goes on.
    NotStarted,
}

/// After a launch by someone who manages the course `context`, linked to `space`, whose launches
/// offer NRPS: starts the roster worker on both ([`RosterJob`]) unless a sync of the course
/// started in the last [`LAUNCH_SYNC_EVERY_SECS`] (one conditional write on the course's context
/// key hash decides, then one asynchronous invocation). Never fails the launch: a failure is
/// logged, and a record whose worker could not be started is taken back.
pub async fn start_after_launch(
    syncs: &dyn LaunchSyncs,
    worker: &dyn RosterInvoker,
    context: &ContextKey,
    space: &SpaceId,
    now: u64,
) -> LaunchSync {
    let course = context.hash();
    match syncs.claim_launch_sync(&course, now).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(%space, "the course's roster was synced after a launch less than ten minutes ago");
            return LaunchSync::Recent;
        }
        Err(e) => {
            tracing::warn!(%space, error = %e, "the roster sync after the launch could not be recorded: not started");
            return LaunchSync::NotStarted;
        }
    }
    let job = RosterJob { space_id: space.clone(), context: Some(context.clone()) };
    if let Err(e) = worker.start(&job).await {
        tracing::warn!(%space, error = %e, "the roster sync after the launch could not be started");
        if let Err(e) = syncs.release_launch_sync(&course, now).await {
            tracing::warn!(%space, error = %e, "the roster sync's record could not be taken back");
        }
        return LaunchSync::NotStarted;
    }
    tracing::info!(%space, "roster sync started after a managing launch");
    LaunchSync::Started
}

/// Reads the course's roster and applies it to `space` (hosted by `host`): what the roster worker
/// runs after a managing launch and `POST /spaces/{spaceId}/lti/roster-sync` runs on demand.
///
/// Leavers first, then role changes, then joiners; a change that fails is reported in
/// [`SyncCounts::failed`] and the others are still applied. A roster that would remove more than
/// [`REMOVALS_UNQUESTIONED`] members and more than half of the course's is refused
/// (`ServiceError::Unreadable`), nothing changed.
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
    let members = store.roster_members(space, &source.context).await?;
    let changes = plan(&platform, &members, host);
    if let Some((removals, of)) = too_many_removals(&changes, &members) {
        tracing::warn!(%space, removals, of, listed = platform.len(), "roster sync refused: it would empty the space");
        return Err(ServiceError::Unreadable(format!(
            "the platform's roster lists {} members and would remove {removals} of the course's {of} in the space: \
             refused as a likely incomplete answer",
            platform.len()
        ))
        .into());
    }
    let mut counts = SyncCounts::default();
    for change in changes {
        let subject = change.subject().to_owned();
        let applied = match change {
            Change::Add { member, role } => {
                match store.add_from_context(space, &source.issuer, &source.context, &member, role, now).await {
                    Ok(joined) => {
                        counts.added += u32::from(joined == Joined::Added);
                        counts.skipped += u32::from(joined == Joined::RemovedByHost);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Change::Remove { user_id, sub } => {
                store.remove_from_context(space, &user_id, &source.context, &sub).await.map(|done| {
                    counts.removed += u32::from(done);
                })
            }
            Change::SetRole { user_id, sub, role } => {
                store.set_context_role(space, &user_id, &source.context, &sub, role).await.map(|done| {
                    counts.updated += u32::from(done);
                })
            }
        };
        if let Err(e) = applied {
            tracing::warn!(%space, error = %e, "a roster change failed; the sync goes on");
            counts.failed.push(FailedChange { subject, reason: e.to_string() });
        }
    }
    tracing::info!(
        %space, added = counts.added, removed = counts.removed, updated = counts.updated,
        skipped = counts.skipped, failed = counts.failed.len(), "roster synced"
    );
    Ok(counts)
}

#[cfg(test)]
#[path = "roster_tests.rs"]
mod tests;
