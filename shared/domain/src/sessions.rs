//! Sessions: sign-in (sign-up on first use), access + refresh token pairs, rotation with reuse
//! detection, logout. Refresh tokens are 256-bit random strings, stored only as SHA-256 hashes,
//! grouped in families: presenting an already-rotated token revokes the whole family.

use std::sync::Arc;

use async_trait::async_trait;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    error::{Guard, StoreError},
    identity::Identity,
    types::{Email, UserId, now_rfc3339, unix_now},
    users::{User, UserStore},
};

/// Lifetime of a refresh token (sliding: each rotation starts a new one).
pub const REFRESH_TTL_SECS: u64 = 30 * 24 * 3600;
/// Lifetime of a pending Google login (state + PKCE verifier).
pub const LOGIN_TTL_SECS: u64 = 600;

/// The system's random source failed (it does not, in practice; the error keeps panics out).
#[derive(Debug, thiserror::Error)]
#[error("no randomness: {0}")]
pub struct RandomError(pub String);

/// 256 random bits, base64url.
pub fn random_token() -> Result<String, RandomError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

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
    fn issue_access(&self, user: &UserId, email: &Email) -> Result<IssuedToken, IssueError>;
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The refresh token is unknown, expired, rotated (reuse) or its family revoked.
    #[error("the refresh token is invalid, expired or revoked")]
    Refused,
    /// Another account already uses the identity's e-mail address.
    #[error("another account already uses this e-mail address")]
    EmailTaken,
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stored form of a secret: SHA-256, base64url.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
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
    /// Set when the token was rotated; presenting it again is reuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<u64>,
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
    /// Creates a family with its first token, atomically.
    async fn start_family(&self, first: &RefreshRecord) -> Result<(), StoreError>;
    async fn refresh_record(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError>;
    /// Marks `old` used and stores `new`, atomically, while the family is live.
    /// `Condition(Refresh)`: `old` was already used; `Condition(Family)`: revoked.
    async fn rotate(&self, old: &RefreshRecord, new: &RefreshRecord, now: u64) -> Result<(), StoreError>;
    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError>;
    /// Deletes every refresh-token family and token of a user (account deletion).
    async fn end_sessions_of(&self, user: &UserId) -> Result<(), StoreError>;
}

/// An access token and a refresh token.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access: IssuedToken,
    pub refresh: String,
}

pub struct Sessions {
    store: Arc<dyn SessionStore>,
    users: Arc<dyn UserStore>,
    issuer: Arc<dyn AccessTokenIssuer>,
}

impl Sessions {
    pub fn new(store: Arc<dyn SessionStore>, users: Arc<dyn UserStore>, issuer: Arc<dyn AccessTokenIssuer>) -> Self {
        Self { store, users, issuer }
    }

    /// The user of a verified Google identity; signs them up (user + personal space + Google
    /// link, one transaction) on first sign-in. Concurrent first sign-ins create one user.
    pub async fn sign_in(&self, identity: Identity) -> Result<User, SessionError> {
        if let Some(user) = self.store.user_by_google_sub(&identity.sub).await? {
            return Ok(user);
        }
        let (mut user, personal) =
            User::sign_up(identity.email.clone(), identity.name, identity.picture, &now_rfc3339());
        user.google_sub = Some(identity.sub.clone());
        match self.users.create_user(&user, &personal, Some(&identity.sub)).await {
            Ok(()) => {
                tracing::info!(user_id = %user.user_id, "signed up");
                Ok(user)
            }
            Err(StoreError::Condition(guard)) => match self.store.user_by_google_sub(&identity.sub).await? {
                // Another first sign-in of the same account won the race.
                Some(user) => Ok(user),
                None if guard == Guard::Email => Err(SessionError::EmailTaken),
                None => Err(StoreError::Condition(guard).into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// A new token pair in a new family.
    pub async fn issue(&self, user_id: &UserId, email: &Email) -> Result<TokenPair, SessionError> {
        let access = self.issuer.issue_access(user_id, email)?;
        let refresh = random_token()?;
        let record = RefreshRecord {
            token_hash: hash_secret(&refresh),
            family_id: ulid::Ulid::new().to_string(),
            user_id: user_id.clone(),
            email: email.clone(),
            expires_at: unix_now() + REFRESH_TTL_SECS,
            used_at: None,
        };
        self.store.start_family(&record).await?;
        Ok(TokenPair { access, refresh })
    }

    /// Rotates a refresh token. An already-rotated token revokes its whole family.
    pub async fn refresh(&self, presented: &str) -> Result<TokenPair, SessionError> {
        if presented.len() > 128 {
            return Err(SessionError::Refused);
        }
        let now = unix_now();
        let old = self.store.refresh_record(&hash_secret(presented)).await?.ok_or(SessionError::Refused)?;
        if old.expires_at <= now {
            return Err(SessionError::Refused);
        }
        if old.used_at.is_some() {
            return self.reuse_detected(&old).await;
        }
        let refresh = random_token()?;
        let new = RefreshRecord {
            token_hash: hash_secret(&refresh),
            used_at: None,
            expires_at: now + REFRESH_TTL_SECS,
            ..old.clone()
        };
        match self.store.rotate(&old, &new, now).await {
            Ok(()) => {}
            Err(StoreError::Condition(Guard::Refresh)) => return self.reuse_detected(&old).await,
            Err(StoreError::Condition(_)) => return Err(SessionError::Refused),
            Err(e) => return Err(e.into()),
        }
        let access = self.issuer.issue_access(&old.user_id, &old.email)?;
        Ok(TokenPair { access, refresh })
    }

    async fn reuse_detected(&self, record: &RefreshRecord) -> Result<TokenPair, SessionError> {
        tracing::warn!(user_id = %record.user_id, family_id = %record.family_id, "refresh token reuse: family revoked");
        self.store.revoke_family(&record.family_id).await?;
        Err(SessionError::Refused)
    }
}

/// Logout: revokes the family of `presented` if it is the caller's. Needs no signing key.
pub async fn logout(store: &dyn SessionStore, caller: &UserId, presented: Option<&str>) -> Result<(), StoreError> {
    let Some(presented) = presented.filter(|p| p.len() <= 128) else { return Ok(()) };
    if let Some(record) = store.refresh_record(&hash_secret(presented)).await?
        && &record.user_id == caller
    {
        store.revoke_family(&record.family_id).await?;
    }
    Ok(())
}
