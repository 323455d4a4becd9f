//! Users, spaces and memberships (`users.rs` and `spaces.rs` of the DynamoDB adapter).

use async_trait::async_trait;
use vivid_domain::{
    error::{Guard, StoreError},
    page::{Page, PageKey},
    quota::{Exceeded, Quota},
    spaces::{Membership, Role, Space, SpaceAccess, SpacePatch, SpaceStore, Standing},
    types::{Email, Limit, SpaceId, UserId, VideoId, now_rfc3339},
    users::{Profile, Usage, User, UserStore},
};

use super::{Memory, UserRow, World, failed, page};

impl World {
    /// Every object key a member's per-video data in a space points at (their snapshots).
    fn member_objects(&self, space: &SpaceId, user: &UserId) -> Vec<String> {
        self.snapshots
            .values()
            .filter(|s| s.space_id == *space && s.user_id == *user)
            .map(|s| s.object_key.clone())
            .collect()
    }

    /// Whether `host` may count one more hosted space (their account live, under `limit`).
    fn may_host(&self, host: &UserId, limit: u64) -> bool {
        self.users.get(host).is_some_and(|u| !u.user.deleting && u64::try_from(u.hosted + 1).is_ok_and(|n| n <= limit))
    }
}

#[async_trait]
impl UserStore for Memory {
    async fn create_user(&self, user: &User, personal: &Space, google_sub: Option<&str>) -> Result<(), StoreError> {
        let mut w = self.world();
        let host = (personal.space_id.clone(), user.user_id.clone());
        if w.users.contains_key(&user.user_id) {
            return failed(Guard::User);
        }
        if w.emails.contains_key(user.email.as_str()) {
            return failed(Guard::Email);
        }
        if w.spaces.contains_key(&personal.space_id) {
            return failed(Guard::Space);
        }
        if w.members.contains_key(&host) {
            return failed(Guard::Membership);
        }
        if google_sub.is_some_and(|sub| w.google.contains_key(sub)) {
            return failed(Guard::Google);
        }
        w.users.insert(user.user_id.clone(), UserRow { user: user.clone(), hosted: 0, mark: None });
        w.emails.insert(user.email.as_str().to_owned(), user.user_id.clone());
        w.spaces.insert(personal.space_id.clone(), personal.clone());
        let membership = Membership {
            space_id: personal.space_id.clone(),
            user_id: user.user_id.clone(),
            role: Role::Host,
            personal: true,
            joined_at: personal.created_at.clone(),
        };
        w.members.insert(host, (membership, Standing::default()));
        if let Some(sub) = google_sub {
            w.google.insert(sub.to_owned(), user.user_id.clone());
        }
        Ok(())
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.world().users.get(id).map(|u| u.user.clone()))
    }

    /// No platform is ever connected here (connections are not modelled).
    async fn get_profile(&self, id: &UserId, day: &str) -> Result<Option<Profile>, StoreError> {
        let w = self.world();
        let Some(row) = w.users.get(id) else { return Ok(None) };
        let budget = w.budgets.get(&(id.clone(), day.to_owned())).cloned().unwrap_or_default();
        let count = |n: i64| n.max(0).unsigned_abs();
        let usage = Usage {
            hosted_spaces: count(row.hosted),
            transcode_bytes_today: count(budget.bytes),
            transcode_minutes_today: count(budget.minutes[0]),
            transcribe_minutes_today: count(budget.minutes[1]),
            storage_bytes: count(w.storage.get(id).copied().unwrap_or(0)),
        };
        Ok(Some(Profile { user: row.user.clone(), connected: Vec::new(), usage }))
    }

    async fn get_users(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        let w = self.world();
        let mut unique: Vec<&UserId> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        Ok(unique.into_iter().filter_map(|id| w.users.get(id)).map(|u| u.user.clone()).collect())
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let w = self.world();
        Ok(w.emails.get(email.as_str()).and_then(|id| w.users.get(id)).map(|u| u.user.clone()))
    }

    async fn mark_deleting(&self, id: &UserId, mark: &str) -> Result<(), StoreError> {
        let mut w = self.world();
        let Some(row) = w.users.get_mut(id) else { return failed(Guard::User) };
        row.user.deleting = true;
        row.mark = Some(mark.to_owned());
        Ok(())
    }

    async fn unmark_deleting(&self, id: &UserId, mark: &str) -> Result<(), StoreError> {
        let mut w = self.world();
        if let Some(row) = w.users.get_mut(id).filter(|r| r.mark.as_deref() == Some(mark)) {
            row.user.deleting = false;
            row.mark = None;
        }
        Ok(())
    }

    async fn delete_user(&self, user: &User) -> Result<(), StoreError> {
        let mut w = self.world();
        w.users.remove(&user.user_id);
        w.emails.remove(user.email.as_str());
        w.google.retain(|_, id| *id != user.user_id);
        w.budgets.retain(|(id, _), _| *id != user.user_id);
        w.storage.remove(&user.user_id);
        Ok(())
    }
}

/// A membership's place among its user's (`GSI1SK`): personal space first, then by joining.
fn member_of(m: &Membership) -> String {
    format!("{}#{}#{}", if m.personal { 0 } else { 1 }, m.joined_at, m.space_id)
}

#[async_trait]
impl SpaceStore for Memory {
    async fn create_space(&self, space: &Space, host: &Membership, hosted_limit: u64) -> Result<(), StoreError> {
        let mut w = self.world();
        let key = (space.space_id.clone(), host.user_id.clone());
        if w.spaces.contains_key(&space.space_id) {
            return failed(Guard::Space);
        }
        if w.members.contains_key(&key) {
            return failed(Guard::Membership);
        }
        if !w.may_host(&space.host_id, hosted_limit) {
            let quota = Guard::Quota(Exceeded { quota: Quota::HostedSpaces, limit: hosted_limit });
            return failed(if w.account_live(&space.host_id) { quota } else { Guard::Account });
        }
        w.spaces.insert(space.space_id.clone(), space.clone());
        w.members.insert(key, (host.clone(), Standing::default()));
        if let Some(row) = w.users.get_mut(&space.host_id) {
            row.hosted += 1;
        }
        Ok(())
    }

    async fn get_space(&self, space: &SpaceId) -> Result<Option<Space>, StoreError> {
        Ok(self.world().spaces.get(space).cloned())
    }

    async fn space_access(&self, space: &SpaceId, user: &UserId) -> Result<Option<SpaceAccess>, StoreError> {
        let w = self.world();
        let membership = w.members.get(&(space.clone(), user.clone())).map(|(m, _)| m.clone());
        Ok(w.spaces.get(space).map(|s| SpaceAccess { space: s.clone(), membership }))
    }

    async fn spaces_of(
        &self,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<(Membership, Space)>, StoreError> {
        let Page { items, next } = self.memberships_of(user, limit, start).await?;
        let w = self.world();
        let items = items
            .into_iter()
            .filter_map(|m| w.spaces.get(&m.space_id).filter(|s| !s.deleting).cloned().map(|s| (m, s)))
            .collect();
        Ok(Page { items, next })
    }

    async fn memberships_of(
        &self,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Membership>, StoreError> {
        let w = self.world();
        let rows = w.members.values().filter(|(m, _)| m.user_id == *user).map(|(m, _)| (member_of(m), m.clone()));
        page(&format!("USER#{user}"), rows.collect(), limit, start, true)
    }

    async fn update_space(&self, id: &SpaceId, patch: &SpacePatch, now: &str) -> Result<Space, StoreError> {
        let mut w = self.world();
        let Some(space) = w.spaces.get_mut(id).filter(|s| !s.deleting) else { return failed(Guard::Space) };
        space.updated_at = now.to_owned();
        if let Some(name) = &patch.name {
            space.name = name.clone();
        }
        if let Some(description) = &patch.description {
            space.description = description.clone();
        }
        if let Some(transcription) = &patch.transcription {
            space.transcription = Some(transcription.clone());
        }
        if patch.completion_threshold.is_some() {
            space.completion_threshold = patch.completion_threshold;
        }
        if patch.study_map_k.is_some() {
            space.study_map_k = patch.study_map_k;
        }
        if patch.default_visibility.is_some() {
            space.default_visibility = patch.default_visibility;
        }
        Ok(space.clone())
    }

    async fn tombstone_space(&self, id: &SpaceId) -> Result<(), StoreError> {
        let mut w = self.world();
        let Some(space) = w.spaces.get_mut(id) else { return failed(Guard::Space) };
        space.deleting = true;
        Ok(())
    }

    async fn sweep_space(&self, id: &SpaceId) -> Result<(), StoreError> {
        let mut w = self.world();
        w.members.retain(|(space, _), _| space != id);
        w.removed.retain(|(space, _)| space != id);
        w.recordings.retain(|(space, _), _| space != id);
        let Some(space) = w.spaces.remove(id) else { return Ok(()) };
        if !space.personal
            && let Some(host) = w.users.get_mut(&space.host_id).filter(|h| h.hosted > 0)
        {
            host.hosted -= 1;
        }
        Ok(())
    }

    async fn members(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Membership>, StoreError> {
        Ok(self.standings(space, limit, start).await?.map(|(m, _)| m))
    }

    async fn add_member(&self, membership: &Membership) -> Result<(), StoreError> {
        let mut w = self.world();
        let key = (membership.space_id.clone(), membership.user_id.clone());
        if w.members.contains_key(&key) {
            return failed(Guard::Membership);
        }
        if !w.space_live(&membership.space_id) {
            return failed(Guard::Space);
        }
        if !w.account_live(&membership.user_id) {
            return failed(Guard::Account);
        }
        w.members.insert(key.clone(), (membership.clone(), Standing::default()));
        w.removed.remove(&key);
        if let Some(space) = w.spaces.get_mut(&membership.space_id) {
            space.member_count += 1;
        }
        Ok(())
    }

    async fn remove_member(&self, space: &SpaceId, user: &UserId, removed_by_manager: bool) -> Result<(), StoreError> {
        let mut w = self.world();
        let key = (space.clone(), user.clone());
        if !w.members.get(&key).is_some_and(|(m, _)| m.role != Role::Host) {
            return failed(Guard::Membership);
        }
        let Some(s) = w.spaces.get_mut(space) else { return failed(Guard::Space) };
        s.member_count = s.member_count.saturating_sub(1);
        w.members.remove(&key);
        w.lti_subs.remove(&key);
        if removed_by_manager {
            w.removed.insert(key);
        }
        Ok(())
    }

    /// No invitation exists here (they are not modelled): none to withdraw.
    async fn withdraw_invitations_of(&self, _: &SpaceId, _: &UserId, _: &str) -> Result<usize, StoreError> {
        Ok(0)
    }

    async fn set_role(&self, space: &SpaceId, user: &UserId, role: Role) -> Result<Membership, StoreError> {
        let mut w = self.world();
        match w.members.get_mut(&(space.clone(), user.clone())) {
            Some((m, _)) if m.role != Role::Host => {
                m.role = role;
                Ok(m.clone())
            }
            _ => failed(Guard::Membership),
        }
    }

    async fn transfer_space(
        &self,
        space: &SpaceId,
        from: &UserId,
        to: &UserId,
        hosted_limit: u64,
    ) -> Result<(), StoreError> {
        let mut w = self.world();
        let hosted_by_from = w.spaces.get(space).is_some_and(|s| !s.deleting && s.host_id == *from && !s.personal);
        let from_key = (space.clone(), from.clone());
        let to_key = (space.clone(), to.clone());
        if !hosted_by_from || !w.members.get(&from_key).is_some_and(|(m, _)| m.role == Role::Host) {
            return failed(Guard::Space);
        }
        if !w.members.get(&to_key).is_some_and(|(m, _)| m.role != Role::Host) {
            return failed(Guard::Membership);
        }
        if !w.may_host(to, hosted_limit) {
            return failed(Guard::Quota(Exceeded { quota: Quota::HostedSpaces, limit: hosted_limit }));
        }
        if let Some(s) = w.spaces.get_mut(space) {
            s.host_id = to.clone();
            s.updated_at = now_rfc3339();
        }
        for (key, role) in [(from_key, Role::CoHost), (to_key, Role::Host)] {
            if let Some((m, _)) = w.members.get_mut(&key) {
                m.role = role;
            }
        }
        if let Some(row) = w.users.get_mut(to) {
            row.hosted += 1;
        }
        // The old host's count, unless their account is gone or never counted the space.
        if let Some(row) = w.users.get_mut(from).filter(|r| r.hosted > 0) {
            row.hosted -= 1;
        }
        Ok(())
    }

    async fn standings(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<(Membership, Standing)>, StoreError> {
        let w = self.world();
        let rows = w
            .members
            .iter()
            .filter(|((s, _), _)| s == space)
            .map(|((_, user), (m, standing))| (user.to_string(), (m.clone(), standing.clone())));
        page(&format!("SPACE#{space}"), rows.collect(), limit, start, true)
    }

    async fn member_objects(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError> {
        Ok(self.world().member_objects(space, user))
    }

    async fn purge_member_data(&self, space: &SpaceId, user: &UserId) -> Result<Vec<String>, StoreError> {
        let mut w = self.world();
        let objects = w.member_objects(space, user);
        let ours = |s: &SpaceId, u: &UserId| s == space && u == user;
        // Their usage first, with the bytes it charged to their storage.
        let released: i64 = w
            .usage
            .iter()
            .filter(|((_, u), row)| row.space.as_ref() == Some(space) && u == user)
            .map(|(_, r)| r.bytes)
            .sum();
        if let Some(total) = w.storage.get_mut(user) {
            *total -= released;
        }
        w.usage.retain(|(_, u), row| !(row.space.as_ref() == Some(space) && u == user));
        let purged: Vec<(VideoId, UserId)> =
            w.progress.iter().filter(|(_, p)| ours(&p.space_id, &p.user_id)).map(|(k, _)| k.clone()).collect();
        w.progress.retain(|_, p| !ours(&p.space_id, &p.user_id));
        for key in purged {
            w.lti_posted.remove(&key);
        }
        w.snapshots.retain(|_, s| !ours(&s.space_id, &s.user_id));
        w.bookmarks.retain(|_, b| !ours(&b.space_id, &b.user_id));
        w.note_postings.retain(|(s, u, _), _| !ours(s, u));
        Ok(objects)
    }
}
