//! Platform connections (sealed tokens, a version every refresh raises) beside the user's
//! profile, and connect states bound to their user with a TTL.
//!
//! The writes that start a connection (a connect state, taking it, the first connection) carry a
//! condition check on the user's `PROFILE` in the same transaction: an access token that outlives
//! its account's deletion (or is used while it runs) connects nothing (`Condition(Account)`), at no
//! extra round trip.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem};
use vivid_domain::{
    connectors::{ConnectionStore, Provider, SealedConnection},
    error::{Guard, StoreError},
    types::UserId,
};

use crate::{
    attrs, expr, keys,
    table::{GSI1, GSI1PK, GSI1SK, Item, PK, SK, Table, backend, condition_held, conditional, key, n, s},
};

fn number(item: &Item, attr: &str) -> Result<u64, StoreError> {
    item.get(attr)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::backend(format!("connection item without {attr}")))
}

impl Table {
    /// A transaction item that holds only while the user's profile exists and its deletion has
    /// not begun.
    pub(crate) fn account_exists(&self, user: &UserId) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::user(user), keys::PROFILE)))
            .condition_expression(expr::exists_not_deleting())
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}

#[async_trait]
impl ConnectionStore for Table {
    async fn connection(&self, user: &UserId, provider: Provider) -> Result<Option<SealedConnection>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user(user), keys::connection(provider))))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let Some(item) = resp.item else { return Ok(None) };
        let sealed = item
            .get(attrs::SEALED_TOKENS)
            .and_then(|v| v.as_b().ok())
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| StoreError::backend("connection item without sealed tokens"))?;
        Ok(Some(SealedConnection {
            sealed,
            external_id: item.get(attrs::EXTERNAL_ID).and_then(|v| v.as_s().ok()).cloned(),
            access_expires_at: number(&item, attrs::ACCESS_EXPIRES_AT)?,
            refresh_expires_at: number(&item, attrs::REFRESH_EXPIRES_AT)?,
            version: number(&item, attrs::VERSION)?,
        }))
    }

    async fn put_connection(
        &self,
        user: &UserId,
        provider: Provider,
        connection: &SealedConnection,
        replacing: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut item = HashMap::from([
            (PK.to_owned(), s(keys::user(user))),
            (SK.to_owned(), s(keys::connection(provider))),
            (attrs::TYPE.to_owned(), s("Connection")),
            (attrs::PROVIDER.to_owned(), s(provider.as_str())),
            (attrs::SEALED_TOKENS.to_owned(), AttributeValue::B(connection.sealed.clone().into())),
            (attrs::ACCESS_EXPIRES_AT.to_owned(), n(connection.access_expires_at)),
            (attrs::REFRESH_EXPIRES_AT.to_owned(), n(connection.refresh_expires_at)),
            (attrs::VERSION.to_owned(), n(connection.version)),
        ]);
        if let Some(id) = &connection.external_id {
            item.insert(attrs::EXTERNAL_ID.to_owned(), s(id.clone()));
            // Found by the platform's account: Zoom's `app_deauthorized` names only its user.
            item.insert(GSI1PK.to_owned(), s(keys::connected_as(provider, id)));
            item.insert(GSI1SK.to_owned(), s(keys::user(user)));
        }
        match replacing {
            // A refresh: only over the version it read (account deletion removes the item, so
            // the condition also fails for a deleted account).
            Some(v) => {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("#version = :expected")
                    .expression_attribute_names("#version", attrs::VERSION)
                    .expression_attribute_values(":expected", n(v))
                    .send()
                    .await
                    .map_err(conditional(Guard::Connection))?;
                Ok(())
            }
            // A new connection: only for an account that still exists.
            None => {
                self.transact(
                    vec![self.account_exists(user)?, self.put(item, None)?],
                    &[Guard::Account, Guard::Connection],
                )
                .await
            }
        }
    }

    async fn delete_connection(&self, user: &UserId, provider: Provider) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user(user), keys::connection(provider))))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn connected_as(&self, provider: Provider, external_id: &str) -> Result<Vec<UserId>, StoreError> {
        let items = self.index_partition(GSI1, &keys::connected_as(provider, external_id)).await?;
        Ok(items.iter().filter_map(|item| keys::user_of(item.get(PK)?.as_s().ok()?)).collect())
    }

    async fn forget_connection_as(
        &self,
        user: &UserId,
        provider: Provider,
        external_id: &str,
    ) -> Result<bool, StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user(user), keys::connection(provider))))
            .condition_expression("externalId = :id")
            .expression_attribute_values(":id", s(external_id))
            .send()
            .await;
        condition_held(deleted)
    }

    async fn put_connect_state(
        &self,
        provider: Provider,
        state: &str,
        user: &UserId,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let item = HashMap::from([
            (PK.to_owned(), s(keys::connect_state(provider, state))),
            (SK.to_owned(), s(keys::CONNECT_STATE)),
            (attrs::TYPE.to_owned(), s("ConnectState")),
            (attrs::USER_ID.to_owned(), s(user.to_string())),
            (attrs::EXPIRES_AT.to_owned(), n(expires_at)),
        ]);
        self.transact(
            vec![self.account_exists(user)?, self.put(item, Some("attribute_not_exists(PK)"))?],
            &[Guard::Account, Guard::Item],
        )
        .await
    }

    async fn take_connect_state(
        &self,
        provider: Provider,
        state: &str,
        user: &UserId,
        now: u64,
    ) -> Result<bool, StoreError> {
        // Taken with the account check, before the code is exchanged at the platform.
        let take = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::connect_state(provider, state), keys::CONNECT_STATE)))
            .condition_expression("attribute_exists(PK) AND userId = :u AND expiresAt > :now")
            .expression_attribute_values(":u", s(user.to_string()))
            .expression_attribute_values(":now", n(now))
            .build()
            .map_err(backend)?;
        let items = vec![self.account_exists(user)?, TransactWriteItem::builder().delete(take).build()];
        match self.transact(items, &[Guard::Account, Guard::Item]).await {
            Ok(()) => Ok(true),
            Err(StoreError::Condition(Guard::Item)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
