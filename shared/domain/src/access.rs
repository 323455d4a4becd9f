//! Who may see and change a space: the rules every space-scoped route applies.

use crate::spaces::{Membership, Role, Space, SpaceAccess};

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

    /// Host or co-host.
    pub fn manages(&self) -> bool {
        self.membership.role.manages()
    }
}

/// Why a caller may not act on a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Not a member (or no such space, or it is being deleted): the caller learns nothing.
    #[error("space not found")]
    Unknown,
    /// A member without the role.
    #[error("only the space's host may do this")]
    HostOnly,
    /// A participant, where the host or a co-host may act.
    #[error("only the space's host or a co-host may do this")]
    ManagersOnly,
}

/// The caller must belong to the space. A stranger learns nothing: the space is "not found",
/// exactly as for a space that does not exist or is being deleted.
pub fn require_member(access: Option<SpaceAccess>) -> Result<Member, Denied> {
    match access {
        Some(SpaceAccess { space, membership: Some(membership) }) if !space.deleting => {
            Ok(Member { space, membership })
        }
        _ => Err(Denied::Unknown),
    }
}

/// The caller must host the space: a stranger gets `Unknown`, a participant `HostOnly`.
pub fn require_host(access: Option<SpaceAccess>) -> Result<Member, Denied> {
    let member = require_member(access)?;
    if member.is_host() { Ok(member) } else { Err(Denied::HostOnly) }
}

/// The caller must host or co-host the space: a stranger gets `Unknown`, a participant
/// `ManagersOnly`.
pub fn require_manager(access: Option<SpaceAccess>) -> Result<Member, Denied> {
    let member = require_member(access)?;
    if member.manages() { Ok(member) } else { Err(Denied::ManagersOnly) }
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
    fn strangers_and_deleted_spaces_are_unknown() {
        assert_eq!(require_member(None).err(), Some(Denied::Unknown));
        assert_eq!(require_member(access(None, false)).err(), Some(Denied::Unknown));
        assert_eq!(require_member(access(Some(Role::Host), true)).err(), Some(Denied::Unknown));
        assert_eq!(require_host(access(None, false)).err(), Some(Denied::Unknown));
    }

    #[test]
    fn participants_are_members_but_not_hosts() {
        assert!(require_member(access(Some(Role::Participant), false)).is_ok());
        assert_eq!(require_host(access(Some(Role::Participant), false)).err(), Some(Denied::HostOnly));
        assert!(require_host(access(Some(Role::Host), false)).is_ok());
    }

    #[test]
    fn co_hosts_manage_but_do_not_own() {
        assert!(require_manager(access(Some(Role::CoHost), false)).is_ok());
        assert!(require_manager(access(Some(Role::Host), false)).is_ok());
        assert_eq!(require_manager(access(Some(Role::Participant), false)).err(), Some(Denied::ManagersOnly));
        assert_eq!(require_manager(access(None, false)).err(), Some(Denied::Unknown));
        assert_eq!(require_host(access(Some(Role::CoHost), false)).err(), Some(Denied::HostOnly));
    }
}
