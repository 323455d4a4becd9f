//! The LTI roster worker, invoked asynchronously by `POST /lti/launch` after a launch by someone
//! who manages the course (at most once per course in ten minutes): the course's roster (LTI
//! NRPS) applied to its space — joiners added, leavers removed, roles updated — exactly as the
//! host's `POST /spaces/{spaceId}/lti/roster-sync` applies it ([`sync_roster`]). The course's
//! link is read by its own key, consistently ([`RosterSource::of_course`]: the event names the
//! course), so the link a course's first launch has just written is found; an event that names
//! no course (sent before it did) finds it through the space ([`RosterSource::of_space`], GSI1,
//! eventually consistent) and fails, for Lambda to retry, when a space made in the last
//! [`LINK_INDEX_GRACE_SECS`] has none there yet. A second run changes nothing. A space with no
//! course (or whose course is linked to another space), registration or roster service, or a
//! roster the platform refuses for good, ends the run without error (logged: a retry would meet
//! the same); a store failure or a platform that is down for now fails it, so Lambda retries it
//! and then keeps it in the on-failure destination.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use vivid_domain::{
    error::StoreError,
    lti::{
        model::{LinkStore, RegistrationStore},
        roster::{
            LINK_INDEX_GRACE_SECS, NoRoster, RosterSource, RosterStore, SyncError, link_may_be_unindexed, sync_roster,
        },
        services::{LtiServices, RosterBounds},
    },
    spaces::SpaceStore,
    types::{now_rfc3339, unix_now},
};

use crate::{EventError, EventHandler};

/// The worker's event (`{spaceId, context}`), as `lti-launch` sends it.
pub use vivid_domain::lti::roster::RosterJob;

/// `lti-roster-worker`.
pub struct LtiRosterWorker {
    /// The space (its host, whom a sync never changes).
    pub spaces: Arc<dyn SpaceStore>,
    /// The space's course link (its NRPS URL).
    pub links: Arc<dyn LinkStore>,
    /// The link's platform registration (its token endpoint and client id).
    pub registrations: Arc<dyn RegistrationStore>,
    /// The space's members, changed one conditional write at a time.
    pub roster: Arc<dyn RosterStore>,
    /// The platform's NRPS, through the tool's signed client assertion.
    pub services: Arc<dyn LtiServices>,
}

/// What a run came to, answered to the invoker (and logged).
fn outcome(outcome: &str) -> Value {
    json!({ "outcome": outcome })
}

#[async_trait]
impl EventHandler for LtiRosterWorker {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        let job: RosterJob = serde_json::from_value(event).map_err(|e| EventError::Malformed(e.to_string()))?;
        let space = &job.space_id;
        let Some(found) = self.spaces.get_space(space).await?.filter(|s| !s.deleting) else {
            tracing::info!(%space, "the space is gone: no roster to sync");
            return Ok(outcome("no_space"));
        };
        let (links, registrations) = (self.links.as_ref(), self.registrations.as_ref());
        let source = match &job.context {
            Some(context) => RosterSource::of_course(links, registrations, context, space).await,
            None => RosterSource::of_space(links, registrations, space).await,
        };
        let source = match source {
            Ok(source) => source,
            Err(NoRoster::Store(e)) => return Err(e.into()),
            // An event naming no course, on a space made a moment ago: its link may not be in
            // the index yet. Lambda tries again.
            Err(NoRoster::NotLinked)
                if job.context.is_none() && link_may_be_unindexed(&found.created_at, unix_now()) =>
            {
                tracing::info!(%space, "no course link found through the space yet: to retry");
                let young = format!("no course link in the index yet (space under {LINK_INDEX_GRACE_SECS} s old)");
                return Err(StoreError::unavailable(young).into());
            }
            Err(e) => {
                let said = match e {
                    NoRoster::NotLinked => "not_linked",
                    NoRoster::NotRegistered => "not_registered",
                    _ => "no_roster_service",
                };
                tracing::info!(%space, reason = %e, "no roster to sync");
                return Ok(outcome(said));
            }
        };
        let synced = sync_roster(
            self.services.as_ref(),
            self.roster.as_ref(),
            &source,
            space,
            &found.host_id,
            RosterBounds::default(),
            &now_rfc3339(),
        )
        .await;
        match synced {
            // `sync_roster` logs the counts.
            Ok(counts) => Ok(json!({
                "outcome": "synced",
                "added": counts.added,
                "removed": counts.removed,
                "updated": counts.updated,
                "skipped": counts.skipped,
                "failed": counts.failed.len(),
            })),
            Err(SyncError::Store(e)) => Err(e.into()),
            // Down or throttled for now: Lambda tries again. No token or URL in the message.
            Err(SyncError::Platform(e)) if e.is_transient() => Err(EventError::Platform(format!("roster sync: {e}"))),
            // Refused, gone, unreadable or too long: the same again on a retry. The host's
            // on-demand sync answers which.
            Err(SyncError::Platform(e)) => {
                tracing::warn!(%space, error = %e, "the course's roster could not be synced after the launch");
                Ok(outcome("platform_refused"))
            }
        }
    }
}
