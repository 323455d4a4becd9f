//! Invitations: under their space's partition, `INVITE#{invitationId}` (so a space's sweep takes
//! them with it); the code on GSI1 (`INVITECODE#{code}`, one item); e-mail invitations on GSI2
//! under the invited address (`INVITEE#{email}`). The table's TTL removes an invitation 30 days
//! after it expired (until then an expired code is explained, not unknown).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    invitations::{Invitation, InvitationStore, InviteCode},
    page::{Page, PageKey},
    spaces::Membership,
    types::{Email, InvitationId, Limit, SpaceId},
};

use crate::{
    expr::Changes,
    keys,
    table::{
        GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, Item, PK, SK, Table, backend, conditional, from_item, key, n,
        page_key, primary_key, s, start_key, to_item,
    },
};

/// How long an expired invitation is kept to explain itself.
const EXPLAIN_EXPIRED_SECS: u64 = 30 * 24 * 3600;

fn invitation_item(inv: &Invitation) -> Result<Item, StoreError> {
    let mut k = vec![
        (PK, keys::space(&inv.space_id)),
        (SK, keys::invitation(&inv.invitation_id)),
        (GSI1PK, keys::invite_code(&inv.code)),
        (GSI1SK, "INVITE".to_owned()),
        ("type", "Invitation".to_owned()),
    ];
    if let Some(email) = &inv.email {
        k.push((GSI2PK, keys::invitee(email)));
        k.push((GSI2SK, format!("{}#{}", inv.created_at, inv.invitation_id)));
    }
    let mut item = to_item(inv, &k)?;
    item.insert("expiresAt".to_owned(), n(inv.expires_at_unix + EXPLAIN_EXPIRED_SECS));
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
        let Some(space) = found.get("spaceId").and_then(|v| v.as_s().ok()) else { return Ok(None) };
        let Some(id) = found.get("invitationId").and_then(|v| v.as_s().ok()) else { return Ok(None) };
        let (space, id): (SpaceId, InvitationId) = (space.parse().map_err(backend)?, id.parse().map_err(backend)?);
        self.get(keys::space(&space), keys::invitation(&id)).await
    }

    async fn revoke_invitation(
        &self,
        space: &SpaceId,
        id: &InvitationId,
        now: &str,
    ) -> Result<Option<Invitation>, StoreError> {
        let changes = Changes::new().named("revokedAt").bind(":now", s(now)).when("attribute_exists(PK)");
        let resp = changes
            .apply(self.client.update_item())
            .table_name(&self.table)
            .set_key(Some(key(keys::space(space), keys::invitation(id))))
            .update_expression("SET #revokedAt = if_not_exists(#revokedAt, :now)")
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match resp.map_err(conditional(Guard::Invitation)) {
            Ok(out) => out.attributes.map(from_item).transpose(),
            Err(StoreError::Condition(Guard::Invitation)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn accept_invitation(
        &self,
        invitation: &Invitation,
        membership: &Membership,
        now_unix: u64,
    ) -> Result<(), StoreError> {
        let use_it = Changes::new()
            .increment("uses", 1)
            .named("revokedAt")
            .named("expiresAtUnix")
            .named("maxUses")
            .bind(":now", n(now_unix))
            .when("attribute_exists(PK) AND attribute_not_exists(#revokedAt) AND #expiresAtUnix > :now")
            .when("attribute_not_exists(#maxUses) OR #uses < #maxUses")
            .into_update(
                &self.table,
                key(keys::space(&invitation.space_id), keys::invitation(&invitation.invitation_id)),
            )
            .map_err(backend)?;
        // The one accepting: an access token that outlives its account's deletion (or is used
        // while it runs) joins nothing (`Condition(Account)`: 401 `account_deleted`).
        let account = self.account_exists(&membership.user_id)?;
        let [membership, count] = self.joining(membership)?;
        self.transact(
            vec![TransactWriteItem::builder().update(use_it).build(), membership, count, account],
            &[Guard::Invitation, Guard::Membership, Guard::Space, Guard::Account],
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
}
