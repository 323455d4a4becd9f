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

use std::sync::Arc;

use async_trait::async_trait;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    error::{Guard, StoreError},
    identity::Identity,
    invitations::{InvitationStore, claim_invitations},
    page::{Page, PageKey},
    types::{Email, Limit, UserId, now_rfc3339, unix_now},
    users::{User, UserStore},
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
    /// Another account already uses the identity's e-mail address.
    #[error("another account already uses this e-mail address")]
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

/// The stored form of a secret: SHA-256, base64url.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// The key stream that seals a rotated token's successor: HMAC-SHA256 keyed with the rotated
/// token (a 256-bit secret only its holder has) over a fixed label. Each token is rotated once,
/// so each stream seals one value.
fn successor_pad(rotated: &str) -> Option<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(rotated.as_bytes()).ok()?;
    mac.update(b"vivid/refresh-successor/v1");
    mac.finalize().into_bytes().as_slice().try_into().ok()
}

fn xor_with_pad(rotated: &str, value: &str) -> Option<String> {
    let pad = successor_pad(rotated)?;
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    if bytes.len() != pad.len() {
        return None;
    }
    Some(URL_SAFE_NO_PAD.encode(bytes.iter().zip(pad).map(|(b, p)| b ^ p).collect::<Vec<u8>>()))
}

/// The successor token sealed for the holder of `rotated` (`None` for a token of another shape).
pub fn seal_successor(rotated: &str, successor: &str) -> Option<String> {
    xor_with_pad(rotated, successor)
}

/// The successor a holder of `rotated` recovers from `sealed`; the caller checks it against the
/// stored successor hash (a wrong token or an edited value gives a string of another hash).
pub fn unseal_successor(rotated: &str, sealed: &str) -> Option<String> {
    xor_with_pad(rotated, sealed)
}

/// A short, non-identifying description of a client for a session list ("Firefox on Linux"),
/// from its `User-Agent`. Only this summary is stored, never the header.
pub fn summarize_user_agent(raw: &str) -> Option<String> {
    const BROWSERS: &[(&[&str], &str)] = &[
        (&["Edg/", "EdgA/", "EdgiOS/"], "Edge"),
        (&["OPR/", "Opera"], "Opera"),
        (&["SamsungBrowser/"], "Samsung Internet"),
        (&["Firefox/", "FxiOS/"], "Firefox"),
        (&["CriOS/", "Chrome/", "Chromium/"], "Chrome"),
        (&["Safari/"], "Safari"),
    ];
    const SYSTEMS: &[(&[&str], &str)] = &[
        (&["Windows"], "Windows"),
        (&["Android"], "Android"),
        (&["iPhone", "iPad", "iPod"], "iOS"),
        (&["CrOS"], "ChromeOS"),
        (&["Macintosh", "Mac OS X"], "macOS"),
        (&["Linux"], "Linux"),
    ];
    let raw: String = raw.chars().take(512).collect();
    let find = |table: &[(&[&str], &'static str)]| {
        table.iter().find(|(needles, _)| needles.iter().any(|n| raw.contains(n))).map(|(_, name)| *name)
    };
    let browser = find(BROWSERS).map(str::to_owned).or_else(|| {
        // Another client (curl, an app): its first product name, letters and digits only.
        let product: String = raw
            .split(['/', ' '])
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            .take(32)
            .collect();
        (!product.is_empty()).then_some(product)
    });
    match (browser, find(SYSTEMS)) {
        (Some(b), Some(os)) => Some(format!("{b} on {os}")),
        (Some(b), None) => Some(b),
        (None, Some(os)) => Some(os.to_owned()),
        (None, None) => None,
    }
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

/// What a rotated token presented again leads to.
enum Replay {
    /// Within the grace: the access token and the unused successor.
    Grace(TokenPair),
    /// The family is revoked, gone or ended: refused, nothing to revoke.
    Ended,
    /// Reuse: the family is revoked.
    Reuse,
}

pub struct Sessions {
    store: Arc<dyn SessionStore>,
    users: Arc<dyn UserStore>,
    issuer: Arc<dyn AccessTokenIssuer>,
    grace_secs: u64,
    lifetime_secs: u64,
    invitations: Option<Arc<dyn InvitationStore>>,
}

impl Sessions {
    pub fn new(store: Arc<dyn SessionStore>, users: Arc<dyn UserStore>, issuer: Arc<dyn AccessTokenIssuer>) -> Self {
        Self {
            store,
            users,
            issuer,
            grace_secs: REFRESH_GRACE_SECS,
            lifetime_secs: SESSION_LIFETIME_SECS,
            invitations: None,
        }
    }

    /// Signing up claims the e-mail invitations waiting for the new user's (verified) address.
    pub fn with_invitations(mut self, invitations: Arc<dyn InvitationStore>) -> Self {
        self.invitations = Some(invitations);
        self
    }

    /// Another absolute session lifetime (at least a day) than [`SESSION_LIFETIME_SECS`].
    pub fn with_lifetime(mut self, secs: u64) -> Self {
        self.lifetime_secs = secs.max(24 * 3600);
        self
    }

    /// Another grace window (at most a minute) than [`REFRESH_GRACE_SECS`].
    pub fn with_grace(mut self, secs: u64) -> Self {
        self.grace_secs = secs.min(60);
        self
    }

    /// The user of a verified Google identity; signs them up (user + personal space + Google
    /// link, one transaction) on first sign-in. Concurrent first sign-ins create one user.
    pub async fn sign_in(&self, identity: Identity) -> Result<User, SessionError> {
        if let Some(user) = self.store.user_by_google_sub(&identity.sub).await? {
            if user.deleting {
                return Err(SessionError::AccountDeleting);
            }
            return Ok(user);
        }
        let (mut user, personal) =
            User::sign_up(identity.email.clone(), identity.name, identity.picture, &now_rfc3339());
        user.google_sub = Some(identity.sub.clone());
        match self.users.create_user(&user, &personal, Some(&identity.sub)).await {
            Ok(()) => {
                tracing::info!(user_id = %user.user_id, "signed up");
                if let Some(invitations) = &self.invitations {
                    // The sign-up stands whatever happens here: an invitation left unclaimed is
                    // still listed under GET /users/me/invitations, and accepted from there.
                    match claim_invitations(invitations.as_ref(), &user.user_id, &user.email).await {
                        Ok(0) => {}
                        Ok(joined) => tracing::info!(user_id = %user.user_id, joined, "invitations claimed"),
                        Err(e) => tracing::warn!(user_id = %user.user_id, error = %e, "claiming invitations failed"),
                    }
                }
                Ok(user)
            }
            Err(StoreError::Condition(guard)) => match self.store.user_by_google_sub(&identity.sub).await? {
                Some(user) if user.deleting => Err(SessionError::AccountDeleting),
                // Another first sign-in of the same account won the race.
                Some(user) => Ok(user),
                None if guard == Guard::Email => Err(SessionError::EmailTaken),
                None => Err(StoreError::Condition(guard).into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// A new token pair in a new family (a new session), ending at the latest
    /// [`SESSION_LIFETIME_SECS`] from now. `user_agent` is the client's header, summarised.
    pub async fn issue(
        &self,
        user_id: &UserId,
        email: &Email,
        user_agent: Option<&str>,
    ) -> Result<TokenPair, SessionError> {
        // The sign-in's moment is the family id's: every token of the family carries it.
        let family_id = ulid::Ulid::new().to_string();
        let now = id_time(&family_id);
        let refresh = random_token()?;
        let ends_at = now + self.lifetime_secs;
        let expires_at = (now + REFRESH_TTL_SECS).min(ends_at);
        let family = Family {
            family_id,
            user_id: user_id.clone(),
            revoked: false,
            created_at: now,
            last_used_at: Some(now),
            expires_at,
            ends_at: Some(ends_at),
            user_agent: user_agent.and_then(summarize_user_agent),
        };
        let record = RefreshRecord {
            token_hash: hash_secret(&refresh),
            family_id: family.family_id.clone(),
            user_id: user_id.clone(),
            email: email.clone(),
            expires_at,
            family_ends_at: Some(ends_at),
            used_at: None,
            successor_hash: None,
            successor_sealed: None,
        };
        self.store.start_family(&family, &record).await?;
        let access = self.issuer.issue_session_access(user_id, email, &family.family_id, family.created_at)?;
        Ok(TokenPair { access, refresh, refresh_expires_at: expires_at })
    }

    /// Rotates a refresh token. A token rotated less than the grace ago whose successor is unused
    /// gets that successor again (a second tab); any other rotated token revokes its family.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, presented: &str, user_agent: Option<&str>) -> Result<TokenPair, SessionError> {
        if presented.is_empty() || presented.len() > MAX_PRESENTED {
            return Err(SessionError::Refused);
        }
        let now = unix_now();
        let hash = hash_secret(presented);
        let old = self.store.refresh_record(&hash).await?.ok_or(SessionError::Refused)?;
        if old.expires_at <= now {
            return Err(SessionError::Refused);
        }
        if old.used_at.is_some() {
            return self.replayed(presented, &old, now).await;
        }
        if old.family_ends_at.is_some_and(|end| end <= now) {
            return Err(SessionError::Refused);
        }
        let refresh = random_token()?;
        let ends_at = old.family_ends_at.unwrap_or(now + self.lifetime_secs);
        let new = RefreshRecord {
            token_hash: hash_secret(&refresh),
            family_id: old.family_id.clone(),
            user_id: old.user_id.clone(),
            email: old.email.clone(),
            expires_at: (now + REFRESH_TTL_SECS).min(ends_at),
            family_ends_at: Some(ends_at),
            used_at: None,
            successor_hash: None,
            successor_sealed: None,
        };
        let rotation = Rotation {
            old: &old,
            new: &new,
            now,
            sealed_successor: seal_successor(presented, &refresh),
            ends_at,
            user_agent: user_agent.and_then(summarize_user_agent),
        };
        match self.store.rotate(&rotation).await {
            Ok(()) => {}
            // Rotated a moment ago by another request (a second tab): read what it recorded.
            Err(StoreError::Condition(Guard::Refresh)) => {
                let now_used = self.store.refresh_record(&hash).await?.ok_or(SessionError::Refused)?;
                return self.replayed(presented, &now_used, now).await;
            }
            Err(StoreError::Condition(_)) => return Err(SessionError::Refused),
            Err(e) => return Err(e.into()),
        }
        let access =
            self.issuer.issue_session_access(&old.user_id, &old.email, &old.family_id, id_time(&old.family_id))?;
        Ok(TokenPair { access, refresh, refresh_expires_at: new.expires_at })
    }

    /// A rotated token presented again: the grace, or the family revoked.
    async fn replayed(&self, presented: &str, record: &RefreshRecord, now: u64) -> Result<TokenPair, SessionError> {
        match self.grace(presented, record, now).await? {
            Replay::Grace(pair) => {
                tracing::info!(family_id = %record.family_id, "rotated refresh token within the grace: same successor");
                Ok(pair)
            }
            Replay::Ended => Err(SessionError::Refused),
            Replay::Reuse => {
                tracing::warn!(user_id = %record.user_id, family_id = %record.family_id, "refresh token reuse: family revoked");
                self.store.revoke_family(&record.family_id).await?;
                Err(SessionError::Refused)
            }
        }
    }

    async fn grace(&self, presented: &str, record: &RefreshRecord, now: u64) -> Result<Replay, SessionError> {
        let Some(used_at) = record.used_at else { return Ok(Replay::Reuse) };
        if now.saturating_sub(used_at) > self.grace_secs {
            return Ok(Replay::Reuse);
        }
        let (Some(next_hash), Some(sealed)) = (&record.successor_hash, &record.successor_sealed) else {
            return Ok(Replay::Reuse);
        };
        let Some(successor) = unseal_successor(presented, sealed).filter(|s| hash_secret(s) == *next_hash) else {
            tracing::warn!(family_id = %record.family_id, "a sealed successor does not match its hash");
            return Ok(Replay::Reuse);
        };
        let (next, family) = self.store.successor_and_family(next_hash, &record.family_id).await?;
        match family {
            Some(f) if f.live(now) => {}
            _ => return Ok(Replay::Ended),
        }
        let Some(next) = next.filter(|n| n.used_at.is_none() && n.expires_at > now) else {
            // The chain moved on: this is no second tab.
            return Ok(Replay::Reuse);
        };
        let auth_time = id_time(&record.family_id);
        let access = self.issuer.issue_session_access(&record.user_id, &record.email, &record.family_id, auth_time)?;
        Ok(Replay::Grace(TokenPair { access, refresh: successor, refresh_expires_at: next.expires_at }))
    }
}

/// Logout: revokes the family of each presented refresh token (the token is the proof: whoever
/// holds it could refresh with it). Unknown tokens are skipped; how many families it revoked.
/// Needs no signing key and no access token.
pub async fn logout(store: &dyn SessionStore, presented: &[String]) -> Result<usize, StoreError> {
    let mut ended = 0;
    for token in presented.iter().filter(|p| !p.is_empty() && p.len() <= MAX_PRESENTED) {
        if let Some(record) = store.refresh_record(&hash_secret(token)).await? {
            store.revoke_family(&record.family_id).await?;
            ended += 1;
        }
    }
    Ok(ended)
}

/// Sign-out everywhere: revokes every session of the caller, or every other one with `keep` (the
/// caller's current session). Access tokens already issued stay valid until they expire.
pub async fn end_sessions(store: &dyn SessionStore, caller: &UserId, keep: Option<&str>) -> Result<usize, StoreError> {
    let ended = store.revoke_families_of(caller, keep, unix_now()).await?;
    tracing::info!(user_id = %caller, ended, kept = keep.is_some(), "sessions ended");
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successor_is_unsealed_only_with_the_token_it_was_sealed_for() {
        let (old, next) = (random_token().expect("random"), random_token().expect("random"));
        let sealed = seal_successor(&old, &next).expect("sealed");
        assert_ne!(sealed, next, "the sealed value is not the token");
        assert_eq!(unseal_successor(&old, &sealed).as_deref(), Some(next.as_str()));
        let other = random_token().expect("random");
        assert_ne!(unseal_successor(&other, &sealed).as_deref(), Some(next.as_str()));
        assert_eq!(seal_successor(&old, "not base64!"), None);
        assert_eq!(unseal_successor(&old, "c2hvcnQ"), None, "a value of another length");
    }

    #[test]
    fn user_agents_are_summarised_without_identifying_details() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", Some("Firefox on Linux")),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                Some("Safari on macOS"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
                Some("Edge on Windows"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1",
                Some("Chrome on iOS"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
                Some("Chrome on Android"),
            ),
            ("curl/8.8.0", Some("curl")),
            ("\u{202e}evil\u{0}/1", Some("evil")),
            ("", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(summarize_user_agent(raw).as_deref(), expected, "{raw}");
        }
    }

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
