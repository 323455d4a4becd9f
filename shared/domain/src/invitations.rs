//! Invitations into a space: shareable codes (a link or a code typed in, with an expiry and a
//! use limit) and personal e-mail invitations (one use, bound to the invited address; claimed
//! when that address first signs in). Codes are 100 random bits: unguessable, shown only to the
//! space's managers and to the invited address.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    error::StoreError,
    page::{Page, PageKey},
    spaces::{Membership, Role, Space},
    types::{Email, Invalid, InvitationId, Limit, SpaceId, SpaceName, UserId, now_rfc3339, unix_now},
    users::User,
};

/// How long an invitation stays open when the request names no expiry: shareable codes 14 days,
/// e-mail invitations 30 (people read their mail late).
pub const DEFAULT_CODE_LIFETIME_SECS: u64 = 14 * 24 * 3600;
pub const DEFAULT_EMAIL_LIFETIME_SECS: u64 = 30 * 24 * 3600;
/// The latest expiry an invitation may have: 180 days from its creation.
pub const MAX_LIFETIME_SECS: u64 = 180 * 24 * 3600;
/// The most addresses one request invites (a large lecture; more in several requests): their
/// e-mails go out within the API's 30 s at SES's default 14 a second.
pub const MAX_EMAILS: usize = 300;
/// The most uses a shareable code may allow.
pub const MAX_USES: u32 = 100_000;

/// An invitation's secret: 20 characters of lower-case base 32 (100 bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InviteCode(String);

const CODE_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
const CODE_LEN: usize = 20;

impl InviteCode {
    /// A fresh code from the operating system's random source (its failure, described).
    pub fn generate() -> Result<Self, String> {
        let mut bytes = [0u8; CODE_LEN];
        getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
        // 32 divides 256: every character is uniform.
        Ok(Self(bytes.iter().map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)])).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InviteCode {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        let s = s.to_ascii_lowercase();
        if s.len() == CODE_LEN && s.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            Ok(Self(s))
        } else {
            Err(Invalid("malformed invitation code".to_owned()))
        }
    }
}

impl std::str::FromStr for InviteCode {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::try_from(s.to_owned())
    }
}

impl From<InviteCode> for String {
    fn from(c: InviteCode) -> String {
        c.0
    }
}

impl std::fmt::Display for InviteCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One invitation into a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub invitation_id: InvitationId,
    pub space_id: SpaceId,
    pub code: InviteCode,
    /// The role the invitee gets: co-host or participant.
    pub role: Role,
    /// For an e-mail invitation, the only address that may accept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// Unix seconds after which it admits no one.
    pub expires_at_unix: u64,
    /// How many may accept it; `None` for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    #[serde(default)]
    pub uses: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Why it was withdrawn (absent on invitations withdrawn before the reason was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_because: Option<RevokedBecause>,
    pub created_at: String,
    pub created_by: UserId,
    /// The space's name and the inviter's, as they were at the invitation (what an invitee sees
    /// before joining).
    pub space_name: SpaceName,
    pub inviter_name: String,
}

/// Whether an invitation still admits anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Open,
    Expired,
    Revoked,
    UsedUp,
}

/// Why an invitation was withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedBecause {
    /// A manager withdrew it (`DELETE /spaces/{spaceId}/invitations/{invitationId}`).
    Withdrawn,
    /// Its creator no longer manages the space (demoted to participant, removed, or left).
    CreatorNotManager,
}

impl RevokedBecause {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Withdrawn => "withdrawn",
            Self::CreatorNotManager => "creator_not_manager",
        }
    }
}

/// Why an invitation admitted nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteRefused {
    #[error("this invitation has expired; ask the space's host for a new one")]
    Expired,
    #[error("this invitation was withdrawn; ask the space's host for a new one")]
    Revoked,
    #[error("this invitation has been used as many times as it allows; ask the space's host for a new one")]
    UsedUp,
    /// An e-mail invitation presented by an account with another address.
    #[error("this invitation was sent to another e-mail address; sign in with that address to accept it")]
    OtherAccount,
    /// A manager removed the caller from the space: a shareable code does not bring them back.
    #[error("you were removed from this space; ask its host to invite you again")]
    Removed,
}

impl Invitation {
    pub fn status(&self, now_unix: u64) -> InvitationStatus {
        if self.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.max_uses.is_some_and(|max| self.uses >= max) {
            InvitationStatus::UsedUp
        } else if now_unix >= self.expires_at_unix {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Open
        }
    }

    /// Whether `email` may accept it now: the status, and an e-mail invitation's address.
    pub fn admits(&self, email: &Email, now_unix: u64) -> Result<(), InviteRefused> {
        match self.status(now_unix) {
            InvitationStatus::Open => {}
            InvitationStatus::Expired => return Err(InviteRefused::Expired),
            InvitationStatus::Revoked => return Err(InviteRefused::Revoked),
            InvitationStatus::UsedUp => return Err(InviteRefused::UsedUp),
        }
        match &self.email {
            Some(invited) if invited != email => Err(InviteRefused::OtherAccount),
            _ => Ok(()),
        }
    }

    /// The membership accepting it makes for `user`.
    pub fn membership(&self, user: &UserId, now: &str) -> Membership {
        Membership {
            space_id: self.space_id.clone(),
            user_id: user.clone(),
            role: self.role,
            personal: false,
            joined_at: now.to_owned(),
        }
    }
}

/// What a manager asks for: one shareable code, or one invitation per address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteRequest {
    Code { role: Role, expires_at_unix: Option<u64>, max_uses: Option<u32> },
    Emails { role: Role, expires_at_unix: Option<u64>, emails: Vec<Email> },
}

/// Why an invite request breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteRuleError {
    #[error("an invitation makes a co-host or a participant; a space has one host")]
    HostRole,
    #[error("expiresAt must lie in the future and at most 180 days ahead")]
    Expiry,
    #[error("maxUses must be between 1 and 100000")]
    MaxUses,
    #[error("emails must name between 1 and 300 addresses")]
    EmailCount,
    /// Not a rule: the operating system's random source failed (never seen on Lambda's Linux).
    #[error("the random source failed: {0}")]
    Random(String),
}

/// The invitations a request makes at `now` (deduplicated addresses, in the order given).
pub fn invitations_for(
    request: InviteRequest,
    space: &Space,
    by: &User,
    now: &str,
    now_unix: u64,
) -> Result<Vec<Invitation>, InviteRuleError> {
    let (role, expires, default_life) = match &request {
        InviteRequest::Code { role, expires_at_unix, .. } => (*role, *expires_at_unix, DEFAULT_CODE_LIFETIME_SECS),
        InviteRequest::Emails { role, expires_at_unix, .. } => (*role, *expires_at_unix, DEFAULT_EMAIL_LIFETIME_SECS),
    };
    if role == Role::Host {
        return Err(InviteRuleError::HostRole);
    }
    let expires_at_unix = expires.unwrap_or(now_unix + default_life);
    if expires_at_unix <= now_unix || expires_at_unix > now_unix + MAX_LIFETIME_SECS {
        return Err(InviteRuleError::Expiry);
    }
    let make = |email: Option<Email>, max_uses: Option<u32>| -> Result<Invitation, InviteRuleError> {
        Ok(Invitation {
            invitation_id: InvitationId::generate(),
            space_id: space.space_id.clone(),
            code: InviteCode::generate().map_err(InviteRuleError::Random)?,
            role,
            email,
            expires_at_unix,
            max_uses,
            uses: 0,
            revoked_at: None,
            revoked_because: None,
            created_at: now.to_owned(),
            created_by: by.user_id.clone(),
            space_name: space.name.clone(),
            inviter_name: by.name.clone(),
        })
    };
    match request {
        InviteRequest::Code { max_uses, .. } => {
            if max_uses.is_some_and(|m| m == 0 || m > MAX_USES) {
                return Err(InviteRuleError::MaxUses);
            }
            Ok(vec![make(None, max_uses)?])
        }
        InviteRequest::Emails { emails, .. } => {
            if emails.is_empty() || emails.len() > MAX_EMAILS {
                return Err(InviteRuleError::EmailCount);
            }
            let mut seen = std::collections::HashSet::new();
            emails.into_iter().filter(|e| seen.insert(e.clone())).map(|e| make(Some(e), Some(1))).collect()
        }
    }
}

/// Makes `user` a member of every space an open e-mail invitation to `email` names (the newest
/// 100), at sign-up; returns how many they joined. Invitations that no longer admit, or spaces
/// they already belong to or that are gone, are passed over.
pub async fn claim_invitations(store: &dyn InvitationStore, user: &UserId, email: &Email) -> Result<usize, StoreError> {
    let (now, now_unix) = (now_rfc3339(), unix_now());
    let mut joined = 0;
    for invitation in store.invitations_for(email, Limit::clamped(Limit::MAX)).await? {
        if invitation.admits(email, now_unix).is_err() {
            continue;
        }
        match store.accept_invitation(&invitation, &invitation.membership(user, &now), now_unix).await {
            Ok(()) => joined += 1,
            Err(StoreError::Condition(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(joined)
}

#[async_trait]
pub trait InvitationStore: Send + Sync {
    /// Stores new invitations (a batch of any size).
    async fn put_invitations(&self, invitations: &[Invitation]) -> Result<(), StoreError>;
    /// A page of a space's invitations, oldest first.
    async fn invitations(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Invitation>, StoreError>;
    /// One invitation of a space.
    async fn invitation(&self, space: &SpaceId, id: &InvitationId) -> Result<Option<Invitation>, StoreError>;
    /// The invitation a code opens, if any.
    async fn invitation_by_code(&self, code: &InviteCode) -> Result<Option<Invitation>, StoreError>;
    /// Marks an invitation revoked (idempotent) and returns it; `None` when there is none.
    async fn revoke_invitation(
        &self,
        space: &SpaceId,
        id: &InvitationId,
        now: &str,
    ) -> Result<Option<Invitation>, StoreError>;
    /// Uses the invitation for `membership`, atomically: counts the use (the invitation still
    /// open at `now_unix`: not revoked, expired or used up, and its creator still a manager of
    /// the space), adds the membership and counts it on the space. A manager's removal of the
    /// user stands against a shareable code; an e-mail invitation made after the removal lifts
    /// it. `Condition(Invitation)` when the invitation no longer admits,
    /// `Condition(Membership)` when the user is already a member, `Condition(Space)` when the
    /// space is gone, `Condition(Removed)` when a manager removed the user.
    async fn accept_invitation(
        &self,
        invitation: &Invitation,
        membership: &Membership,
        now_unix: u64,
    ) -> Result<(), StoreError>;
    /// The e-mail invitations sent to `email` (open or not), newest first, up to `limit`.
    async fn invitations_for(&self, email: &Email, limit: Limit) -> Result<Vec<Invitation>, StoreError>;
    /// Counts `mails` invitation e-mails on `user`'s count of the UTC `day`, all or none, within
    /// `limit`: `Condition(Quota(DailyInvitationMails))` when they would pass it.
    async fn count_invitation_mails(&self, user: &UserId, day: &str, mails: u64, limit: u64) -> Result<(), StoreError>;
    /// Counts one e-mail on each recipient's count of the UTC `day` (recipients by
    /// [`crate::mail::recipient_key`], each once), each within `limit`; answers, in order,
    /// whether each was counted (`false`: that address had its `limit` of mails today).
    async fn count_recipient_mails(
        &self,
        day: &str,
        recipients: &[String],
        limit: u64,
    ) -> Result<Vec<bool>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        s.parse().unwrap()
    }

    fn world() -> (Space, User) {
        let (user, _) = User::sign_up(email("host@x.org"), "Host".into(), None, "t");
        let space = Space::new(
            SpaceName::try_from("Physics".to_owned()).unwrap(),
            crate::types::Description::default(),
            user.user_id.clone(),
            false,
            "t",
        );
        (space, user)
    }

    #[test]
    fn codes_are_twenty_characters_of_the_alphabet_and_parse_back() {
        let code = InviteCode::generate().unwrap();
        assert_eq!(code.as_str().len(), 20);
        assert_eq!(code.as_str().parse::<InviteCode>().unwrap(), code);
        assert_eq!(code.as_str().to_uppercase().parse::<InviteCode>().unwrap(), code);
        assert!("short".parse::<InviteCode>().is_err());
        assert!("0".repeat(20).parse::<InviteCode>().is_err(), "0 is not in the alphabet");
        assert_ne!(InviteCode::generate().unwrap(), code);
    }

    #[test]
    fn rules_of_a_request() {
        let (space, by) = world();
        let code = |role, expires, max| InviteRequest::Code { role, expires_at_unix: expires, max_uses: max };
        let one = invitations_for(code(Role::Participant, None, Some(3)), &space, &by, "t", 1000).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].expires_at_unix, 1000 + DEFAULT_CODE_LIFETIME_SECS);
        assert_eq!(
            invitations_for(code(Role::Host, None, None), &space, &by, "t", 1000),
            Err(InviteRuleError::HostRole)
        );
        assert_eq!(
            invitations_for(code(Role::CoHost, Some(1000), None), &space, &by, "t", 1000),
            Err(InviteRuleError::Expiry)
        );
        let too_late = Some(1000 + MAX_LIFETIME_SECS + 1);
        assert_eq!(
            invitations_for(code(Role::CoHost, too_late, None), &space, &by, "t", 1000),
            Err(InviteRuleError::Expiry)
        );
        assert_eq!(
            invitations_for(code(Role::CoHost, None, Some(0)), &space, &by, "t", 1000),
            Err(InviteRuleError::MaxUses)
        );
        let emails = vec![email("a@x.org"), email("B@x.org"), email("b@x.org")];
        let many = invitations_for(
            InviteRequest::Emails { role: Role::Participant, expires_at_unix: None, emails },
            &space,
            &by,
            "t",
            1000,
        )
        .unwrap();
        assert_eq!(many.len(), 2, "addresses are deduplicated");
        assert!(many.iter().all(|i| i.max_uses == Some(1) && i.email.is_some()));
        let none = InviteRequest::Emails { role: Role::Participant, expires_at_unix: None, emails: vec![] };
        assert_eq!(invitations_for(none, &space, &by, "t", 1000), Err(InviteRuleError::EmailCount));
    }

    #[test]
    fn who_an_invitation_admits() {
        let (space, by) = world();
        let request = InviteRequest::Emails {
            role: Role::Participant,
            expires_at_unix: Some(2000),
            emails: vec![email("a@x.org")],
        };
        let mut inv = invitations_for(request, &space, &by, "t", 1000).unwrap().remove(0);
        assert_eq!(inv.admits(&email("a@x.org"), 1500), Ok(()));
        assert_eq!(inv.admits(&email("b@x.org"), 1500), Err(InviteRefused::OtherAccount));
        assert_eq!(inv.admits(&email("a@x.org"), 2000), Err(InviteRefused::Expired));
        inv.uses = 1;
        assert_eq!(inv.admits(&email("a@x.org"), 1500), Err(InviteRefused::UsedUp));
        inv.revoked_at = Some("t".into());
        assert_eq!(inv.status(1500), InvitationStatus::Revoked);
    }
}
