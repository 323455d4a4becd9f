//! What the tool keeps about LTI platforms: their registrations, the courses (contexts) linked to
//! spaces, the platform users matched to VIVID users, and the short-lived states of a launch.
//! The store ports are split by role: [`RegistrationStore`] (platforms), [`LinkStore`] (contexts
//! and users), [`LaunchStore`] (one-time states and codes).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    error::StoreError,
    spaces::{Membership, Space},
    types::{SpaceId, UserId, VideoId},
    users::User,
};

/// A platform (an LMS tenant) registered with the tool: what its messages are checked against.
/// One registration per `(issuer, client_id)`; a platform may have several deployments of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// The platform's `iss`, an HTTPS URL.
    pub issuer: String,
    /// The client id the platform gave the tool (the launch's `aud`).
    pub client_id: String,
    /// The deployments a launch may name (`https://purl.imsglobal.org/spec/lti/claim/deployment_id`).
    pub deployment_ids: Vec<String>,
    /// The platform's OIDC authorization endpoint (where the login initiation redirects).
    pub auth_url: String,
    /// The platform's OAuth 2 token endpoint (the services' client-credentials grant).
    pub token_url: String,
    /// The platform's public key set, verifying its ID tokens.
    pub jwks_url: String,
    /// A name for operators (the platform's product name, or the one given by hand).
    pub name: String,
    /// Who registered it: `invite:{invitationId}` (dynamic registration) or `user:{userId}` (an
    /// operator, by hand: `POST /lti/registrations`).
    pub created_by: String,
    pub created_at: String,
}

impl Registration {
    /// The registration's id in the admin API: the SHA-256 (hex) of its issuer and client id.
    pub fn id(&self) -> String {
        registration_id(&self.issuer, &self.client_id)
    }
}

/// The id of the registration of `(issuer, client_id)` (see [`Registration::id`]).
pub fn registration_id(issuer: &str, client_id: &str) -> String {
    composite_hash(&[issuer, client_id])
}

/// The SHA-256 (hex) of several values, each length-prefixed so that no two lists collide: a
/// key for values that may hold any character (`#` included).
pub fn composite_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A course of a platform deployment: `(issuer, client_id, deployment_id, context_id)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextKey {
    pub issuer: String,
    pub client_id: String,
    pub deployment_id: String,
    pub context_id: String,
}

impl ContextKey {
    /// A stable id for keys (see [`composite_hash`]).
    pub fn hash(&self) -> String {
        composite_hash(&[&self.issuer, &self.client_id, &self.deployment_id, &self.context_id])
    }
}

/// Names and Role Provisioning Services as the last launch offered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NrpsEndpoint {
    #[serde(alias = "context_memberships_url")]
    pub context_memberships_url: String,
    #[serde(default, alias = "service_versions")]
    pub service_versions: Vec<String>,
}

/// Assignment and Grade Services as the last launch offered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgsEndpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineitems: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineitem: Option<String>,
    #[serde(default)]
    pub scope: Vec<String>,
}

/// A course linked to a space: created by an instructor's first launch from the course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextLink {
    pub context: ContextKey,
    pub space_id: SpaceId,
    /// The course's title as the platform sent it (`context.title`), for operators.
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nrps: Option<NrpsEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ags: Option<AgsEndpoint>,
    pub created_at: String,
    pub updated_at: String,
}

/// A platform user (`iss`, `sub`) matched to a VIVID user. Never matched by e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserLink {
    pub issuer: String,
    pub subject: String,
    pub user_id: UserId,
}

impl UserLink {
    /// A stable id for keys (see [`composite_hash`]).
    pub fn hash(issuer: &str, subject: &str) -> String {
        composite_hash(&[issuer, subject])
    }
}

/// A login initiation's state, kept server-side (no cookie reaches the tool in an LMS iframe)
/// until the launch takes it, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchState {
    pub state: String,
    pub nonce: String,
    pub issuer: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    pub target_link_uri: String,
    /// Epoch seconds; TTL.
    pub expires_at: u64,
}

/// What a launch hands the front end through a one-time code (stored by its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCode {
    pub code_hash: String,
    pub user_id: UserId,
    pub space_id: SpaceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_id: Option<VideoId>,
    /// Set by a deep-linking request: the id of its [`DeepLinkContext`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep_link_id: Option<String>,
    pub expires_at: u64,
}

/// A deep-linking request waiting for the instructor's pick (good once, bound to the user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeepLinkContext {
    pub deep_link_id: String,
    pub user_id: UserId,
    pub space_id: SpaceId,
    pub issuer: String,
    pub client_id: String,
    pub deployment_id: String,
    pub return_url: String,
    /// The request's `data`, returned verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    pub expires_at: u64,
}

/// A one-time invitation to register a platform by LTI Dynamic Registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationInvite {
    /// SHA-256 (hex) of the invitation token; the token itself is never stored.
    pub token_hash: String,
    pub invite_id: String,
    pub created_by: UserId,
    pub expires_at: u64,
}

/// What [`RegistrationStore::add_deployment`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentAdded {
    /// Added: the registration as it is now.
    Added(Registration),
    /// The registration held it already (unchanged).
    AlreadyThere(Registration),
    /// The registration holds the most deployments allowed (unchanged).
    Full,
    /// No such registration (deleted meanwhile).
    NoRegistration,
}

/// Platforms.
#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// Stores a new registration; `Condition(Item)` when `(issuer, client_id)` is registered.
    async fn put_registration(&self, reg: &Registration) -> Result<(), StoreError>;
    async fn registration(&self, issuer: &str, client_id: &str) -> Result<Option<Registration>, StoreError>;
    /// The registrations of one issuer (a login initiation may omit the client id).
    async fn registrations_of(&self, issuer: &str) -> Result<Vec<Registration>, StoreError>;
    /// Every registration, oldest first (an operator's list: a handful per institution).
    async fn all_registrations(&self) -> Result<Vec<Registration>, StoreError>;
    /// The registration with this id ([`Registration::id`]), found in the operators' list (an
    /// index, eventually consistent: one made a second ago may not be found yet).
    async fn registration_by_id(&self, id: &str) -> Result<Option<Registration>, StoreError>;
    /// Adds `deployment_id` to the registration `(issuer, client_id)` in one conditional write:
    /// only while the registration exists, does not hold it yet and holds fewer than `max`.
    async fn add_deployment(
        &self,
        issuer: &str,
        client_id: &str,
        deployment_id: &str,
        max: usize,
    ) -> Result<DeploymentAdded, StoreError>;
    /// Deletes the registration with this id; `false` when there is none.
    async fn delete_registration(&self, id: &str) -> Result<bool, StoreError>;
    async fn put_invite(&self, invite: &RegistrationInvite) -> Result<(), StoreError>;
    /// Takes the invitation once, if it is live at `now`.
    async fn take_invite(&self, token_hash: &str, now: u64) -> Result<Option<RegistrationInvite>, StoreError>;
}

/// Courses and people.
#[async_trait]
pub trait LinkStore: Send + Sync {
    async fn user_link(&self, issuer: &str, subject: &str) -> Result<Option<UserLink>, StoreError>;
    /// Creates the user (profile, placeholder e-mail lock, personal space, its host membership)
    /// and the link, atomically; `Condition(Item)` when the link was made meanwhile.
    async fn create_linked_user(&self, link: &UserLink, user: &User, personal: &Space) -> Result<(), StoreError>;
    async fn context_link(&self, context: &ContextKey) -> Result<Option<ContextLink>, StoreError>;
    /// The link of a space's course, if it has one (GSI1: eventually consistent).
    async fn context_of_space(&self, space: &SpaceId) -> Result<Option<ContextLink>, StoreError>;
    /// Creates the space with its host membership and the link, atomically; `Condition(Item)`
    /// when another launch linked the course meanwhile. `replaces`: the space of a link whose
    /// space is gone (the link is then overwritten only while it still names that space). The
    /// host membership is marked as from the course (its context hash, `host_sub`) as a sync
    /// marks its own; a sync never changes a host all the same.
    async fn link_new_space(
        &self,
        link: &ContextLink,
        space: &Space,
        host: &Membership,
        host_sub: &str,
        replaces: Option<&SpaceId>,
    ) -> Result<(), StoreError>;
    /// Adds a launching person to the course's space as `SpaceStore::add_member` does, the
    /// membership marked as from the course (`context`, its context key hash, and the platform
    /// subject `sub`) exactly as a roster sync marks its own: a later sync of the course removes
    /// or re-roles it. `Condition(Membership)` when they are a member already.
    async fn join_from_context(&self, membership: &Membership, context: &str, sub: &str) -> Result<(), StoreError>;
    /// Records the services the latest launch offered (NRPS, AGS) and the course title.
    async fn update_context_services(&self, link: &ContextLink) -> Result<(), StoreError>;
}

/// One-time launch states, session codes and deep-linking contexts (all with a TTL).
#[async_trait]
pub trait LaunchStore: Send + Sync {
    async fn put_launch_state(&self, state: &LaunchState) -> Result<(), StoreError>;
    /// Takes the state once, if it is live at `now`.
    async fn take_launch_state(&self, state: &str, now: u64) -> Result<Option<LaunchState>, StoreError>;
    async fn put_session_code(&self, code: &SessionCode) -> Result<(), StoreError>;
    async fn take_session_code(&self, code_hash: &str, now: u64) -> Result<Option<SessionCode>, StoreError>;
    async fn put_deep_link(&self, ctx: &DeepLinkContext) -> Result<(), StoreError>;
    /// Takes the context once, if it is live at `now` and `user`'s.
    async fn take_deep_link(&self, id: &str, user: &UserId, now: u64) -> Result<Option<DeepLinkContext>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_hashes_do_not_collide_across_boundaries() {
        assert_ne!(composite_hash(&["a#b", "c"]), composite_hash(&["a", "b#c"]));
        assert_ne!(composite_hash(&["ab", ""]), composite_hash(&["a", "b"]));
        assert_eq!(registration_id("https://lms", "c1"), composite_hash(&["https://lms", "c1"]));
        assert_eq!(composite_hash(&["x"]).len(), 64);
    }
}
