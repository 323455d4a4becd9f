//! Who may see and change a space: the rules every space-scoped route applies.

use crate::{
    error::ApiError,
    model::{Membership, Role, Space, SpaceAccess},
};

/// A space the caller belongs to, with their membership.
#[derive(Debug, Clone)]
pub struct Member {
    pub space: Space,
    pub membership: Membership,
}

impl Member {
    pub fn is_host(&self) -> bool {
        self.membership.role == Role::Host
    }
}

/// The caller must belong to the space. A stranger learns nothing: the space is "not found",
/// exactly as for a space that does not exist or is being deleted.
pub fn require_member(access: Option<SpaceAccess>) -> Result<Member, ApiError> {
    match access {
        Some(SpaceAccess { space, membership: Some(membership) }) if !space.deleting => {
            Ok(Member { space, membership })
        }
        _ => Err(ApiError::NotFound("space")),
    }
}

/// The caller must host the space: a stranger gets 404, a participant 403.
pub fn require_host(access: Option<SpaceAccess>) -> Result<Member, ApiError> {
    let member = require_member(access)?;
    if member.is_host() {
        Ok(member)
    } else {
        Err(ApiError::forbidden("host_only", "only the space's host may do this"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Description, SpaceName, UserId};

    fn access(role: Option<Role>, deleting: bool) -> Option<SpaceAccess> {
        let host = UserId::generate();
        let mut space = Space::new(SpaceName::personal(), Description::default(), host.clone(), false, "t");
        space.deleting = deleting;
        let membership = role.map(|role| Membership {
            space_id: space.space_id.clone(),
            user_id: host,
            role,
            personal: false,
            joined_at: "t".into(),
        });
        Some(SpaceAccess { space, membership })
    }

    #[test]
    fn strangers_and_deleted_spaces_are_not_found() {
        assert!(matches!(require_member(None), Err(ApiError::NotFound(_))));
        assert!(matches!(require_member(access(None, false)), Err(ApiError::NotFound(_))));
        assert!(matches!(require_member(access(Some(Role::Host), true)), Err(ApiError::NotFound(_))));
        assert!(matches!(require_host(access(None, false)), Err(ApiError::NotFound(_))));
    }

    #[test]
    fn participants_are_members_but_not_hosts() {
        assert!(require_member(access(Some(Role::Participant), false)).is_ok());
        assert!(matches!(require_host(access(Some(Role::Participant), false)), Err(ApiError::Forbidden { .. })));
        assert!(require_host(access(Some(Role::Host), false)).is_ok());
    }
}
