//! Invitations: under their space's partition, `INVITE#{invitationId}` (so a space's sweep takes
//! them with it); the code on GSI1 (`INVITECODE#{code}`, one item); e-mail invitations on GSI2
//! under the invited address (`INVITEE#{email}`). The table's TTL removes an invitation 30 days
//! after it expired (until then an expired code is explained, not unknown).
//!
//! Also here: a manager's removal of a user (`SPACE#{spaceId}` / `REMOVED#{userId}`), which
//! accepting a code checks, and the daily counts of invitation e-mails, per inviting user
//! (`USER#{userId}` / `MAILS#{day}`) and per recipient (`MAILTO#{sha256(address)}` / `DAY#{day}`).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, ReturnValue, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    invitations::{Invitation, InvitationStatus, InvitationStore, InviteCode, RevokedBecause},
    page::{Page, PageKey},
    quota::{Exceeded, Quota},
    spaces::{Membership, Role},
    types::{Email, InvitationId, Limit, SpaceId, UserId, unix_now},
};

use crate::{
    attrs,
    expr::Changes,
    keys,
    table::{
        GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, Item, PK, SK, Table, backend, cancelled_reasons, conditional,
        from_item, key, n, page_key, primary_key, s, sdk, start_key, to_item,
    },
    usage::counter,
};

/// How long an expired invitation is kept to explain itself.
const EXPLAIN_EXPIRED_SECS: u64 = 30 * 24 * 3600;
/// How long a day's mail count is kept: past its day, it counts nothing.
const MAIL_COUNT_SECS: u64 = 2 * 24 * 3600;
/// The most items one `TransactWriteItems` takes.
const TRANSACTION_ITEMS: usize = 100;

fn invitation_item(inv: &Invitation) -> Result<Item, StoreError> {
    let mut k = vec![
        (PK, keys::space(&inv.space_id)),
        (SK, keys::invitation(&inv.invitation_id)),
        (GSI1PK, keys::invite_code(&inv.code)),
        (GSI1SK, keys::INVITE.to_owned()),
        (attrs::TYPE, "Invitation".to_owned()),
    ];
    if let Some(email) = &inv.email {
        k.push((GSI2PK, keys::invitee(email)));
        k.push((GSI2SK, keys::invited_at(&inv.created_at, &inv.invitation_id)));
    }
    let mut item = to_item(inv, &k)?;
    item.insert(attrs::EXPIRES_AT.to_owned(), n(inv.expires_at_unix + EXPLAIN_EXPIRED_SECS));
    Ok(item)
}

#[async_trait]
impl InvitationStore for Table {
    async fn put_invitations(&self, invitations: &[Invitation]) -> Result<(), StoreError> {
        let items = invitations.iter().map(invitation_item).collect::<Result<Vec<_>, _>>()?;
        self.batch_put(items).await
    }

    async fn invitations(
        &self,
        space: &SpaceId,
        limit: Limit,
        start: Option<PageKey>,
    ) -> Result<Page<Invitation>, StoreError> {
        let partition = keys::space(space);
        let (items, last) = self
            .query_items(
                None,
                "PK = :pk AND begins_with(SK, :invite)",
                vec![(":pk", s(partition.clone())), (":invite", s(keys::INVITE_PREFIX))],
                Some(limit),
                start_key(start, PK, &partition)?,
                true,
            )
            .await?;
        Ok(Page { items: items.into_iter().map(from_item).collect::<Result<_, _>>()?, next: page_key(last.as_ref()) })
    }

    async fn invitation(&self, space: &SpaceId, id: &InvitationId) -> Result<Option<Invitation>, StoreError> {
        self.get(keys::space(space), keys::invitation(id)).await
    }

    async fn invitation_by_code(&self, code: &InviteCode) -> Result<Option<Invitation>, StoreError> {
        let (items, _) = self
            .query_items(Some(GSI1), "GSI1PK = :pk", vec![(":pk", s(keys::invite_code(code)))], None, None, true)
            .await?;
        // The index is eventually consistent: read the item itself for its current uses.
        let Some(found) = items.first() else { return Ok(None) };
        let Some(space) = found.get(attrs::SPACE_ID).and_then(|v| v.as_s().ok()) else { return Ok(None) };
        let Some(id) = found.get(attrs::INVITATION_ID).and_then(|v| v.as_s().ok()) else { return Ok(None) };
        let (space, id): (SpaceId, InvitationId) = (space.parse().map_err(backend)?, id.parse().map_err(backend)?);
        self.get(keys::space(&space), keys::invitation(&id)).await
    }

    async fn revoke_invitation(
        &self,
        space: &SpaceId,
        id: &InvitationId,
        now: &str,
    ) -> Result<Option<Invitation>, StoreError> {
        self.revoke(space, id, now, RevokedBecause::Withdrawn).await
    }

    async fn accept_invitation(
        &self,
        invitation: &Invitation,
        membership: &Membership,
        now_unix: u64,
    ) -> Result<(), StoreError> {
        let use_it = Changes::new()
            .increment(attrs::USES, 1)
            .named(attrs::REVOKED_AT)
            .named(attrs::EXPIRES_AT_UNIX)
            .named(attrs::MAX_USES)
            .bind(":now", n(now_unix))
            .when("attribute_exists(PK) AND attribute_not_exists(#revokedAt) AND #expiresAtUnix > :now")
            .when("attribute_not_exists(#maxUses) OR #uses < #maxUses")
            .into_update(
                &self.table,
                key(keys::space(&invitation.space_id), keys::invitation(&invitation.invitation_id)),
            )
            .map_err(backend)?;
        let space = keys::space(&invitation.space_id);
        // The invitation's authority is its creator's: only while they manage the space. (A
        // creator who is no longer a member could only be accepting their own code: refused.)
        if invitation.created_by == membership.user_id {
            return Err(StoreError::Condition(Guard::Invitation));
        }
        let creator = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(space.clone(), keys::member(&invitation.created_by))))
            .condition_expression("#role IN (:host, :cohost)")
            .expression_attribute_names("#role", attrs::ROLE)
            .expression_attribute_values(":host", s(Role::Host.as_str()))
            .expression_attribute_values(":cohost", s(Role::CoHost.as_str()))
            .build()
            .map_err(backend)?;
        let removed = key(space, keys::removed(&membership.user_id));
        // A manager's removal: a shareable code does not undo it; an e-mail invitation made
        // after it (a manager inviting them again) does, and the removal goes.
        let removal = match &invitation.email {
            None => TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(removed))
                        .condition_expression("attribute_not_exists(PK)")
                        .build()
                        .map_err(backend)?,
                )
                .build(),
            Some(_) => TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(removed))
                        .condition_expression("attribute_not_exists(PK) OR #removedAt < :invitedAt")
                        .expression_attribute_names("#removedAt", attrs::REMOVED_AT)
                        .expression_attribute_values(":invitedAt", s(invitation.created_at.as_str()))
                        .build()
                        .map_err(backend)?,
                )
                .build(),
        };
        // The one accepting: an access token that outlives its account's deletion (or is used
        // while it runs) joins nothing (`Condition(Account)`: 401 `account_deleted`).
        let account = self.account_exists(&membership.user_id)?;
        let [membership, count] = self.joining(membership)?;
        self.transact(
            vec![
                TransactWriteItem::builder().update(use_it).build(),
                membership,
                count,
                TransactWriteItem::builder().condition_check(creator).build(),
                removal,
                account,
            ],
            &[Guard::Invitation, Guard::Membership, Guard::Space, Guard::Invitation, Guard::Removed, Guard::Account],
        )
        .await
    }

    async fn invitations_for(&self, email: &Email, limit: Limit) -> Result<Vec<Invitation>, StoreError> {
        let (items, _) = self
            .query_items(Some(GSI2), "GSI2PK = :pk", vec![(":pk", s(keys::invitee(email)))], Some(limit), None, false)
            .await?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // GSI2 projects keys only: the items themselves, read consistently.
        let mut found: Vec<Invitation> = self
            .batch_get(items.iter().map(primary_key).collect(), true)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.invitation_id.cmp(&a.invitation_id)));
        Ok(found)
    }

    async fn count_invitation_mails(&self, user: &UserId, day: &str, mails: u64, limit: u64) -> Result<(), StoreError> {
        let quota = Guard::Quota(Exceeded { quota: Quota::DailyInvitationMails, limit });
        if mails > limit {
            return Err(StoreError::Condition(quota));
        }
        let delta = i64::try_from(mails).map_err(backend)?;
        counter(attrs::INVITATION_MAILS, delta, Some(limit))
            .set(attrs::EXPIRES_AT, n(unix_now() + MAIL_COUNT_SECS))
            .apply(self.client.update_item())
            .table_name(&self.table)
            .set_key(Some(key(keys::user(user), keys::invitation_mails(day))))
            .send()
            .await
            .map_err(conditional(quota))?;
        Ok(())
    }

    async fn count_recipient_mails(
        &self,
        day: &str,
        recipients: &[String],
        limit: u64,
    ) -> Result<Vec<bool>, StoreError> {
        let mut counted = vec![false; recipients.len()];
        let expires = unix_now() + MAIL_COUNT_SECS;
        for (chunk_no, chunk) in recipients.chunks(TRANSACTION_ITEMS).enumerate() {
            let offset = chunk_no * TRANSACTION_ITEMS;
            // One transaction counts the chunk; a recipient at their limit cancels it and is
            // left out of the next try (each try leaves out at least one, or ends).
            let mut pending: Vec<usize> = (0..chunk.len()).collect();
            let mut conflicts = 0;
            while !pending.is_empty() {
                let items = pending
                    .iter()
                    .map(|&i| {
                        counter(attrs::MAILS, 1, Some(limit))
                            .set(attrs::EXPIRES_AT, n(expires))
                            .into_update(&self.table, key(keys::mail_recipient(&chunk[i]), keys::mail_day(day)))
                            .map(|u| TransactWriteItem::builder().update(u).build())
                            .map_err(backend)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let err = match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
                    Ok(_) => {
                        for &i in &pending {
                            counted[offset + i] = true;
                        }
                        break;
                    }
                    Err(err) => err,
                };
                let Some(reasons) = cancelled_reasons(&err) else { return Err(sdk(err)) };
                let full: Vec<usize> = reasons
                    .iter()
                    .zip(&pending)
                    .filter(|(r, _)| r.as_str() == "ConditionalCheckFailed")
                    .map(|(_, &i)| i)
                    .collect();
                if !full.is_empty() {
                    pending.retain(|i| !full.contains(i));
                    continue;
                }
                conflicts += 1;
                if conflicts < 4 && reasons.iter().any(|r| r == "TransactionConflict") {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << conflicts)).await;
                    continue;
                }
                return Err(StoreError::unavailable(err));
            }
        }
        Ok(counted)
    }
}

impl Table {
    /// Marks an invitation revoked for `because` (idempotent: the first revocation's moment and
    /// reason stay) and returns it; `None` when there is none.
    async fn revoke(
        &self,
        space: &SpaceId,
        id: &InvitationId,
        now: &str,
        because: RevokedBecause,
    ) -> Result<Option<Invitation>, StoreError> {
        let changes = Changes::new()
            .named(attrs::REVOKED_AT)
            .named(attrs::REVOKED_BECAUSE)
            .bind(":now", s(now))
            .bind(":because", s(because.as_str()))
            .when("attribute_exists(PK)");
        let resp = changes
            .apply(self.client.update_item())
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::invitation(id))))
            .update_expression(
                "SET #revokedAt = if_not_exists(#revokedAt, :now), \
                 #revokedBecause = if_not_exists(#revokedBecause, :because)",
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match resp.map_err(conditional(Guard::Invitation)) {
            Ok(out) => out.attributes.map(from_item).transpose(),
            Err(StoreError::Condition(Guard::Invitation)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Withdraws the open invitations of a space that `creator` made (`SpaceStore`'s
    /// `withdraw_invitations_of`): the space's invitations read consistently, those of the
    /// creator not yet revoked filtered by DynamoDB, each still open revoked.
    pub(crate) async fn withdraw_invitations_by(
        &self,
        space: &SpaceId,
        creator: &UserId,
        now: &str,
    ) -> Result<usize, StoreError> {
        let (partition, now_unix) = (keys::space(space), unix_now());
        let mut withdrawn = 0;
        let mut start = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :invite)")
                .filter_expression("#createdBy = :creator AND attribute_not_exists(#revokedAt)")
                .expression_attribute_names("#createdBy", attrs::CREATED_BY)
                .expression_attribute_names("#revokedAt", attrs::REVOKED_AT)
                .expression_attribute_values(":pk", s(partition.clone()))
                .expression_attribute_values(":invite", s(keys::INVITE_PREFIX))
                .expression_attribute_values(":creator", s(creator.as_str()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            for item in resp.items.unwrap_or_default() {
                let invitation: Invitation = from_item(item)?;
                if invitation.status(now_unix) == InvitationStatus::Open {
                    self.revoke(space, &invitation.invitation_id, now, RevokedBecause::CreatorNotManager).await?;
                    withdrawn += 1;
                }
            }
            start = resp.last_evaluated_key;
            if start.is_none() {
                return Ok(withdrawn);
            }
        }
    }
}
