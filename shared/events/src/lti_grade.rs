//! The LTI grade worker, invoked asynchronously by `POST /videos/{videoId}/watching` when a
//! student who came from a course watched more of a video: their completion of the video (watched
//! coverage, 100 once completed) becomes their score on the course's gradebook (LTI AGS) through
//! [`pass_back`], which posts only a value above what the platform last took (`ltiPosted`, read
//! consistently): a repeated, retried or replayed event posts nothing new. A replayed event is
//! checked against the member as they are now (still a participant, still the course's subject
//! it names): one promoted to co-host or removed since is not graded. A failure (the platform
//! down, the store) fails the invocation, so Lambda retries it and then keeps it in the
//! on-failure destination.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use vivid_domain::{
    lti::{
        grades::{GradeStore, GradeTarget, pass_back},
        model::{LinkStore, RegistrationStore},
        roster::SyncError,
        services::LtiServices,
    },
    video::{ProgressStore, VideoCatalog},
};

use crate::{EventError, EventHandler};

/// The worker's event (`{videoId, userId, ltiSub}`), as `report-watching` sends it.
pub use vivid_domain::lti::grades::GradeJob;

/// `lti-grade-worker`.
pub struct LtiGradeWorker {
    /// The student's progress on the video.
    pub progress: Arc<dyn ProgressStore>,
    /// The video's title (the gradebook column's label), and the member as they are now.
    pub catalog: Arc<dyn VideoCatalog>,
    /// The space's course link (its AGS line-item container).
    pub links: Arc<dyn LinkStore>,
    /// The link's platform registration (its token endpoint and client id).
    pub registrations: Arc<dyn RegistrationStore>,
    /// What the platform last took (`ltiPosted`).
    pub grades: Arc<dyn GradeStore>,
    /// The platform's AGS, through the tool's signed client assertion.
    pub services: Arc<dyn LtiServices>,
}

/// What a job came to, answered to the invoker (and logged).
fn outcome(outcome: &str) -> Value {
    json!({ "outcome": outcome })
}

#[async_trait]
impl EventHandler for LtiGradeWorker {
    async fn handle(&self, event: Value) -> Result<Value, EventError> {
        let job: GradeJob = serde_json::from_value(event).map_err(|e| EventError::Malformed(e.to_string()))?;
        let (video, user) = (&job.video_id, &job.user_id);
        let Some(progress) = self.progress.progress_by(video, std::slice::from_ref(user)).await?.into_iter().next()
        else {
            tracing::info!(%video, %user, "no progress (deleted meanwhile): nothing to pass back");
            return Ok(outcome("no_progress"));
        };
        let Some(link) = self.links.context_of_space(&progress.space_id).await? else {
            tracing::info!(space = %progress.space_id, "the space is linked to no course: nothing to pass back");
            return Ok(outcome("not_linked"));
        };
        let ctx = &link.context;
        let Some(registration) = self.registrations.registration(&ctx.issuer, &ctx.client_id).await? else {
            tracing::warn!(issuer = %ctx.issuer, "the course's platform is no longer registered: nothing passed back");
            return Ok(outcome("not_registered"));
        };
        let Some(access) = self.catalog.video_access(video, user).await? else {
            return Ok(outcome("no_video"));
        };
        // The event may be a replay of an old one: grade only a participant who is still the
        // course's subject it names.
        let graded = access.membership.as_ref().is_some_and(|m| !m.role.manages())
            && access.lti_sub.as_deref() == Some(job.lti_sub.as_str());
        if !graded {
            tracing::info!(space = %progress.space_id, "the member is no longer the course's graded participant");
            return Ok(outcome("not_graded"));
        }
        // A video the students do not see (a draft, hidden, or scheduled later) is graded once
        // shown: its title goes into no course's gradebook before.
        if !access.video.shown_to_students() {
            tracing::info!(space = %progress.space_id, "the video is not shown to the students: not graded yet");
            return Ok(outcome("not_shown"));
        }
        let Some(target) = GradeTarget::of(&link, &registration, &job.lti_sub, access.video.title.as_str()) else {
            tracing::info!(space = %progress.space_id, "the course's launches offered no gradebook (AGS line items)");
            return Ok(outcome("no_gradebook"));
        };
        match pass_back(self.services.as_ref(), self.grades.as_ref(), &target, &progress).await {
            Ok(Some(value)) => Ok(json!({ "outcome": "posted", "value": value })),
            Ok(None) => Ok(outcome("unchanged")),
            Err(SyncError::Store(e)) => Err(e.into()),
            // Worth a retry (unavailable, rate limited, a column being made): the invocation fails
            // and Lambda retries it. No token or URL in the message: the error's kind only.
            Err(SyncError::Platform(e)) if e.is_transient() => {
                Err(EventError::Platform(format!("grade passback: {e}")))
            }
            // The platform refused the tool, or answered what no retry changes (scopes not
            // granted, no such line item twice, an unreadable answer): an outcome, logged for the
            // operator, not three failed runs and a dead letter per progress write.
            Err(SyncError::Platform(e)) => {
                tracing::warn!(error = %e, space = %progress.space_id, "grade passback refused by the platform");
                Ok(json!({ "outcome": "refused", "reason": e.to_string() }))
            }
        }
    }
}
