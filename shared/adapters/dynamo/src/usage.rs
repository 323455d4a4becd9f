//! Quota counters: every counted write carries the update of its counter, conditioned on the
//! limit, in the same transaction — a count is never read and then written.

use aws_sdk_dynamodb::types::TransactWriteItem;
use vivid_domain::{
    error::{Guard, StoreError},
    quota::{Exceeded, Quota},
    types::{SpaceId, UserId, VideoId, unix_now},
};

use crate::{
    attrs,
    expr::{self, Changes},
    keys::{self, MemberItem},
    table::{Table, backend, key, n, s},
};

/// What a counter counts, with the attribute that holds it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counted {
    Snapshots,
    Drawings,
    Checkpoints,
    Bookmarks,
}

impl Counted {
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Counted::Snapshots => attrs::SNAPSHOTS,
            Counted::Drawings => attrs::DRAWINGS,
            Counted::Checkpoints => attrs::CHECKPOINTS,
            Counted::Bookmarks => attrs::BOOKMARKS,
        }
    }
    fn quota(self) -> Quota {
        match self {
            Counted::Snapshots => Quota::SnapshotsPerVideo,
            Counted::Drawings => Quota::DrawingsPerVideo,
            Counted::Checkpoints => Quota::CheckpointsPerVideo,
            Counted::Bookmarks => Quota::BookmarksPerVideo,
        }
    }
    /// The guard a refused count reports.
    pub fn guard(self, limit: u64) -> Guard {
        Guard::Quota(Exceeded { quota: self.quota(), limit })
    }
}

/// `ADD attr delta`, and with a limit only while the counter (absent: 0) stays within it.
pub(crate) fn counter(attr: &str, delta: i64, limit: Option<u64>) -> Changes {
    let changes = Changes::new().add(attr, n(delta));
    match limit {
        Some(limit) => changes
            .named(attr)
            .bind(":limit", n(limit.saturating_sub(delta.unsigned_abs())))
            .when(format!("attribute_not_exists(#{attr}) OR #{attr} <= :limit")),
        None => changes,
    }
}

impl Table {
    /// The update of a member's count on a video (`+1` checked against `limit`, `-1` unchecked).
    /// The counter item carries the member's GSI2 keys, so removing the member removes it.
    pub(crate) fn count_on_video(
        &self,
        what: Counted,
        video: &VideoId,
        space: &SpaceId,
        user: &UserId,
        delta: i64,
        limit: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        self.usage_update(counter(what.attr(), delta, limit), video, space, user)
    }

    /// `changes` to a member's usage item on a video (its counts and bytes there), which carries
    /// the member's GSI2 keys: removing the member finds it.
    pub(crate) fn usage_update(
        &self,
        changes: Changes,
        video: &VideoId,
        space: &SpaceId,
        user: &UserId,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = changes
            .set(attrs::GSI2PK, s(keys::member_data(space, user)))
            .set(attrs::GSI2SK, s(keys::member_item(video, MemberItem::Usage, None)))
            .set(attrs::TYPE, s("Usage"))
            .into_update(&self.table, key(keys::video(video), keys::usage(user)))
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The charge of `bytes` to a user's transcoding budget of `day`, within `limit`.
    pub(crate) fn charge_budget(
        &self,
        user: &UserId,
        day: &str,
        bytes: u64,
        limit: u64,
    ) -> Result<TransactWriteItem, StoreError> {
        let delta = i64::try_from(bytes).map_err(backend)?;
        let update = counter(attrs::TRANSCODE_BYTES, delta, Some(limit))
            .set(attrs::EXPIRES_AT, n(unix_now() + 2 * 86_400))
            .into_update(&self.table, key(keys::user(user), keys::budget(day)))
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Gives `bytes` back to a user's transcoding budget of `day` (a charge whose video was
    /// withdrawn before anything was transcoded); the day's item must still exist.
    pub(crate) fn refund_budget(&self, user: &UserId, day: &str, bytes: u64) -> Result<TransactWriteItem, StoreError> {
        let delta = i64::try_from(bytes).map_err(backend)?;
        let update = counter(attrs::TRANSCODE_BYTES, -delta, None)
            .when("attribute_exists(PK)")
            .into_update(&self.table, key(keys::user(user), keys::budget(day)))
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The update counting a space among its host's (`+1` within `limit`, `-1` down to 0); it
    /// also requires the host's account to exist, and a `+1` an account whose deletion has not
    /// begun (a space created or handed over meanwhile would outlive the account).
    pub(crate) fn count_hosted(
        &self,
        host: &UserId,
        delta: i64,
        limit: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut changes = counter(attrs::HOSTED_SPACES, delta, limit).when("attribute_exists(PK)");
        if delta > 0 {
            changes = changes.when(expr::not_deleting());
        }
        if delta < 0 {
            changes = changes.named(attrs::HOSTED_SPACES).bind(":zero", n(0)).when("#hostedSpaces > :zero");
        }
        let update = changes.into_update(&self.table, key(keys::user(host), keys::PROFILE)).map_err(backend)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

impl Table {
    /// Deletes a counted item and its count together (`Condition(Item)` when it is gone).
    pub(crate) async fn uncount(
        &self,
        what: Counted,
        item: crate::table::Item,
        video: &VideoId,
        space: &SpaceId,
        user: &UserId,
    ) -> Result<(), StoreError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(item))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(backend)?;
        self.transact(
            vec![
                TransactWriteItem::builder().delete(delete).build(),
                self.count_on_video(what, video, space, user, -1, None)?,
            ],
            &[Guard::Item, Guard::Item],
        )
        .await
    }
}
