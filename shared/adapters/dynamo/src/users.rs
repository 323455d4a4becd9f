//! Users: the profile under the user's partition, the e-mail lock and the Google link as
//! items of their own (uniqueness by condition), connections beside the profile.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use vivid_domain::{
    connectors::Provider,
    error::{Guard, StoreError},
    spaces::{Membership, Role, Space},
    types::{Email, UserId},
    users::{Profile, Usage, User, UserStore},
};

use crate::{
    attrs,
    expr::Changes,
    keys,
    table::{Item, PK, SK, Table, backend, condition_held, conditional, from_item, key, s, to_item},
};

/// Every platform a user can connect.
const PROVIDERS: [Provider; 2] = [Provider::Webex, Provider::Zoom];

impl Table {
    /// The four writes of a sign-up (guards `User`, `Email`, `Space`, `Membership`): the profile,
    /// the e-mail lock, the personal space and its host membership, each new.
    pub(crate) fn sign_up_items(&self, user: &User, personal: &Space) -> Result<Vec<TransactWriteItem>, StoreError> {
        let user_item = to_item(
            user,
            &[(PK, keys::user(&user.user_id)), (SK, keys::PROFILE.to_owned()), (attrs::TYPE, "User".into())],
        )?;
        let email_item = HashMap::from([
            (PK.to_owned(), s(keys::email(&user.email))),
            (SK.to_owned(), s(keys::EMAIL)),
            (attrs::TYPE.to_owned(), s("EmailLock")),
            (attrs::USER_ID.to_owned(), s(user.user_id.to_string())),
        ]);
        let host = Membership {
            space_id: personal.space_id.clone(),
            user_id: user.user_id.clone(),
            role: Role::Host,
            personal: true,
            joined_at: personal.created_at.clone(),
        };
        let not_exists = Some("attribute_not_exists(PK)");
        Ok(vec![
            self.put(user_item, not_exists)?,
            self.put(email_item, not_exists)?,
            self.put(self.space_item(personal)?, not_exists)?,
            self.put(self.membership_item(&host)?, not_exists)?,
        ])
    }
}

#[async_trait]
impl UserStore for Table {
    async fn create_user(&self, user: &User, personal: &Space, google_sub: Option<&str>) -> Result<(), StoreError> {
        let mut items = self.sign_up_items(user, personal)?;
        if let Some(sub) = google_sub {
            let link = HashMap::from([
                (PK.to_owned(), s(keys::google(sub))),
                (SK.to_owned(), s(keys::GOOGLE)),
                (attrs::TYPE.to_owned(), s("GoogleLink")),
                (attrs::USER_ID.to_owned(), s(user.user_id.to_string())),
            ]);
            items.push(self.put(link, Some("attribute_not_exists(PK)"))?);
        }
        self.transact(items, &[Guard::User, Guard::Email, Guard::Space, Guard::Membership, Guard::Google]).await
    }

    async fn mark_deleting(&self, id: &UserId, mark: &str) -> Result<(), StoreError> {
        let req = self.client.update_item().table_name(&self.table).set_key(Some(key(keys::user(id), keys::PROFILE)));
        // With its entry in the marks' index: the sweep finds a deletion no worker finished.
        crate::deletions::Marked::Account(id)
            .indexed(Changes::new().set(attrs::DELETING, AttributeValue::Bool(true)).set(attrs::DELETION_MARK, s(mark)))
            .when("attribute_exists(PK)")
            .apply(req)
            .send()
            .await
            .map_err(conditional(Guard::User))?;
        Ok(())
    }

    async fn unmark_deleting(&self, id: &UserId, mark: &str) -> Result<(), StoreError> {
        let req = self.client.update_item().table_name(&self.table).set_key(Some(key(keys::user(id), keys::PROFILE)));
        let result = Changes::new()
            .remove(attrs::DELETING)
            .remove(attrs::DELETION_MARK)
            .remove(crate::table::GSI2PK)
            .remove(crate::table::GSI2SK)
            .when("#deletionMark = :mark")
            .bind(":mark", s(mark))
            .apply(req)
            .send()
            .await;
        // Marked again since (or gone): that deletion stands.
        condition_held(result).map(|_| ())
    }

    async fn delete_user(&self, user: &User) -> Result<(), StoreError> {
        let mut keys_to_delete =
            vec![key(keys::user(&user.user_id), keys::PROFILE), key(keys::email(&user.email), keys::EMAIL)];
        keys_to_delete.extend(PROVIDERS.iter().map(|p| key(keys::user(&user.user_id), keys::connection(*p))));
        if let Some(sub) = &user.google_sub {
            keys_to_delete.push(key(keys::google(sub), keys::GOOGLE));
        }
        // The institutional identities' locks (their entries under the user go with the rest).
        keys_to_delete.extend(crate::identities::locks_of(self, &user.user_id).await?);
        let items = keys_to_delete
            .into_iter()
            .map(|k| {
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(k))
                    .build()
                    .map(|d| TransactWriteItem::builder().delete(d).build())
                    .map_err(backend)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let guards = vec![Guard::Item; items.len()];
        self.transact(items, &guards).await?;
        // What else lives under the user (their daily budgets, their storage total) goes after
        // the identity; their notes went with their memberships and spaces before.
        let rest = self.query_keys(&keys::user(&user.user_id), None).await?;
        self.batch_delete(rest).await
    }

    async fn get_profile(&self, id: &UserId, day: &str) -> Result<Option<Profile>, StoreError> {
        let mut wanted = vec![
            key(keys::user(id), keys::PROFILE),
            key(keys::user(id), keys::budget(day)),
            key(keys::user(id), keys::STORAGE),
        ];
        wanted.extend(PROVIDERS.iter().map(|p| key(keys::user(id), keys::connection(*p))));
        let mut user = None;
        let mut connected = Vec::new();
        let mut usage = Usage::default();
        let count = |item: &Item, attr: &str| {
            item.get(attr).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok()).unwrap_or(0).max(0)
        };
        for item in self.batch_get(wanted, true).await? {
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if sk == keys::PROFILE {
                usage.hosted_spaces = count(&item, attrs::HOSTED_SPACES).unsigned_abs();
                user = Some(from_item::<User>(item)?);
            } else if sk == keys::budget(day) {
                usage.transcode_bytes_today = count(&item, attrs::TRANSCODE_BYTES).unsigned_abs();
                usage.transcode_minutes_today = count(&item, "transcodeMinutes").unsigned_abs();
                usage.transcribe_minutes_today = count(&item, "transcribeMinutes").unsigned_abs();
            } else if sk == keys::STORAGE {
                // Below 0 only by notes from before the quota given back (never charged).
                usage.storage_bytes = count(&item, attrs::BYTES).unsigned_abs();
            } else if let Some(p) = PROVIDERS.iter().find(|p| keys::connection(**p) == sk) {
                connected.push(*p);
            }
        }
        connected.sort_by_key(|p| p.as_str());
        Ok(user.map(|user| Profile { user, connected, usage }))
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user(id), keys::PROFILE)))
            .send()
            .await
            .map_err(backend)?;
        resp.item.map(from_item).transpose()
    }

    async fn get_users(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        let mut unique: Vec<&UserId> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique.into_iter().map(|id| key(keys::user(id), keys::PROFILE)).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::email(email), keys::EMAIL)))
            .send()
            .await
            .map_err(backend)?;
        let Some(user_id) = resp.item.as_ref().and_then(|i| i.get(attrs::USER_ID)).and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        let user_id: UserId = user_id.parse().map_err(backend)?;
        self.get_user(&user_id).await
    }
}
