//! `/spaces/{spaceId}/members` and `/spaces/{spaceId}/members/{userId}`.

use std::{collections::HashMap, sync::Arc};

use ::http::StatusCode;
use async_trait::async_trait;
use lambda_http::{Body, Response};
use serde::{Deserialize, Serialize};

use vivid_domain::{
    access::{Denied, require_host, require_manager, require_member},
    cascade::purge_member,
    deletion::{Deletion, DeletionInvoker},
    error::{Guard, StoreError},
    media::MediaStore,
    quota::Quotas,
    spaces::{Membership, Role, SpaceStore},
    types::{Email, SpaceId, UserId, now_rfc3339},
    users::{User, UserStore},
    zoom::AutoImportStore,
};
use vivid_edge::{
    ApiError,
    cursor::Cursors,
    http::{self, ApiRequest, DEFAULT_MAX_BODY, Handler},
};
use vivid_tokens::TokenVerifier;

/// A member as the space's members see them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: UserId,
    pub name: String,
    pub email: Email,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    pub role: Role,
    pub joined_at: String,
}

impl MemberView {
    pub(crate) fn new(m: Membership, user: User) -> Self {
        Self {
            user_id: m.user_id,
            name: user.name,
            email: user.email,
            picture: user.picture,
            role: m.role,
            joined_at: m.joined_at,
        }
    }
}

/// The users of a page of memberships, by id; a membership whose user is gone (an account
/// deletion under way) is left out of the page.
pub(crate) async fn users_of(users: &dyn UserStore, members: &[Membership]) -> Result<HashMap<UserId, User>, ApiError> {
    let ids: Vec<UserId> = members.iter().map(|m| m.user_id.clone()).collect();
    Ok(users.get_users(&ids).await?.into_iter().map(|u| (u.user_id.clone(), u)).collect())
}

/// `GET /spaces/{spaceId}/members` (member), paginated.
pub struct ListMembers {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    pub users: Arc<dyn UserStore>,
    pub cursors: Arc<Cursors>,
}

#[async_trait]
impl Handler for ListMembers {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let binding = format!("members|space={space_id}");
        let (limit, start) = self.cursors.page(req, &binding).await?;
        require_member(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let page = self.spaces.members(&space_id, limit, start).await?;
        let mut users = users_of(self.users.as_ref(), &page.items).await?;
        // A membership whose user is gone (account deletion under way) is not shown.
        let items =
            page.items.into_iter().filter_map(|m| users.remove(&m.user_id).map(|u| MemberView::new(m, u))).collect();
        http::json(StatusCode::OK, &self.cursors.list(items, page.next.as_ref(), &binding).await?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewMember {
    email: Email,
}

/// 404 `not_found` for an address no account has (or whose account is being deleted), as
/// alike as the two are: the way to bring that person in is an invitation.
fn no_account() -> ApiError {
    ApiError::NotFoundThen("no account has this e-mail address: invite it instead (POST /spaces/{spaceId}/invitations)")
}

/// `POST /spaces/{spaceId}/members` (host, co-host): adds a registered user as participant.
pub struct AddMember {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    pub users: Arc<dyn UserStore>,
}

#[async_trait]
impl Handler for AddMember {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: NewMember = req.json(DEFAULT_MAX_BODY)?;
        require_manager(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        // An account being deleted is no registered user any more (as an address never signed up:
        // 404); its owner can be added again once they signed up anew.
        let user = self.users.find_user_by_email(&body.email).await?.filter(|u| !u.deleting).ok_or_else(no_account)?;
        let membership = Membership {
            space_id: space_id.clone(),
            user_id: user.user_id.clone(),
            role: Role::Participant,
            personal: false,
            joined_at: now_rfc3339(),
        };
        match self.spaces.add_member(&membership).await {
            Err(StoreError::Condition(Guard::Membership)) => {
                return Err(ApiError::conflict("already_member", "the user is already a member of this space"));
            }
            // The account's deletion began since it was read.
            Err(StoreError::Condition(Guard::Account)) => return Err(no_account()),
            Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("space")),
            other => other?,
        }
        let location = format!("/spaces/{space_id}/members/{}", user.user_id);
        http::created(&location, &MemberView::new(membership, user))
    }
}

/// `DELETE /spaces/{spaceId}/members/{userId}`: the host removes a participant or a co-host, a
/// co-host removes a participant, or a member leaves. The host is never removed (they transfer
/// the space first). The removal takes effect at once; the member's per-video data goes with them
/// in the deletion worker, seconds later.
pub struct RemoveMember {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    /// Purges the member's data here when the deletion worker cannot be started.
    pub media: Arc<dyn MediaStore>,
    pub deletions: Arc<dyn DeletionInvoker>,
    /// The member's Zoom links go with their role.
    pub links: Arc<dyn AutoImportStore>,
}

#[async_trait]
impl Handler for RemoveMember {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let target: UserId = req.path("userId")?;
        let member = require_member(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        let leaving = target == caller.user_id;
        if !leaving && !member.manages() {
            return Err(Denied::ManagersOnly.into());
        }
        if target == member.space.host_id {
            return Err(ApiError::conflict(
                "host_cannot_leave",
                "the host cannot be removed from their space: transfer it to another member first",
            ));
        }
        if !leaving && !member.is_host() {
            // A co-host removes participants; co-hosts are the host's to remove.
            let theirs = self.spaces.space_access(&space_id, &target).await?.and_then(|a| a.membership);
            match theirs {
                None => return Err(ApiError::NotFound("member")),
                Some(m) if m.role != Role::Participant => return Err(Denied::HostOnly.into()),
                Some(_) => {}
            }
        }
        // Revocation first: the membership goes, and with it every grant — each write of a
        // member's own data checks the membership in its own transaction, and playback and the
        // member's reads check it consistently. Their data follows in the deletion worker, once
        // the index that finds it shows their last writes.
        match self.spaces.remove_member(&space_id, &target, !leaving).await {
            Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("member")),
            other => other?,
        }
        // Their data next: once the membership is gone, a retried DELETE is a 404 and would not
        // start it again.
        let job = Deletion::Member { space_id: space_id.clone(), user_id: target.clone() };
        if let Err(e) = self.deletions.start(&job).await {
            // The membership is gone already; the data is purged here instead, as far as the
            // index shows it.
            tracing::warn!(error = %e, %space_id, "deletion worker not started: purging the member's data here");
            purge_member(self.spaces.as_ref(), self.media.as_ref(), &space_id, &target).await?;
        }
        // Their Zoom link goes with their role (each delivery checks the role too).
        self.links.remove_auto_import_of(&space_id, &target).await?;
        // The invitations they made go with their role (accepting one also checks its creator).
        self.spaces.withdraw_invitations_of(&space_id, &target, &now_rfc3339()).await?;
        http::no_content()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RoleChange {
    role: Role,
}

/// `PATCH /spaces/{spaceId}/members/{userId} {role}` (host): makes a member co-host or
/// participant. The host's own role changes only by a transfer.
pub struct UpdateMember {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    pub users: Arc<dyn UserStore>,
    /// A co-host made participant loses their Zoom link.
    pub links: Arc<dyn AutoImportStore>,
}

#[async_trait]
impl Handler for UpdateMember {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let target: UserId = req.path("userId")?;
        let body: RoleChange = req.json(DEFAULT_MAX_BODY)?;
        let member = require_host(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        if body.role == Role::Host {
            return Err(ApiError::unprocessable(
                "use_transfer",
                "a space has one host: hand it over with POST /spaces/{spaceId}/transfer",
            ));
        }
        if target == member.space.host_id {
            return Err(ApiError::conflict(
                "host_role",
                "the host's role changes only by a transfer: hand the space over with POST /spaces/{spaceId}/transfer",
            ));
        }
        let membership = match self.spaces.set_role(&space_id, &target, body.role).await {
            Err(StoreError::Condition(_)) => return Err(ApiError::NotFound("member")),
            other => other?,
        };
        if membership.role == Role::Participant {
            // The invitations a co-host made go with their role.
            self.spaces.withdraw_invitations_of(&space_id, &target, &now_rfc3339()).await?;
        }
        if membership.role == Role::Participant {
            // So does their Zoom link (each delivery checks the role too).
            self.links.remove_auto_import_of(&space_id, &target).await?;
        }
        let user = self.users.get_user(&target).await?.ok_or(ApiError::NotFound("member"))?;
        http::json(StatusCode::OK, &MemberView::new(membership, user))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Transfer {
    user_id: UserId,
}

/// `POST /spaces/{spaceId}/transfer {userId}` (host): hands the space to another member, who
/// becomes its host; the old host stays as co-host. A personal space is not transferable.
pub struct TransferSpace {
    pub auth: Arc<TokenVerifier>,
    pub spaces: Arc<dyn SpaceStore>,
    /// The new host's count of hosted spaces.
    pub quotas: Quotas,
}

#[async_trait]
impl Handler for TransferSpace {
    async fn handle(&self, req: &ApiRequest) -> Result<Response<Body>, ApiError> {
        let caller = req.caller(&self.auth)?;
        let space_id: SpaceId = req.path("spaceId")?;
        let body: Transfer = req.json(DEFAULT_MAX_BODY)?;
        let member = require_host(self.spaces.space_access(&space_id, &caller.user_id).await?)?;
        if member.space.personal {
            return Err(ApiError::conflict("personal_space", "a personal space cannot be handed over"));
        }
        if body.user_id == caller.user_id {
            return Err(ApiError::conflict("already_host", "you already host this space"));
        }
        match self.spaces.transfer_space(&space_id, &caller.user_id, &body.user_id, self.quotas.hosted_spaces).await {
            Err(StoreError::Condition(Guard::Membership)) => return Err(ApiError::NotFound("member")),
            // Deleted or handed over meanwhile.
            Err(StoreError::Condition(Guard::Space)) => return Err(ApiError::NotFound("space")),
            other => other?,
        }
        tracing::info!(space_id = %space_id, "space handed over");
        let mut space = member.space;
        space.host_id = body.user_id;
        http::json(StatusCode::OK, &crate::spaces::SpaceView::new(space, Role::CoHost))
    }
}
