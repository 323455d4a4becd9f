//! Institutional identities (OpenID Connect): the link of (issuer, subject) to a user as an item
//! of its own (`IDENTITY#{issuer}#{sub}` / `IDENTITY`: unique by condition), and the identity's
//! entry under the user's partition (`USER#{userId}` / `IDENTITY#{identityId}`: the list).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, TransactWriteItem};
use vivid_domain::{
    error::{Guard, StoreError},
    oidc::{IdentityStore, LinkedIdentity},
    spaces::Space,
    types::UserId,
    users::{User, UserStore},
};

use crate::{
    attrs,
    keys::{self, IDENTITY, IDENTITY_PREFIX, identity_lock},
    table::{Item, PK, SK, Table, backend, from_item, key, s, to_item},
};

fn entry_key(user: &UserId, identity_id: &str) -> Item {
    key(keys::user(user), format!("{IDENTITY_PREFIX}{identity_id}"))
}

/// The lock keys of every identity of `user` (their deletion with the account).
pub(crate) async fn locks_of(table: &Table, user: &UserId) -> Result<Vec<Item>, StoreError> {
    Ok(table.identities_of(user).await?.iter().map(|i| key(identity_lock(&i.issuer, &i.sub), IDENTITY)).collect())
}

impl Table {
    /// The lock and the entry of a new link (guards `Item`, `Item`).
    fn link_items(&self, identity: &LinkedIdentity) -> Result<[TransactWriteItem; 2], StoreError> {
        let lock = HashMap::from([
            (PK.to_owned(), s(identity_lock(&identity.issuer, &identity.sub))),
            (SK.to_owned(), s(IDENTITY)),
            (attrs::TYPE.to_owned(), s("IdentityLink")),
            (attrs::USER_ID.to_owned(), s(identity.user_id.to_string())),
        ]);
        let entry = to_item(
            identity,
            &[
                (PK, keys::user(&identity.user_id)),
                (SK, format!("{IDENTITY_PREFIX}{}", identity.identity_id)),
                (attrs::TYPE, "LinkedIdentity".into()),
            ],
        )?;
        let not_exists = Some("attribute_not_exists(PK)");
        Ok([self.put(lock, not_exists)?, self.put(entry, not_exists)?])
    }

    fn delete(&self, k: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
        let d = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(k))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().delete(d).build())
    }

    fn still_there(&self, k: Item) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(k))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}

#[async_trait]
impl IdentityStore for Table {
    async fn user_by_identity(&self, issuer: &str, sub: &str) -> Result<Option<User>, StoreError> {
        self.user_by_link(key(identity_lock(issuer, sub), IDENTITY)).await
    }

    async fn create_user_with_identity(
        &self,
        user: &User,
        personal: &Space,
        identity: &LinkedIdentity,
    ) -> Result<(), StoreError> {
        let mut items = self.sign_up_items(user, personal)?;
        items.extend(self.link_items(identity)?);
        self.transact(items, &[Guard::User, Guard::Email, Guard::Space, Guard::Membership, Guard::Item, Guard::Item])
            .await
    }

    async fn link_identity(&self, identity: &LinkedIdentity) -> Result<(), StoreError> {
        let [lock, entry] = self.link_items(identity)?;
        let items = vec![lock, entry, self.account_exists(&identity.user_id)?];
        self.transact(items, &[Guard::Item, Guard::Item, Guard::Account]).await
    }

    async fn identities_of(&self, user: &UserId) -> Result<Vec<LinkedIdentity>, StoreError> {
        let resp = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :sk)")
            .expression_attribute_values(":pk", s(keys::user(user)))
            .expression_attribute_values(":sk", s(IDENTITY_PREFIX))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let mut out: Vec<LinkedIdentity> =
            resp.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| a.linked_at.cmp(&b.linked_at));
        Ok(out)
    }

    async fn unlink_identity(&self, identity: &LinkedIdentity, expected: usize) -> Result<(), StoreError> {
        // What keeps the account reachable: another identity that is still there (or its Google
        // link), checked in the same transaction, so two unlinks at once cannot leave none.
        let others: Vec<LinkedIdentity> = self
            .identities_of(&identity.user_id)
            .await?
            .into_iter()
            .filter(|i| i.identity_id != identity.identity_id)
            .collect();
        if others.len() + 1 != expected {
            return Err(StoreError::Condition(Guard::Item));
        }
        let keep = match (others.first(), self.get_user(&identity.user_id).await?.and_then(|u| u.google_sub)) {
            (Some(other), _) => entry_key(&identity.user_id, &other.identity_id),
            (None, Some(sub)) => key(keys::google(&sub), keys::GOOGLE),
            (None, None) => return Err(StoreError::Condition(Guard::Item)),
        };
        // The lock goes only while it is this user's.
        let delete_lock = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(identity_lock(&identity.issuer, &identity.sub), IDENTITY)))
            .condition_expression("userId = :u")
            .expression_attribute_values(":u", s(identity.user_id.to_string()))
            .build()
            .map_err(backend)?;
        let delete_lock = TransactWriteItem::builder().delete(delete_lock).build();
        let items = vec![
            delete_lock,
            self.delete(entry_key(&identity.user_id, &identity.identity_id), Some("attribute_exists(PK)"))?,
            self.still_there(keep)?,
        ];
        self.transact(items, &[Guard::Item, Guard::Item, Guard::Item]).await
    }
}
