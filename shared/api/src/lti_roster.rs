//! `POST /spaces/{spaceId}/lti/roster-sync` (host): the linked course's roster (LTI NRPS) applied
//! to the space now, as the roster worker does after an instructor's launch (docs/lti-services.md).

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::Serialize;

use vivid_domain::{
    access::require_host,
    lti::{
        model::{LinkStore, RegistrationStore},
        roster::{NoRoster, RosterSource, RosterStore, sync_roster},
        services::{LtiServices, RosterBounds},
    },
    spaces::SpaceStore,
    types::{SpaceId, now_rfc3339},
};
use vivid_edge::{
    ApiError,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

/// `POST /spaces/{spaceId}/lti/roster-sync`: answers `{added, removed, updated}`.
pub struct LtiRosterSync {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    /// The space's course link.
    pub links: Arc<dyn LinkStore>,
    /// The link's platform registration (its token endpoint and client id).
    pub registrations: Arc<dyn RegistrationStore>,
    pub roster: Arc<dyn RosterStore>,
    /// The platform's NRPS, through the tool's signed client assertion.
    pub services: Arc<dyn LtiServices>,
}

#[async_trait]
impl Handler for LtiRosterSync {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let host = require_host(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let source = RosterSource::of_space(self.links.as_ref(), self.registrations.as_ref(), &space_id)
            .await
            .map_err(no_roster)?;
        let counts = sync_roster(
            self.services.as_ref(),
            self.roster.as_ref(),
            &source,
            &space_id,
            &host.space.host_id,
            RosterBounds::default(),
            &now_rfc3339(),
        )
        .await?;
        let synced = Synced {
            added: counts.added,
            removed: counts.removed,
            updated: counts.updated,
            skipped: counts.skipped,
            failed: u32::try_from(counts.failed.len()).unwrap_or(u32::MAX),
        };
        http::json(StatusCode::OK, &synced)
    }
}

/// A space with no course, a course whose LMS is no longer registered, or whose launches offered
/// no roster service: nothing to sync from (404, the detail says which).
fn no_roster(e: NoRoster) -> ApiError {
    match e {
        NoRoster::NotLinked => {
            ApiError::NotFoundThen("this space is linked to no LMS course: launch it from the course first")
        }
        NoRoster::NotRegistered => {
            ApiError::NotFoundThen("the LMS of this space's course is no longer registered: register the tool again")
        }
        NoRoster::NoService => ApiError::NotFoundThen(
            "the course's launches offered no roster service (LTI Names and Role Provisioning): enable it for the tool in the LMS",
        ),
        NoRoster::Store(e) => e.into(),
    }
}

/// The route's answer (`RosterSyncCounts` in the OpenAPI document): counts only (a failed
/// change's reason is logged, not answered).
#[derive(Debug, Serialize)]
struct Synced {
    added: u32,
    removed: u32,
    updated: u32,
    /// Course members the host removed by hand: not brought back.
    skipped: u32,
    /// Changes that failed (the others were applied): the next sync tries them again.
    failed: u32,
}
