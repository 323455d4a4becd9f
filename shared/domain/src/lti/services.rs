//! LTI Advantage services, the tool calling the platform: Names and Role Provisioning (the
//! course's roster) and Assignment and Grade Services (a line item per linked video, a score per
//! student). Every call carries an OAuth 2 access token from the platform's token endpoint,
//! obtained with the client-credentials grant and a JWT client assertion the tool signs
//! ([`super::signer::ToolSigner`]; IMS Security Framework 1.0, RFC 7523).
//!
//! This module is the port and its data, free of HTTP types; `vivid-lti` is the adapter.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// NRPS: read the context's memberships.
pub const SCOPE_MEMBERSHIPS: &str = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";
/// AGS: manage the tool's line items.
pub const SCOPE_LINE_ITEM: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
/// AGS: post scores.
pub const SCOPE_SCORE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";

/// Who the tool is to one platform's services: its registration's client and token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceClient {
    /// The platform's OAuth 2 token endpoint (`auth_token_url` of the registration).
    pub token_url: String,
    /// The tool's client id at the platform (`iss` and `sub` of the client assertion).
    pub client_id: String,
    /// The `aud` the platform expects in client assertions when it is not the token URL
    /// (Moodle and Canvas accept the token URL; some platforms name an `authorization_server`).
    pub audience: Option<String>,
}

impl ServiceClient {
    /// The tool at the platform of `registration`.
    pub fn of(registration: &super::model::Registration) -> Self {
        Self { token_url: registration.token_url.clone(), client_id: registration.client_id.clone(), audience: None }
    }
}

/// A member's status in the context (NRPS `status`; absent means `Active`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MemberStatus {
    #[default]
    Active,
    Inactive,
    Deleted,
}

/// One member of the platform's context, as NRPS lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformMember {
    /// The platform's `user_id`: the same subject (`sub`) its launches carry, per issuer.
    pub user_id: String,
    /// Role URIs (`http://purl.imsglobal.org/vocab/lis/v2/membership#Learner`, ...) or short
    /// names (`Learner`), as the platform sends them.
    pub roles: Vec<String>,
    pub status: MemberStatus,
    /// Shared only with the platform's consent; empty when withheld.
    pub name: String,
    pub email: Option<String>,
}

/// How much of a roster one sync reads: a course larger than this is refused rather than
/// half-synced (docs/quotas.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterBounds {
    /// Pages followed through `Link: <...>; rel="next"`, the first included.
    pub max_pages: u32,
    /// Members over all pages.
    pub max_members: u32,
}

impl Default for RosterBounds {
    fn default() -> Self {
        Self { max_pages: 50, max_members: 5000 }
    }
}

/// The line item the tool wants for a linked video (AGS `lineitem`).
#[derive(Debug, Clone, PartialEq)]
pub struct LineItemSpec {
    /// The video id: the tool's own key for the line item (`resourceId`), found again by it.
    pub resource_id: String,
    /// The resource link the video was launched through, when known (`resourceLinkId`).
    pub resource_link_id: Option<String>,
    /// The title the gradebook shows.
    pub label: String,
    pub score_maximum: f64,
}

/// A line item at the platform: its URL is its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    pub id: String,
}

/// AGS `activityProgress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityProgress {
    Initialized,
    Started,
    InProgress,
    Submitted,
    Completed,
}

/// AGS `gradingProgress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GradingProgress {
    FullyGraded,
    Pending,
    PendingManual,
    Failed,
    NotReady,
}

/// A score for one student on one line item (`application/vnd.ims.lis.v1.score+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Score {
    /// The platform's `user_id` of the student.
    pub user_id: String,
    pub score_given: f64,
    pub score_maximum: f64,
    pub activity_progress: ActivityProgress,
    pub grading_progress: GradingProgress,
    /// RFC 3339; the platform ignores a score older than the last it took.
    pub timestamp: String,
}

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The platform refused the tool's client assertion or its token (401/403 at the token
    /// endpoint, or 401/403 on a service after one fresh token).
    #[error("the platform refused the tool: {0}")]
    Refused(String),
    /// The service's URL answered 404 (a context or line item the platform no longer has).
    #[error("the platform has no such resource")]
    NotFound,
    /// The platform holds a later state already (AGS: a score older than the last it took, 409).
    #[error("the platform holds a later state")]
    Conflict,
    /// The platform asked the tool to slow down.
    #[error("the platform is rate limiting the tool")]
    RateLimited,
    /// The roster is longer than [`RosterBounds`] allow.
    #[error("the course roster is longer than {0}")]
    TooLarge(&'static str),
    /// The platform answered something that is not the service's format.
    #[error("the platform's answer is unreadable: {0}")]
    Unreadable(String),
    /// The platform could not be reached, failed (5xx) or timed out.
    #[error("the platform is unavailable: {0}")]
    Unavailable(String),
    /// The tool could not sign its client assertion.
    #[error(transparent)]
    Signing(#[from] super::signer::SignError),
}

impl ServiceError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited | Self::Unavailable(_) | Self::Signing(_))
    }
}

/// The platform's NRPS and AGS endpoints, as the tool uses them.
#[async_trait]
pub trait LtiServices: Send + Sync {
    /// Every member of the context at `memberships_url` (the launch's
    /// `context_memberships_url`), following `rel="next"` pages within `bounds`.
    async fn members(
        &self,
        client: &ServiceClient,
        memberships_url: &str,
        bounds: RosterBounds,
    ) -> Result<Vec<PlatformMember>, ServiceError>;

    /// The line item of the container `lineitems_url` whose `resourceId` is the spec's, created
    /// when there is none.
    async fn line_item(
        &self,
        client: &ServiceClient,
        lineitems_url: &str,
        spec: &LineItemSpec,
    ) -> Result<LineItem, ServiceError>;

    /// Posts a score to the line item (`{lineitem}/scores`).
    async fn post_score(&self, client: &ServiceClient, line_item: &LineItem, score: &Score)
    -> Result<(), ServiceError>;
}
