//! The live grant a member's own write carries. A write that creates or changes one member's
//! per-video data (progress, memo, checkpoint, drawing, snapshot, bookmark) holds, in its own
//! transaction, `ConditionCheck`s on the membership, the writer's account, the space and the
//! video (the progress beacon's update of an existing item is checked by its standing's update
//! of the membership instead). A removal, a deletion or a video that is not ready refuses the
//! write at the moment it commits, whatever the route read before: nothing of a removed member
//! is created after their membership is gone, so the purge that follows finds all of it.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    types::{SpaceId, UserId, VideoId},
    video::VideoStatus,
};

use crate::{
    attrs, expr, keys,
    table::{Table, backend, key, s},
};

/// Who writes where: the member, the space they belong to and the video of the data.
#[derive(Clone, Copy)]
pub(crate) struct Grant<'a> {
    pub space: &'a SpaceId,
    pub video: &'a VideoId,
    pub user: &'a UserId,
}

impl Table {
    fn check(
        &self,
        pk: String,
        sk: String,
        condition: &str,
        values: &[(&str, AttributeValue)],
        names: &[(&str, &str)],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .condition_expression(condition);
        for (k, v) in values {
            check = check.expression_attribute_values(*k, v.clone());
        }
        for (k, v) in names {
            check = check.expression_attribute_names(*k, *v);
        }
        Ok(TransactWriteItem::builder().condition_check(check.build().map_err(backend)?).build())
    }

    /// The account is not being deleted: a token issued before `DELETE /users/me` writes
    /// nothing more of its member's data (`Guard::Account`: 401).
    fn account_check(&self, user: &UserId) -> Result<(TransactWriteItem, Guard), StoreError> {
        let check = self.check(keys::user(user), keys::PROFILE.into(), &expr::exists_not_deleting(), &[], &[])?;
        Ok((check, Guard::Account))
    }

    /// Everything a new item of a member's own data needs at the moment it is written: the
    /// membership, an account that is not being deleted, a space that is not being deleted, and a
    /// video of that space that is ready and not being deleted (failing as `Guard::Grant`,
    /// answered as to a stranger, but the account's): notes are taken on what can be watched, and
    /// nothing lands in a space, video or account whose deletion has started.
    pub(crate) fn grant_checks(&self, grant: Grant<'_>) -> Result<Vec<(TransactWriteItem, Guard)>, StoreError> {
        let member =
            self.check(keys::space(grant.space), keys::member(grant.user), "attribute_exists(PK)", &[], &[])?;
        let mut checks = vec![(member, Guard::Grant)];
        checks.extend(self.place_checks(grant)?);
        Ok(checks)
    }

    /// The account, space and video checks of [`Self::grant_checks`], for a write that checks
    /// the membership with its own update of the membership item (a transaction names an item
    /// once).
    pub(crate) fn place_checks(&self, grant: Grant<'_>) -> Result<Vec<(TransactWriteItem, Guard)>, StoreError> {
        let space = self.check(keys::space(grant.space), keys::META.into(), &expr::exists_not_deleting(), &[], &[])?;
        let video = self.check(
            keys::video(grant.video),
            keys::META.into(),
            &format!("{} AND {} = :space AND #status = :ready", expr::exists_not_deleting(), attrs::SPACE_ID),
            &[(":space", s(grant.space.to_string())), (":ready", s(VideoStatus::Ready.as_str()))],
            &[("#status", attrs::STATUS)],
        )?;
        Ok(vec![self.account_check(grant.user)?, (space, Guard::Grant), (video, Guard::Grant)])
    }

    /// A transaction of `writes` (each with the guard its condition names) and `checks`.
    pub(crate) async fn transact_checked(
        &self,
        writes: Vec<(TransactWriteItem, Guard)>,
        checks: Vec<(TransactWriteItem, Guard)>,
    ) -> Result<(), StoreError> {
        let (items, guards): (Vec<_>, Vec<_>) = writes.into_iter().chain(checks).unzip();
        self.transact(items, &guards).await
    }
}
