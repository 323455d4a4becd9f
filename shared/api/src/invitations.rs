//! Invitations: `/spaces/{spaceId}/invitations` (managers), `POST /invitations/{code}/accept`
//! and `GET /users/me/invitations` (the invited). E-mail invitations are mailed at creation,
//! within a daily count per inviting user and per recipient (`docs/quotas.md`); an address that
//! has no account yet claims its invitations at its first sign-in.

use std::sync::Arc;

use ::http::StatusCode;
use async_trait::async_trait;
use futures_util::{StreamExt, stream};
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_domain::{
    access::{Denied, require_manager},
    error::{Guard, StoreError},
    invitations::{
        Invitation, InvitationStatus, InvitationStore, InviteCode, InviteRefused, InviteRequest, RevokedBecause,
        invitations_for,
    },
    mail::{Mailer, invitation_mail, join_url, recipient_key},
    quota::{Quotas, utc_day},
    spaces::{Role, SpaceStore},
    types::{Email, InvitationId, Limit, SpaceId, SpaceName, UserId, now_rfc3339, rfc3339_at, unix_now},
    users::UserStore,
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, Handler},
};
use vivid_tokens::TokenVerifier;

use crate::spaces::SpaceView;

/// How many invitation e-mails are in flight at once (SES's default sending rate is 14 a
/// second; the SDK retries a throttled send).
const MAIL_CONCURRENCY: usize = 8;
/// A request inviting 300 addresses is about 25 KB.
const MAX_INVITE_BODY: usize = 64 * 1024;

/// An invitation as its space's managers, or its invitee, see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    pub invitation_id: InvitationId,
    pub space_id: SpaceId,
    pub space_name: SpaceName,
    pub code: InviteCode,
    /// The front end's page that accepts the code.
    pub join_url: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    pub uses: u32,
    pub status: InvitationStatus,
    pub created_at: String,
    pub created_by: UserId,
    pub inviter_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Why it was withdrawn: by a manager, or because its creator no longer manages the space.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_because: Option<RevokedBecause>,
    /// On creation, for an e-mail invitation: whether the e-mail went out (if not, the
    /// invitation stands: share its link, or invite the address again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emailed: Option<bool>,
    /// On creation, for an e-mail invitation that was not mailed: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_emailed_because: Option<NotEmailed>,
}

/// Why an e-mail invitation's e-mail did not go out (the invitation stands either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotEmailed {
    /// The address already received its daily number of invitation e-mails (from anyone).
    RecipientDailyLimit,
    /// The mail service refused the message or was unavailable.
    MailFailed,
}

impl InvitationView {
    fn new(i: Invitation, frontend: &str, now_unix: u64) -> Self {
        Self {
            status: i.status(now_unix),
            join_url: join_url(frontend, i.code.as_str()),
            expires_at: rfc3339_at(i.expires_at_unix),
            invitation_id: i.invitation_id,
            space_id: i.space_id,
            space_name: i.space_name,
            code: i.code,
            role: i.role,
            email: i.email,
            max_uses: i.max_uses,
            uses: i.uses,
            created_at: i.created_at,
            created_by: i.created_by,
            inviter_name: i.inviter_name,
            revoked_at: i.revoked_at,
            revoked_because: i.revoked_because,
            emailed: None,
            not_emailed_because: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewInvitations {
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    role: Option<Role>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    expires_at: Option<String>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::some_whole")]
    max_uses: Option<u32>,
    #[serde(default, deserialize_with = "vivid_domain::types::body::present")]
    emails: Option<Vec<Email>>,
}

fn unix_of(field: &str, v: &str) -> Result<u64, ApiError> {
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
        .ok_or_else(|| ApiError::unprocessable("invalid_expiry", format!("{field} must be an RFC 3339 date-time")))
}

/// `POST /spaces/{spaceId}/invitations` (host, co-host; co-host invitations: host):
/// `{role, expiresAt, maxUses}` makes one shareable code; `{emails, role, expiresAt}` one
/// invitation per address (up to 300), each mailed. 201 with the invitations.
///
/// The e-mails are counted before any is sent: all of the request's addresses on the inviter's
/// count of the UTC day (past `DailyInvitationMails`: 429 `invitation_mail_quota_exceeded` and
/// nothing is made), then one on each address's count of the day, across all inviters (an
/// address past `DailyMailsPerRecipient` is not mailed: its invitation stands, answered with
/// `emailed: false`, `notEmailedBecause: recipient_daily_limit`). Shareable codes are not counted.
pub struct CreateInvitations {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    /// The inviter, whose name the invitations carry.
    pub users: Arc<dyn UserStore>,
    pub invitations: Arc<dyn InvitationStore>,
    pub mailer: Arc<dyn Mailer>,
    /// The front end's page that accepts a code (`VIVID_INVITATION_URL`), for join links.
    pub frontend: String,
    /// The daily counts of invitation e-mails.
    pub quotas: Quotas,
}

impl CreateInvitations {
    /// Counts one e-mail on each addressed invitation's recipient; answers, per invitation,
    /// whether it may be mailed (`None`: a code, nothing to mail).
    async fn recipients_admitted(&self, invitations: &[Invitation], day: &str) -> Vec<Option<bool>> {
        let keys: Vec<String> = invitations.iter().filter_map(|i| i.email.as_ref()).map(recipient_key).collect();
        if keys.is_empty() {
            return vec![None; invitations.len()];
        }
        let limit = self.quotas.daily_mails_per_recipient;
        let mut admitted = match self.invitations.count_recipient_mails(day, &keys, limit).await {
            Ok(admitted) => admitted.into_iter(),
            Err(e) => {
                // The invitations stand; none is mailed (their links can be shared).
                tracing::warn!(error = %e, "recipient mail counts not written: nothing mailed");
                vec![false; keys.len()].into_iter()
            }
        };
        invitations.iter().map(|i| i.email.as_ref().map(|_| admitted.next().unwrap_or(false))).collect()
    }
}

#[async_trait]
impl Handler for CreateInvitations {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: NewInvitations = req.json(MAX_INVITE_BODY)?;
        let expires_at_unix = body.expires_at.as_deref().map(|v| unix_of("expiresAt", v)).transpose()?;
        let role = body.role.unwrap_or(Role::Participant);
        let request = match body.emails {
            Some(_) if body.max_uses.is_some() => {
                return Err(ApiError::unprocessable(
                    "invalid_max_uses",
                    "an e-mail invitation admits its address once: maxUses is for shareable codes",
                ));
            }
            Some(emails) => InviteRequest::Emails { role, expires_at_unix, emails },
            None => InviteRequest::Code { role, expires_at_unix, max_uses: body.max_uses },
        };
        let member = require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        if role == Role::CoHost && !member.is_host() {
            // Making co-hosts is a role change: the host's.
            return Err(Denied::HostOnly.into());
        }
        // A token issued before the inviter's account deletion invites nobody in their name.
        let inviter =
            self.users.get_user(&caller.user_id).await?.filter(|u| !u.deleting).ok_or(ApiError::AccountDeleted)?;
        let (now, now_unix) = (now_rfc3339(), unix_now());
        let invitations = invitations_for(request, &member.space, &inviter, &now, now_unix)?;
        let (day, _) = utc_day(now_unix);
        let mails = invitations.iter().filter(|i| i.email.is_some()).count();
        if mails > 0 {
            // All of the request's e-mails on the inviter's count of the day, or none and 429.
            let limit = self.quotas.daily_invitation_mails;
            let mails = u64::try_from(mails).unwrap_or(u64::MAX);
            self.invitations.count_invitation_mails(&caller.user_id, &day, mails, limit).await?;
        }
        self.invitations.put_invitations(&invitations).await?;
        let admitted = self.recipients_admitted(&invitations, &day).await;
        let frontend = self.frontend.as_str();
        // Each e-mail invitation is mailed; a failed mail leaves the invitation standing.
        let sends: Vec<_> = invitations
            .iter()
            .zip(&admitted)
            .map(|(i, admitted)| {
                let (mailer, mail, id) = (self.mailer.clone(), invitation_mail(i, frontend), i.invitation_id.clone());
                let admitted = *admitted;
                async move {
                    let mail = mail?;
                    if admitted != Some(true) {
                        return Some(NotEmailed::RecipientDailyLimit);
                    }
                    match mailer.send(&mail).await {
                        Ok(()) => None,
                        Err(e) => {
                            tracing::warn!(invitation_id = %id, error = %e, "invitation e-mail not sent");
                            Some(NotEmailed::MailFailed)
                        }
                    }
                }
            })
            .collect();
        let not_emailed: Vec<Option<NotEmailed>> = stream::iter(sends).buffered(MAIL_CONCURRENCY).collect().await;
        let skipped = not_emailed.iter().filter(|n| **n == Some(NotEmailed::RecipientDailyLimit)).count();
        let failed = not_emailed.iter().filter(|n| **n == Some(NotEmailed::MailFailed)).count();
        tracing::info!(
            space_id = %space_id,
            invitations = invitations.len(),
            mailed = mails - skipped - failed,
            skipped,
            failed,
            "invitations created"
        );
        let items: Vec<InvitationView> = invitations
            .into_iter()
            .zip(not_emailed)
            .map(|(i, not_emailed_because)| InvitationView {
                emailed: i.email.as_ref().map(|_| not_emailed_because.is_none()),
                not_emailed_because,
                ..InvitationView::new(i, frontend, now_unix)
            })
            .collect();
        http::created(&format!("/spaces/{space_id}/invitations"), &serde_json::json!({ "items": items }))
    }
}

/// `GET /spaces/{spaceId}/invitations` (host, co-host): every invitation with its status,
/// oldest first, paginated; co-hosts do not see the co-host invitations (their codes make
/// co-hosts).
pub struct ListInvitations {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    pub invitations: Arc<dyn InvitationStore>,
    pub cursors: Arc<Cursors>,
    /// The front end's page that accepts a code, for join links.
    pub frontend: String,
}

#[async_trait]
impl Handler for ListInvitations {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let binding = format!("invitations|space={space_id}");
        let (limit, start) = self.cursors.page(req, &binding).await?;
        let member = require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let page = self.invitations.invitations(&space_id, limit, start).await?;
        let now = unix_now();
        // A co-host invitation's code makes co-hosts: the host's alone to see.
        let items = page
            .items
            .into_iter()
            .filter(|i| member.is_host() || i.role != Role::CoHost)
            .map(|i| InvitationView::new(i, &self.frontend, now))
            .collect();
        http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)
    }
}

/// `DELETE /spaces/{spaceId}/invitations/{invitationId}` (host, co-host): withdraws it; its code
/// is answered 410 `invitation_revoked` from then on. Revoking again is harmless.
pub struct RevokeInvitation {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    pub invitations: Arc<dyn InvitationStore>,
}

#[async_trait]
impl Handler for RevokeInvitation {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let id: InvitationId = req.path("invitationId")?;
        let member = require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let found = self.invitations.invitation(&space_id, &id).await?.ok_or(ApiError::NotFound("invitation"))?;
        if found.role == Role::CoHost && !member.is_host() {
            return Err(Denied::HostOnly.into());
        }
        self.invitations.revoke_invitation(&space_id, &id, &now_rfc3339()).await?;
        http::no_content()
    }
}

/// `POST /invitations/{code}/accept` (user): joins the space with the invitation's role. 200
/// with the space; already a member: 200, nothing used. Unknown code 404; expired, withdrawn or
/// used up 410 (`invitation_expired`, `invitation_revoked`, `invitation_used_up`); an e-mail
/// invitation for another address 403.
pub struct AcceptInvitation {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    pub invitations: Arc<dyn InvitationStore>,
}

impl AcceptInvitation {
    /// The space as the caller, now a member, sees it.
    async fn joined(&self, space: &SpaceId, user: &UserId) -> Result<Response<Body>, ApiError> {
        match self.spaces.space_access(space, user).await? {
            Some(a) if !a.space.deleting => match a.membership {
                Some(m) => http::json(StatusCode::OK, &SpaceView::new(a.space, m.role)),
                None => Err(ApiError::NotFound("space")),
            },
            _ => Err(ApiError::NotFound("space")),
        }
    }
}

#[async_trait]
impl Handler for AcceptInvitation {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        // A malformed code is as unknown as a wrong one (and never echoed).
        let code: InviteCode = req.path("code").map_err(|_| ApiError::NotFound("invitation"))?;
        let invitation = self.invitations.invitation_by_code(&code).await?.ok_or(ApiError::NotFound("invitation"))?;
        let space = invitation.space_id.clone();
        let access = self.spaces.space_access(&space, &caller.user_id).await?;
        match access {
            Some(a) if !a.space.deleting => {
                if a.membership.is_some() {
                    // Accepting twice, or a member following an old link: nothing to use.
                    return self.joined(&space, &caller.user_id).await;
                }
            }
            _ => return Err(ApiError::NotFound("space")),
        }
        let now_unix = unix_now();
        invitation.admits(&caller.email, now_unix)?;
        let membership = invitation.membership(&caller.user_id, &now_rfc3339());
        match self.invitations.accept_invitation(&invitation, &membership, now_unix).await {
            Ok(()) => {
                tracing::info!(space_id = %space, invitation_id = %invitation.invitation_id, "invitation accepted");
            }
            // A concurrent accept by the same caller won.
            Err(StoreError::Condition(Guard::Membership)) => {}
            Err(StoreError::Condition(Guard::Space)) => return Err(ApiError::NotFound("space")),
            Err(StoreError::Condition(Guard::Invitation)) => {
                // Used up, withdrawn or expired since it was read: say which. (Each of those
                // lasts; an invitation that still admits failed on its creator, who no longer
                // manages the space: withdrawn, as it is about to be listed.)
                let now = self.invitations.invitation_by_code(&code).await?.ok_or(ApiError::NotFound("invitation"))?;
                now.admits(&caller.email, unix_now())?;
                return Err(InviteRefused::Revoked.into());
            }
            // Removed by a manager: 403 `removed_from_space` (problem.rs).
            Err(e) => return Err(e.into()),
        }
        self.joined(&space, &caller.user_id).await
    }
}

/// `GET /users/me/invitations` (user): the open e-mail invitations to the caller's address,
/// newest first (up to 100).
pub struct ListMyInvitations {
    pub auth: Arc<TokenVerifier>,
    pub invitations: Arc<dyn InvitationStore>,
    /// The front end's page that accepts a code, for join links.
    pub frontend: String,
}

#[async_trait]
impl Handler for ListMyInvitations {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let now = unix_now();
        let items: Vec<InvitationView> = self
            .invitations
            .invitations_for(&caller.email, Limit::clamped(Limit::MAX))
            .await?
            .into_iter()
            .filter(|i| i.status(now) == InvitationStatus::Open)
            .map(|i| InvitationView::new(i, &self.frontend, now))
            .collect();
        http::json(StatusCode::OK, &serde_json::json!({ "items": items }))
    }
}
