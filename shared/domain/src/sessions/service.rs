//! The session service: sign-in (sign-up on first use), rotation with the grace window, the
//! sessions' list, logout and sign-out everywhere.

use std::sync::Arc;

use super::{
    AccessTokenIssuer, Family, MAX_PRESENTED, REFRESH_GRACE_SECS, REFRESH_TTL_SECS, RefreshRecord, Rotation,
    SESSION_LIFETIME_SECS, SessionError, SessionStore, TokenPair, hash_secret, id_time, random_token, seal_successor,
    summarize_user_agent, unseal_successor,
};
use crate::{
    error::{Guard, StoreError},
    identity::Identity,
    invitations::{InvitationStore, claim_invitations},
    types::{Email, UserId, now_rfc3339, unix_now},
    users::{User, UserStore},
};

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

/// What the session service is built from, by name (two of them are often the same table).
pub struct SessionPorts {
    /// The session families and their refresh tokens.
    pub store: Arc<dyn SessionStore>,
    /// The accounts signing in (and signing up).
    pub users: Arc<dyn UserStore>,
    /// Signs access tokens.
    pub issuer: Arc<dyn AccessTokenIssuer>,
}

impl Sessions {
    pub fn new(SessionPorts { store, users, issuer }: SessionPorts) -> Self {
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
