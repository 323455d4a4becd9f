//! Sessions: sign-in (sign-up on first use), access + refresh token pairs, rotation with reuse
//! detection and a short grace, the absolute lifetime of a session, listing and ending sessions.
//!
//! # Sessions are refresh-token families
//!
//! A sign-in starts a *family*: the session of one browser or app. Refresh tokens are 256-bit
//! random strings stored only as SHA-256 hashes; each use rotates the presented token into a new
//! one of the same family. A family ends when it is revoked (logout, sign-out everywhere, reuse),
//! when none of its tokens is used for [`REFRESH_TTL_SECS`] (sliding), or
//! [`SESSION_LIFETIME_SECS`] after the sign-in however often it slid (absolute: `endsAt` on the
//! family, checked by the rotation's own condition). Access tokens name their family in `sid`,
//! which is how a session list knows the caller's own session without the refresh cookie (API
//! calls carry the access token only), and their sign-in in `auth_time`: the family's creation,
//! the same for every token a refresh of it issues (read from the family's id, a ULID minted at the
//! sign-in), so a stolen refresh token never passes for a recent sign-in (`crate::step_up`).
//!
//! # Reuse detection and the grace window
//!
//! Presenting a token that was already rotated is *reuse*: either a thief or the legitimate client
//! replays it, and the server cannot tell which, so the whole family is revoked and both are
//! signed out. Two tabs of one browser refreshing at the same moment with the same cookie look
//! exactly like that, so a rotated token is accepted once more under three conditions:
//!
//! 1. it was rotated at most [`REFRESH_GRACE_SECS`] ago;
//! 2. its successor (the token the first rotation issued) has not been used yet;
//! 3. the family is live.
//!
//! The answer is a new access token and **that same successor** — not a new token. Rotation
//! stores, on the rotated token's item, the successor's hash and the successor sealed with a key
//! stream derived from the *rotated token itself* (HMAC-SHA256 keyed with it, XOR; the successor's
//! hash checks the result): only a holder of the rotated token can recover the successor, and the
//! table alone reveals nothing a refresh could use.
//!
//! Why the same successor and not a sibling token: with a sibling, a thief replaying a stolen token
//! inside the window would get a branch of their own, and the victim's and the thief's chains
//! would never meet again — reuse detection would be blind for the rest of the family's life.
//! Handing out the one successor keeps a single chain: whoever rotates it second, victim or thief,
//! presents a rotated token and revokes the family, exactly as without the grace. Outside the
//! window, after the successor was used, or with a revoked family, a rotated token revokes the
//! family as before. The window only widens what a thief holding a rotated token can do from
//! "nothing" to "share the victim's next token for ten seconds", and sharing it is detected.
//!
//! Accepted residual risk: someone holding both a rotated token and a copy of the table can unseal
//! that token's successor outside the window; a table copy is needed for it, and it is only useful
//! while the successor is unused.

mod secrets;
mod service;
mod user_agent;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    error::StoreError,
    page::{Page, PageKey},
    types::{Email, Limit, UserId},
    users::User,
};

pub use self::{
    secrets::{RandomError, hash_secret, random_token, seal_successor, unseal_successor},
    service::{SessionPorts, Sessions, end_sessions, logout},
    user_agent::summarize_user_agent,
};

/// Lifetime of a refresh token (sliding: each rotation starts a new one).
pub const REFRESH_TTL_SECS: u64 = 30 * 24 * 3600;
/// Absolute lifetime of a session (a refresh-token family), from its sign-in: 90 days.
pub const SESSION_LIFETIME_SECS: u64 = 90 * 24 * 3600;
/// How long after a rotation the rotated token is still accepted (for its unused successor).
pub const REFRESH_GRACE_SECS: u64 = 10;
/// Lifetime of a pending Google login (state + PKCE verifier).
pub const LOGIN_TTL_SECS: u64 = 600;
/// The longest refresh token looked up (ours are 43 characters).
const MAX_PRESENTED: usize = 128;
/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// Signing an access token failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot issue an access token: {0}")]
pub struct IssueError(pub String);

/// Issues access tokens (the signing key's holder).
pub trait AccessTokenIssuer: Send + Sync {
    /// An access token without a session (development tokens, tests).
    fn issue_access(&self, user: &UserId, email: &Email) -> Result<IssuedToken, IssueError>;
    /// An access token naming the session (refresh-token family) it was issued for (`sid`) and
    /// that session's sign-in (`auth_time`, epoch seconds).
    fn issue_session_access(
        &self,
        user: &UserId,
        email: &Email,
        session: &str,
        auth_time: u64,
    ) -> Result<IssuedToken, IssueError>;
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The refresh token is unknown, expired, rotated (reuse) or its family revoked or ended.
    #[error("the refresh token is invalid, expired or revoked")]
    Refused,
    /// Another account already uses the identity's e-mail address (one made with another Google
    /// account, or by other means): the person signs in as that account, or deletes it first.
    #[error(
        "another account already uses this e-mail address: sign in with the Google account it was created with, or delete that account first (DELETE /users/me)"
    )]
    EmailTaken,
    /// The account is being deleted: it signs in again (as a new account) once that is done.
    #[error("this account is being deleted; sign in again in a minute to start a new one")]
    AccountDeleting,
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A Google login under way: what the callback needs, bound to one browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginState {
    pub state: String,
    /// Hash of the random value in the browser's login cookie.
    pub binding_hash: String,
    pub code_verifier: String,
    pub nonce: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    pub expires_at: u64,
    /// An institutional sign-in's provider (`/auth/oidc/{provider}/...`); none for Google's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The signed-in user an institutional link was started by (`.../link`): the callback links
    /// the identity to them instead of signing in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_user: Option<UserId>,
}

/// One refresh token, by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRecord {
    pub token_hash: String,
    pub family_id: String,
    pub user_id: UserId,
    pub email: Email,
    pub expires_at: u64,
    /// When the family ends (absolute lifetime), copied from the family; the family's own
    /// `endsAt` is the one the rotation checks. Absent on tokens from before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_ends_at: Option<u64>,
    /// Set when the token was rotated; presenting it again is reuse (or, within the grace, a
    /// second tab).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<u64>,
    /// Set with `used_at`: the hash of the token the rotation issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor_hash: Option<String>,
    /// Set with `used_at`: that token sealed for the holder of this one ([`seal_successor`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor_sealed: Option<String>,
}

/// A session: one refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub family_id: String,
    pub user_id: UserId,
    pub revoked: bool,
    /// The sign-in (seconds since the epoch).
    pub created_at: u64,
    /// The last sign-in or rotation.
    pub last_used_at: Option<u64>,
    /// When the session ends unless a token of it is used before (sliding; never past `ends_at`).
    pub expires_at: u64,
    /// When the session ends however often it is used (absolute). Absent on families from before
    /// it was recorded, until their next rotation sets it.
    pub ends_at: Option<u64>,
    /// [`summarize_user_agent`] of the client's last sign-in or refresh.
    pub user_agent: Option<String>,
}

/// The moment a family id (a ULID minted at the sign-in) was made, in seconds: the sign-in time of
/// families from before `createdAt` was stored.
pub fn id_time(family_id: &str) -> u64 {
    ulid::Ulid::from_string(family_id).map(|u| u.timestamp_ms() / 1000).unwrap_or_default()
}

impl Family {
    /// Whether a token of this family can still be refreshed at `now`.
    pub fn live(&self, now: u64) -> bool {
        !self.revoked && self.expires_at > now && self.ends_at.is_none_or(|end| end > now)
    }
}

/// One rotation: `old` becomes used, `new` is stored, the family slides — atomically, while `old`
/// is unused and the family live.
#[derive(Debug, Clone)]
pub struct Rotation<'a> {
    pub old: &'a RefreshRecord,
    pub new: &'a RefreshRecord,
    pub now: u64,
    /// `new`'s token sealed for the holder of `old` (the grace window).
    pub sealed_successor: Option<String>,
    /// The family's end, set on a family that has none yet.
    pub ends_at: u64,
    pub user_agent: Option<String>,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn put_login_state(&self, login: &LoginState) -> Result<(), StoreError>;
    /// Deletes and returns the login if it exists, is bound to this browser and has not expired;
    /// `None` otherwise (so a state works once).
    async fn take_login_state(
        &self,
        state: &str,
        binding_hash: &str,
        now: u64,
    ) -> Result<Option<LoginState>, StoreError>;
    async fn user_by_google_sub(&self, sub: &str) -> Result<Option<User>, StoreError>;
    /// Creates a family with its first token, atomically, while the user's account exists and is
    /// not being deleted (`Condition(Account)` otherwise).
    async fn start_family(&self, family: &Family, first: &RefreshRecord) -> Result<(), StoreError>;
    async fn refresh_record(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError>;
    /// Marks `old` used (recording its successor) and stores `new`, atomically, while the family
    /// is live and its account neither gone nor being deleted. `Condition(Refresh)`: `old` was
    /// already used; `Condition(Family)`: the family is revoked, gone or past its end;
    /// `Condition(Account)`: the account is gone or being deleted.
    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<(), StoreError>;
    /// A rotated token's successor and the family, read together and consistently.
    async fn successor_and_family(
        &self,
        successor_hash: &str,
        family_id: &str,
    ) -> Result<(Option<RefreshRecord>, Option<Family>), StoreError>;
    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError>;
    /// The user's live families at `now`, newest first, a page at a time (a page may hold fewer
    /// than `limit` families: ended ones are skipped after the page is read).
    async fn families_of(
        &self,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
        now: u64,
    ) -> Result<Page<Family>, StoreError>;
    /// Revokes every live family of the user except `keep`; how many it revoked.
    async fn revoke_families_of(&self, user: &UserId, keep: Option<&str>, now: u64) -> Result<usize, StoreError>;
    /// Deletes every refresh-token family and token of a user (account deletion).
    async fn end_sessions_of(&self, user: &UserId) -> Result<(), StoreError>;
}

/// An access token and a refresh token.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access: IssuedToken,
    pub refresh: String,
    /// When the refresh token stops working (Unix seconds): its sliding window, capped at its
    /// session's end. A cookie carrying it should not outlive it.
    pub refresh_expires_at: u64,
}

impl TokenPair {
    /// Seconds the refresh token has left at `now`.
    pub fn refresh_expires_in(&self, now: u64) -> u64 {
        self.refresh_expires_at.saturating_sub(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_is_live_until_revoked_expired_or_ended() {
        let f = Family {
            family_id: "F".into(),
            user_id: UserId::generate(),
            revoked: false,
            created_at: 0,
            last_used_at: None,
            expires_at: 100,
            ends_at: Some(50),
            user_agent: None,
        };
        assert!(f.live(49));
        assert!(!f.live(50), "past its absolute end");
        assert!(Family { ends_at: None, ..f.clone() }.live(99), "a family from before absolute ends slides");
        assert!(!Family { ends_at: None, ..f.clone() }.live(100));
        assert!(!Family { revoked: true, ..f }.live(0));
    }
}
