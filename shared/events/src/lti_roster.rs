//! The LTI roster worker, invoked asynchronously by `POST /lti/launch` after a launch by someone
//! who manages the course (at most once per course in ten minutes): the course's roster (LTI
//! NRPS) applied to its space — joiners added, leavers removed, roles updated — exactly as the
//! host's `POST /spaces/{spaceId}/lti/roster-sync` applies it ([`RosterSource::of_space`], then
//! [`sync_roster`]). A second run changes nothing. A space with no course, registration or
//! roster service, or a roster the platform refuses for good, ends the run without error (logged:
//! a retry would meet the same); a store failure or a platform that is down for now fails it, so
//! Lambda retries it and then keeps it in the on-failure destination.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use vivid_domain::{
    lti::{
        model::{LinkStore, RegistrationStore},
        roster::{NoRoster, RosterSource, RosterStore, SyncError, sync_roster},
        services::{LtiServices, RosterBounds},
    },
    spaces::SpaceStore,
    types::now_rfc3339,
};

use crate::{EventError, EventHandler};

/// The worker's event (`{spaceId}`), as `lti-launch` sends it.
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
        let source = match RosterSource::of_space(self.links.as_ref(), self.registrations.as_ref(), space).await {
            Ok(source) => source,
            Err(NoRoster::Store(e)) => return Err(e.into()),
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
