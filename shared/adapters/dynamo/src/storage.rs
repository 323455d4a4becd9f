//! The storage quota's counters (`Quota::StorageBytes`): an account's total on `USER#/STORAGE`
//! (`bytes`) and its share on each video on the member's usage item `VIDEO#/USAGE#{user}`
//! (`bytes`, beside the counts). Every change of a note's bytes changes both in the note's own
//! transaction, so the total is always the sum of the account's usage items; a charge is checked
//! against the limit in the total's condition (never read, then written). A purge removes each
//! usage item with what it charged, one transaction each, before the rest goes: a purge repeated
//! after a failure finds the item gone and gives nothing back twice.

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    quota::{Exceeded, Quota},
    storage::{Limits, signed},
    types::UserId,
};

use crate::{
    attrs,
    expr::Changes,
    keys,
    live::Grant,
    table::{Item, PK, SK, Table, backend, key, n, s},
    usage::{Counted, counter},
};

/// Bytes a new note charges to its author's storage, within `limit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Charge {
    pub bytes: u64,
    pub limit: u64,
}

impl Charge {
    fn guard(self) -> Guard {
        over(self.limit)
    }
}

/// The guard of a storage total's condition: past `limit`.
fn over(limit: u64) -> Guard {
    Guard::Quota(Exceeded { quota: Quota::StorageBytes, limit })
}

impl Table {
    /// `ADD bytes delta` on a user's storage total (created with the first charge); a charge
    /// (`delta > 0`) only while the total stays within `limit`.
    fn storage_total(&self, user: &UserId, delta: i64, limit: Option<u64>) -> Result<TransactWriteItem, StoreError> {
        let update = counter(attrs::BYTES, delta, limit.filter(|_| delta > 0))
            .set(attrs::TYPE, s("Storage"))
            .into_update(&self.table, key(keys::user(user), keys::STORAGE))
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The writes that count a member's new note on a video (within `per_video`) and, with a
    /// charge, add its bytes to their usage there and to their storage total (within the charge's
    /// limit), each with the guard its condition names. A note larger than the whole quota is
    /// refused here: an account without a total yet would let any charge through.
    pub(crate) fn count_and_charge(
        &self,
        what: Counted,
        grant: Grant<'_>,
        per_video: u64,
        charge: Option<Charge>,
    ) -> Result<Vec<(TransactWriteItem, Guard)>, StoreError> {
        let Grant { space, video, user } = grant;
        let mut count = counter(what.attr(), 1, Some(per_video));
        let Some(charge) = charge else {
            return Ok(vec![(self.usage_update(count, video, space, user)?, what.guard(per_video))]);
        };
        Limits { per_video, storage_bytes: charge.limit }
            .check_size(charge.bytes)
            .map_err(|e| StoreError::Condition(Guard::Quota(e)))?;
        let bytes = signed(charge.bytes);
        if bytes != 0 {
            count = count.add(attrs::BYTES, n(bytes));
        }
        let mut writes = vec![(self.usage_update(count, video, space, user)?, what.guard(per_video))];
        if bytes != 0 {
            writes.push((self.storage_total(user, bytes, Some(charge.limit))?, charge.guard()));
        }
        Ok(writes)
    }

    /// The writes that change the bytes a member's note on a video takes by `delta` (a
    /// replacement): their usage there and their storage total, a growth within `limit`. None
    /// when the size is unchanged.
    pub(crate) fn recharge(
        &self,
        grant: Grant<'_>,
        delta: i64,
        limit: u64,
    ) -> Result<Vec<(TransactWriteItem, Guard)>, StoreError> {
        if delta == 0 {
            return Ok(Vec::new());
        }
        let Grant { space, video, user } = grant;
        let usage = self.usage_update(Changes::new().add(attrs::BYTES, n(delta)), video, space, user)?;
        Ok(vec![(usage, Guard::Item), (self.storage_total(user, delta, Some(limit))?, over(limit))])
    }

    /// Deletes a member's counted note with its count and the `bytes` charged for it, in one
    /// transaction: `Condition(Item)` when `delete`'s own condition fails (gone, or changed).
    pub(crate) async fn uncount_stored(
        &self,
        what: Counted,
        delete: Delete,
        grant: Grant<'_>,
        bytes: u64,
    ) -> Result<(), StoreError> {
        let Grant { space, video, user } = grant;
        let bytes = signed(bytes);
        let mut usage = counter(what.attr(), -1, None);
        if bytes != 0 {
            usage = usage.add(attrs::BYTES, n(-bytes));
        }
        let mut items =
            vec![TransactWriteItem::builder().delete(delete).build(), self.usage_update(usage, video, space, user)?];
        if bytes != 0 {
            items.push(self.storage_total(user, -bytes, None)?);
        }
        let guards = vec![Guard::Item; items.len()];
        self.transact(items, &guards).await
    }

    /// Removes every member's usage item among `items` (primary keys; others are passed over)
    /// with the bytes it charged to its member's storage total, one transaction each: called by
    /// a purge before it deletes the rest.
    pub(crate) async fn release_usages(&self, items: &[Item]) -> Result<(), StoreError> {
        for item in items {
            let Some(sk) = item.get(SK).and_then(|v| v.as_s().ok()) else { continue };
            let Some(user) = sk.strip_prefix(keys::USAGE_PREFIX).and_then(|u| u.parse::<UserId>().ok()) else {
                continue;
            };
            let Some(pk) = item.get(PK).and_then(|v| v.as_s().ok()) else { continue };
            self.release_usage(key(pk.clone(), sk.clone()), &user).await?;
        }
        Ok(())
    }

    /// One usage item: read consistently, then deleted on the bytes read, with those bytes taken
    /// off the member's total in the same transaction. Gone already: nothing to give back. The
    /// total gone (the account's deletion took it): the usage item goes alone.
    async fn release_usage(&self, usage: Item, user: &UserId) -> Result<(), StoreError> {
        for _ in 0..3 {
            let read = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(usage.clone()))
                .consistent_read(true)
                .send()
                .await
                .map_err(backend)?;
            let Some(item) = read.item else { return Ok(()) };
            let bytes = item.get(attrs::BYTES).and_then(|v| v.as_n().ok()).and_then(|b| b.parse::<i64>().ok());
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(usage.clone()))
                .expression_attribute_names("#bytes", attrs::BYTES);
            let delete = match bytes {
                Some(b) => delete.condition_expression("#bytes = :bytes").expression_attribute_values(":bytes", n(b)),
                None => delete.condition_expression("attribute_exists(PK) AND attribute_not_exists(#bytes)"),
            }
            .build()
            .map_err(backend)?;
            let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
            if let Some(b) = bytes.filter(|b| *b != 0) {
                let total = Changes::new()
                    .add(attrs::BYTES, n(-b))
                    .when("attribute_exists(PK)")
                    .into_update(&self.table, key(keys::user(user), keys::STORAGE))
                    .map_err(backend)?;
                items.push(TransactWriteItem::builder().update(total).build());
            }
            match self.transact(items.clone(), &[Guard::Item, Guard::User]).await {
                Ok(()) => return Ok(()),
                // Changed since it was read (a note deleted meanwhile): read it again.
                Err(StoreError::Condition(Guard::Item)) => {}
                Err(StoreError::Condition(Guard::User)) => {
                    items.truncate(1);
                    match self.transact(items, &[Guard::Item]).await {
                        Ok(()) => return Ok(()),
                        Err(StoreError::Condition(Guard::Item)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::unavailable("a member's usage kept changing while the purge gave it back"))
    }
}
