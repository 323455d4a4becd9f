//! Sessions: pending Google logins, refresh tokens by hash and their families (one family per
//! session, listed under the user on GSI1).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use serde::Deserialize;
use vivid_domain::{
    error::{Guard, StoreError},
    page::{Page, PageKey},
    sessions::{Family, LoginState, RefreshRecord, Rotation, SessionStore, id_time},
    types::{Limit, UserId},
    users::User,
};

use crate::{
    attrs, keys,
    table::{
        GSI1, GSI1PK, GSI1SK, Item, PK, SK, Table, backend, conditional, from_item, ignore_condition, key, n, page_key,
        primary_key, s, start_key, to_item,
    },
};

/// A family still usable at `:now` (the query filter of the session list and of sign-out
/// everywhere; `endsAt` is absent on families from before absolute lifetimes).
const LIVE: &str = "revoked = :false AND expiresAt > :now AND (attribute_not_exists(endsAt) OR endsAt > :now)";

/// The family item as stored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FamilyItem {
    #[serde(rename = "PK")]
    pk: String,
    user_id: UserId,
    #[serde(default)]
    revoked: bool,
    expires_at: u64,
    created_at: Option<u64>,
    last_used_at: Option<u64>,
    ends_at: Option<u64>,
    user_agent: Option<String>,
}

fn family_from(item: Item) -> Result<Family, StoreError> {
    let f: FamilyItem = from_item(item)?;
    let family_id = keys::family_of(&f.pk).unwrap_or(&f.pk).to_owned();
    let created_at = f.created_at.unwrap_or_else(|| id_time(&family_id));
    Ok(Family {
        family_id,
        user_id: f.user_id,
        revoked: f.revoked,
        created_at,
        last_used_at: f.last_used_at,
        expires_at: f.expires_at,
        ends_at: f.ends_at,
        user_agent: f.user_agent,
    })
}

fn token_item(record: &RefreshRecord) -> Result<Item, StoreError> {
    to_item(
        record,
        &[
            (PK, keys::refresh(&record.token_hash)),
            (SK, keys::REFRESH.to_owned()),
            (GSI1PK, keys::user(&record.user_id)),
            (GSI1SK, keys::refresh(&record.token_hash)),
            (attrs::TYPE, "RefreshToken".into()),
        ],
    )
}

impl Table {
    /// One page of the user's live families, newest first.
    async fn live_families(
        &self,
        user: &UserId,
        limit: Option<Limit>,
        start: Option<Item>,
        now: u64,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let resp = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :prefix)")
            .filter_expression(LIVE)
            .expression_attribute_values(":pk", s(keys::user(user)))
            .expression_attribute_values(":prefix", s(keys::FAMILY_PREFIX))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now))
            .scan_index_forward(false)
            .set_limit(limit.map(|l| i32::from(l.get())))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(backend)?;
        Ok((resp.items.unwrap_or_default(), resp.last_evaluated_key))
    }
}

#[async_trait]
impl SessionStore for Table {
    async fn end_sessions_of(&self, user: &UserId) -> Result<(), StoreError> {
        let mut doomed = Vec::new();
        for prefix in [keys::FAMILY_PREFIX, keys::REFRESH_PREFIX] {
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
        let item = to_item(
            login,
            &[(PK, keys::login(&login.state)), (SK, keys::LOGIN.to_owned()), (attrs::TYPE, "Login".into())],
        )?;
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

    async fn start_family(&self, family: &Family, first: &RefreshRecord) -> Result<(), StoreError> {
        let mut item = HashMap::from([
            (PK.to_owned(), s(keys::family(&family.family_id))),
            (SK.to_owned(), s(keys::FAMILY)),
            (attrs::TYPE.to_owned(), s("RefreshFamily")),
            (attrs::USER_ID.to_owned(), s(family.user_id.to_string())),
            (GSI1PK.to_owned(), s(keys::user(&family.user_id))),
            (GSI1SK.to_owned(), s(keys::family(&family.family_id))),
            (attrs::REVOKED.to_owned(), AttributeValue::Bool(family.revoked)),
            (attrs::CREATED_AT.to_owned(), n(family.created_at)),
            (attrs::EXPIRES_AT.to_owned(), n(family.expires_at)),
        ]);
        if let Some(at) = family.last_used_at {
            item.insert(attrs::LAST_USED_AT.to_owned(), n(at));
        }
        if let Some(end) = family.ends_at {
            item.insert(attrs::ENDS_AT.to_owned(), n(end));
        }
        if let Some(agent) = &family.user_agent {
            item.insert(attrs::USER_AGENT.to_owned(), s(agent.clone()));
        }
        let not_exists = Some("attribute_not_exists(PK)");
        // No session starts for an account that is gone or being deleted.
        self.transact(
            vec![
                self.put(item, not_exists)?,
                self.put(token_item(first)?, not_exists)?,
                self.account_exists(&family.user_id)?,
            ],
            &[Guard::Family, Guard::Refresh, Guard::Account],
        )
        .await
    }

    async fn refresh_record(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        self.get(keys::refresh(token_hash), keys::REFRESH).await
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<(), StoreError> {
        let (old, new) = (rotation.old, rotation.new);
        let mut used = "SET usedAt = :now, successorHash = :next".to_owned();
        let mut mark_used = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::refresh(&old.token_hash), keys::REFRESH)))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(usedAt)")
            .expression_attribute_values(":now", n(rotation.now))
            .expression_attribute_values(":next", s(new.token_hash.clone()));
        if let Some(sealed) = &rotation.sealed_successor {
            used.push_str(", successorSealed = :sealed");
            mark_used = mark_used.expression_attribute_values(":sealed", s(sealed.clone()));
        }
        let mark_used = mark_used.update_expression(used).build().map_err(backend)?;

        // The family slides (never past its end), records its use, and gets an end if it predates
        // absolute lifetimes; all while it is live.
        let mut slide = "SET expiresAt = :exp, lastUsedAt = :now, endsAt = if_not_exists(endsAt, :ends)".to_owned();
        let mut family = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::family(&old.family_id), keys::FAMILY)))
            .condition_expression(
                "attribute_exists(PK) AND revoked = :false AND (attribute_not_exists(endsAt) OR endsAt > :now)",
            )
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(rotation.now))
            .expression_attribute_values(":exp", n(new.expires_at))
            .expression_attribute_values(":ends", n(rotation.ends_at));
        if let Some(agent) = &rotation.user_agent {
            slide.push_str(", userAgent = :agent");
            family = family.expression_attribute_values(":agent", s(agent.clone()));
        }
        let family = family.update_expression(slide).build().map_err(backend)?;

        self.transact(
            vec![
                TransactWriteItem::builder().update(mark_used).build(),
                TransactWriteItem::builder().update(family).build(),
                self.put(token_item(new)?, Some("attribute_not_exists(PK)"))?,
                // A refresh of an account that is gone or being deleted is refused.
                self.account_exists(&old.user_id)?,
            ],
            &[Guard::Refresh, Guard::Family, Guard::Item, Guard::Account],
        )
        .await
    }

    async fn successor_and_family(
        &self,
        successor_hash: &str,
        family_id: &str,
    ) -> Result<(Option<RefreshRecord>, Option<Family>), StoreError> {
        let items = self
            .batch_get(
                vec![key(keys::refresh(successor_hash), keys::REFRESH), key(keys::family(family_id), keys::FAMILY)],
                true,
            )
            .await?;
        let (mut successor, mut family) = (None, None);
        for item in items {
            match item.get(PK).and_then(|v| v.as_s().ok()) {
                Some(pk) if pk.starts_with(keys::REFRESH_PREFIX) => successor = Some(from_item(item)?),
                Some(pk) if pk.starts_with(keys::FAMILY_PREFIX) => family = Some(family_from(item)?),
                _ => {}
            }
        }
        Ok((successor, family))
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
            .map(|_| ())
            .or_else(ignore_condition)
    }

    async fn families_of(
        &self,
        user: &UserId,
        limit: Limit,
        start: Option<PageKey>,
        now: u64,
    ) -> Result<Page<Family>, StoreError> {
        let start = start_key(start, GSI1PK, &keys::user(user))?;
        let (items, last) = self.live_families(user, Some(limit), start, now).await?;
        let items = items.into_iter().map(family_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next: page_key(last.as_ref()) })
    }

    async fn revoke_families_of(&self, user: &UserId, keep: Option<&str>, now: u64) -> Result<usize, StoreError> {
        let mut revoked = 0;
        let mut start = None;
        loop {
            let (items, last) = self.live_families(user, None, start, now).await?;
            for item in items {
                let family = family_from(item)?;
                if Some(family.family_id.as_str()) != keep {
                    self.revoke_family(&family.family_id).await?;
                    revoked += 1;
                }
            }
            start = last;
            if start.is_none() {
                return Ok(revoked);
            }
        }
    }
}
