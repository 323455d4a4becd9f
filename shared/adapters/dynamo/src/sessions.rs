//! Sessions: pending Google logins, refresh tokens by hash and their families.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use vivid_domain::{
    error::{Guard, StoreError},
    sessions::{LoginState, RefreshRecord, SessionStore},
    types::UserId,
    users::User,
};

use crate::{
    keys,
    table::{GSI1, GSI1PK, GSI1SK, PK, SK, Table, backend, conditional, from_item, key, primary_key, s, to_item},
};

#[async_trait]
impl SessionStore for Table {
    async fn end_sessions_of(&self, user: &UserId) -> Result<(), StoreError> {
        let mut doomed = Vec::new();
        for prefix in ["FAMILY#", "REFRESH#"] {
            let mut start = None;
            loop {
                let (items, last) = self
                    .query_items(
                        Some(GSI1),
                        "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
                        vec![(":pk", s(keys::user(user))), (":prefix", s(prefix))],
                        None,
                        start,
                        true,
                    )
                    .await?;
                doomed.extend(items.iter().map(primary_key));
                start = last;
                if start.is_none() {
                    break;
                }
            }
        }
        self.batch_delete(doomed).await
    }

    async fn put_login_state(&self, login: &LoginState) -> Result<(), StoreError> {
        let item =
            to_item(login, &[(PK, keys::login(&login.state)), (SK, keys::LOGIN.to_owned()), ("type", "Login".into())])?;
        self.put_new(item, Guard::Item).await
    }

    async fn take_login_state(
        &self,
        state: &str,
        binding_hash: &str,
        now: u64,
    ) -> Result<Option<LoginState>, StoreError> {
        let resp = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::login(state), keys::LOGIN)))
            .condition_expression("attribute_exists(PK) AND bindingHash = :b AND expiresAt > :now")
            .expression_attribute_values(":b", s(binding_hash))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match resp {
            Ok(out) => out.attributes.map(from_item).transpose(),
            Err(e) => match conditional::<aws_sdk_dynamodb::operation::delete_item::DeleteItemError>(Guard::Item)(e) {
                StoreError::Condition(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn user_by_google_sub(&self, sub: &str) -> Result<Option<User>, StoreError> {
        self.user_by_link(key(keys::google(sub), keys::GOOGLE)).await
    }

    async fn start_family(&self, first: &RefreshRecord) -> Result<(), StoreError> {
        let family = HashMap::from([
            (PK.to_owned(), s(keys::family(&first.family_id))),
            (SK.to_owned(), s(keys::FAMILY)),
            ("type".to_owned(), s("RefreshFamily")),
            ("userId".to_owned(), s(first.user_id.to_string())),
            (GSI1PK.to_owned(), s(keys::user(&first.user_id))),
            (GSI1SK.to_owned(), s(format!("FAMILY#{}", first.family_id))),
            ("revoked".to_owned(), AttributeValue::Bool(false)),
            ("expiresAt".to_owned(), AttributeValue::N(first.expires_at.to_string())),
        ]);
        let token = to_item(
            first,
            &[
                (PK, keys::refresh(&first.token_hash)),
                (SK, keys::REFRESH.to_owned()),
                (GSI1PK, keys::user(&first.user_id)),
                (GSI1SK, format!("REFRESH#{}", first.token_hash)),
                ("type", "RefreshToken".into()),
            ],
        )?;
        let not_exists = Some("attribute_not_exists(PK)");
        self.transact(
            vec![self.put(family, not_exists)?, self.put(token, not_exists)?],
            &[Guard::Family, Guard::Refresh],
        )
        .await
    }

    async fn refresh_record(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        self.get(keys::refresh(token_hash), keys::REFRESH).await
    }

    async fn rotate(&self, old: &RefreshRecord, new: &RefreshRecord, now: u64) -> Result<(), StoreError> {
        let mark_used = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::refresh(&old.token_hash), keys::REFRESH)))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(usedAt)")
            .update_expression("SET usedAt = :now")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .build()
            .map_err(backend)?;
        let family = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::family(&old.family_id), keys::FAMILY)))
            .condition_expression("attribute_exists(PK) AND revoked = :false")
            .update_expression("SET expiresAt = :exp")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":exp", AttributeValue::N(new.expires_at.to_string()))
            .build()
            .map_err(backend)?;
        let token = to_item(
            new,
            &[
                (PK, keys::refresh(&new.token_hash)),
                (SK, keys::REFRESH.to_owned()),
                (GSI1PK, keys::user(&new.user_id)),
                (GSI1SK, format!("REFRESH#{}", new.token_hash)),
                ("type", "RefreshToken".into()),
            ],
        )?;
        self.transact(
            vec![
                TransactWriteItem::builder().update(mark_used).build(),
                TransactWriteItem::builder().update(family).build(),
                self.put(token, Some("attribute_not_exists(PK)"))?,
            ],
            &[Guard::Refresh, Guard::Family, Guard::Item],
        )
        .await
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::family(family_id), keys::FAMILY)))
            .condition_expression("attribute_exists(PK)")
            .update_expression("SET revoked = :true")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(conditional(Guard::Family))
            .map(|_| ())
            .or_else(|e| if matches!(e, StoreError::Condition(_)) { Ok(()) } else { Err(e) })
    }
}
